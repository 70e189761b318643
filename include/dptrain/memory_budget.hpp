#pragma once
// --memory-budget MB and --stream auto|on|off: how much data a rank may hold, and whether it
// streams its rows from disk instead of loading its shard. The default budget is half of the
// node's RAM shared by the ranks on the node (Open MPI, MPICH and Slurm say how many).
#include <cstdint>
#include <string>

namespace dptrain {

enum class StreamMode { automatic, on, off };

StreamMode parse_stream_mode(const std::string& text);  // throws ConfigError naming --stream

// The ranks on this node, from the launcher's environment; `world` when it does not say.
int local_rank_count(int world);

// Bytes: `megabytes` (MiB) when > 0, else half of the physical memory / local ranks.
std::int64_t memory_budget_bytes(double megabytes, int local_ranks);

// Whether data of `bytes` streams under `mode` and a budget of `budget` bytes.
inline bool streams(StreamMode mode, std::int64_t bytes, std::int64_t budget) {
  return mode == StreamMode::on || (mode == StreamMode::automatic && bytes > budget);
}

// eval and predict: `block_rows`, or fewer so that a block of `row_bytes`-byte rows takes at
// most an eighth of the budget (`megabytes`, 0: the default for `world` ranks).
std::int64_t capped_block_rows(std::int64_t block_rows, std::int64_t row_bytes, double megabytes, int world);

// "12.5 MiB"
std::string mebibytes(double bytes);

}  // namespace dptrain
