// Process-wide defaults that dptrain sets for itself at start, each only where the user has
// not chosen, so that the default environment performs like a tuned one (README, "Performance
// defaults"; BENCHMARKS.md has the measurements).
//
// - malloc: glibc's dynamic mmap threshold returns large freed blocks to the system and trims
//   the heap top above twice that threshold, so Eigen's GEMM packing blocks (hundreds of KB to
//   MB per product) were unmapped and page-faulted back in on every product: 3.8x slower on a
//   4096-wide MLP. Blocks below 32 MB now stay on the heap and up to 256 MB of free heap top is
//   kept. Skipped where MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ are set (glibc applies
//   those) or DPTRAIN_SYSTEM_MALLOC=1 (glibc's own defaults, for comparison).
// - OpenMP waiting: libgomp lets an idle thread spin 300,000 times before it sleeps (a few
//   milliseconds), which on a shared core burns the time slice that the thread it waits for
//   needs. Unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set, dptrain uses GOMP_SPINCOUNT=10000
//   (tens to a few hundred microseconds, then a futex sleep). libgomp reads its environment
//   when it loads, before main(), so dptrain sets the variable and executes itself again, once.
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "commands.hpp"

namespace dptrain::cli {
namespace {

bool set(const char* name) { return std::getenv(name) != nullptr; }

}  // namespace

void apply_runtime_defaults(char** argv) {
  const char* system_malloc = std::getenv("DPTRAIN_SYSTEM_MALLOC");
  if (!(system_malloc && std::strcmp(system_malloc, "1") == 0)) {
    if (!set("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 32 << 20);
    if (!set("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 256 << 20);
  }
  if (!set("OMP_WAIT_POLICY") && !set("GOMP_SPINCOUNT")) {
    setenv("GOMP_SPINCOUNT", "10000", 0);
    execv("/proc/self/exe", argv);  // returns only on failure: then run with libgomp's defaults
  }
}

}  // namespace dptrain::cli
