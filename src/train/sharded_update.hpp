#pragma once
// --shard-update (ZeRO-1 style): the gradient is reduce-scattered, each rank updates only its
// part of the parameters (and of the optimizer state), and the parameters are allgathered
// after the update. Every rank still holds all parameters; the optimizer state outside a
// rank's part is stale until gather_state() brings it in (before a checkpoint is written).
#include <cstddef>
#include <memory>
#include <vector>

#include "gradient_sync.hpp"

namespace dptrain {

// Whether this run shards the update: --shard-update on, or auto where it was measured to win
// (BENCHMARKS.md, "Sharded update"); never with one rank, --deterministic or --sync params.
bool shard_update_enabled(const TrainConfig& config, int ranks, std::size_t num_params);

// The same for CSR input, where each rank owns a range of input columns
// (sparse_gradient_sync.cpp): auto is on there for AdaGrad and SGD (BENCHMARKS.md, "Sparse
// data and text"); --shard-update on with another optimizer throws ConfigError.
bool sparse_shard_update_enabled(const TrainConfig& config, int ranks);

// Consecutive parts of [0, n), one per rank, each starting on a 64-byte boundary.
std::vector<std::size_t> rank_parts(std::size_t n, int ranks);

std::unique_ptr<GradientSync> make_sharded_update_sync(const TrainConfig& config, Communicator& comm,
                                                       std::size_t num_params, Timeline& timeline);

}  // namespace dptrain
