#pragma once
// The run layout report printed by rank 0 at start: where every rank runs (host, CPUs it may
// use), how many threads it starts, which rows it holds, and the batch split. Wrong binding
// (e.g. mpirun's default one-core binding with --threads 2) and oversubscription are the most
// common reasons for a slow run; the report warns about both.
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/communicator.hpp"
#include "dptrain/shard.hpp"

namespace dptrain {

// What one rank knows about itself.
struct RankPlacement {
  int rank = 0;
  std::string host;
  std::vector<int> cpus;   // the CPUs this process may run on (sched_getaffinity)
  int host_cpus = 0;       // online CPUs on the host
  int threads = 1;
  ShardRange shard;        // training rows held by this rank
};

// This process's placement: gethostname, sched_getaffinity, sysconf(_SC_NPROCESSORS_ONLN).
RankPlacement describe_this_rank(int rank, int threads, ShardRange shard);

// Text form for Communicator::allgather, and back.
std::string encode_placement(const RankPlacement& p);
RankPlacement decode_placement(const std::string& text);

// "0-3,8,10-11".
std::string format_cpu_list(const std::vector<int>& cpus);

struct RunLayout {
  std::vector<RankPlacement> ranks;  // in rank order
  std::int64_t rows = 0;             // rows the shards cut (all rows of the data, held-out ones too)
  std::int64_t global_batch = 0;
  // The block order (streamed data, --order block) deals blocks to ranks by position, so a rank's
  // rows are about its shard's count but not that range of the file.
  bool dealt_blocks = false;
};

// Every rank calls this (one allgather); every rank gets the whole layout.
RunLayout gather_run_layout(Communicator& comm, const RankPlacement& mine, std::int64_t rows,
                            std::int64_t global_batch);

// The report's lines (without the "dptrain: " prefix).
std::vector<std::string> format_run_layout(const RunLayout& layout);

// Oversubscription and binding warnings: a host whose ranks start more threads than the CPUs
// they may use together, and a rank with more threads than the CPUs it is bound to.
std::vector<std::string> run_layout_warnings(const RunLayout& layout);

// What the trainer calls on every rank once the shards are loaded: gathers the layout and
// logs it (info) and the warnings (warn) on rank 0; each rank logs its own line at debug.
struct RunLayoutInputs {
  int threads = 1;
  ShardRange shard;
  std::int64_t rows = 0;
  std::int64_t global_batch = 0;
  bool dealt_blocks = false;  // RunLayout::dealt_blocks
};
void report_run_layout(Communicator& comm, const RunLayoutInputs& inputs);

}  // namespace dptrain
