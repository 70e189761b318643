#include "dptrain/memory_budget.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "dptrain/error.hpp"

namespace dptrain {

StreamMode parse_stream_mode(const std::string& text) {
  if (text == "auto") return StreamMode::automatic;
  if (text == "on") return StreamMode::on;
  if (text == "off") return StreamMode::off;
  throw ConfigError("--stream '" + text + "': expected auto, on or off");
}

int local_rank_count(int world) {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    const char* value = std::getenv(name);
    if (value && std::atoi(value) > 0) return std::atoi(value);
  }
  return world;
}

std::int64_t memory_budget_bytes(double megabytes, int local_ranks) {
  if (megabytes > 0) return static_cast<std::int64_t>(megabytes * 1024 * 1024);
  const double ram = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
  return static_cast<std::int64_t>(0.5 * ram / std::max(1, local_ranks));
}

std::string mebibytes(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return text;
}

}  // namespace dptrain

namespace dptrain {

std::int64_t capped_block_rows(std::int64_t block_rows, std::int64_t row_bytes, double megabytes, int world) {
  const std::int64_t budget = memory_budget_bytes(megabytes, local_rank_count(world));
  return std::clamp<std::int64_t>(budget / 8 / std::max<std::int64_t>(1, row_bytes), 1, block_rows);
}

}  // namespace dptrain
