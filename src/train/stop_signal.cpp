#include "dptrain/stop_signal.hpp"

#include <omp.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <vector>

namespace dptrain {
namespace {

constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGUSR1};

volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_interrupts = 0;

extern "C" void on_stop_signal(int sig) {
  if (sig == SIGINT) g_interrupts = g_interrupts + 1;  // C++20 deprecates ++ on a volatile
  if (sig == SIGINT && g_interrupts >= 2) {
    static const char msg[] = "dptrain: second interrupt, stopping at once\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(kExitSecondInterrupt);
  }
  if (g_signal == 0) g_signal = sig;
}

// The handler runs on a stack of its own: the kernel writes a signal's frame below the
// interrupted code's stack pointer, and oneDNN's JIT sgemm kernels keep data there (a SIGUSR1
// in a product corrupted the heap: 2 of 30 runs of mlp:128,128 2x1 crashed in free() inside
// dnnl_sgemm; none of 60 with this stack).
void use_alternate_signal_stack() {
  static std::vector<char> stack(std::max<std::size_t>(SIGSTKSZ, 64 * 1024));
  stack_t alternate{};
  alternate.ss_sp = stack.data();
  alternate.ss_size = stack.size();
  sigaltstack(&alternate, nullptr);
}

}  // namespace

void StopSignal::install() {
  use_alternate_signal_stack();
  struct sigaction action{};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | SA_ONSTACK;
  for (int sig : kStopSignals) sigaction(sig, &action, nullptr);
}

// A signal that arrives while they are blocked here waits, and is taken when they are not.
void StopSignal::keep_off_worker_threads(int threads) {
  sigset_t stops, before;
  sigemptyset(&stops);
  for (int sig : kStopSignals) sigaddset(&stops, sig);
  pthread_sigmask(SIG_BLOCK, &stops, &before);
  std::atomic<int> started{0};  // an empty region would be optimised away, starting nothing
#pragma omp parallel num_threads(std::max(threads, omp_get_max_threads()))
  started.fetch_add(1, std::memory_order_relaxed);
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

bool StopSignal::requested() { return g_signal != 0; }
int StopSignal::signal_number() { return g_signal; }
void StopSignal::clear() {
  g_signal = 0;
  g_interrupts = 0;
}

}  // namespace dptrain
