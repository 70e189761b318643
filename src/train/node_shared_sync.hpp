#pragma once
// --exchange node-shm: the step's exchange through the node's shared memory instead of MPI
// (NodeSharedReduce). Backprop writes each rank's gradient straight into its shared buffer.
// After a node barrier, rank r sums part r of every rank's gradient in rank order and updates
// part r of the parameters (and of the optimizer state, as --shard-update does); after a second
// barrier every rank has the new parameters: large models keep them once for the node, in
// shared memory every rank reads them from and each rank updates its part of in place; small
// ones keep a copy per rank, and each rank publishes its part and copies the others'. Per
// step: two barriers of the node's ranks (three with --clip-norm or --on-nan skip-step, which
// need the norm or every part known finite before any update), no MPI call. With --deterministic the
// same, with the fixed-point gradient summed as integers (the blocks' plan keeps its small MPI
// allreduce). Only when every rank runs on one node; otherwise (or when the shared windows
// cannot be made) the MPI path is used (the reason is logged).
#include <cstddef>
#include <memory>

#include "gradient_sync.hpp"

namespace dptrain {

// Whether this run asks for the node exchange: --exchange node-shm, or auto where it was
// measured to win (BENCHMARKS.md, "Node shared-memory exchange"); never with one rank,
// --sync params, --shard-update on, or --deterministic with --clip-norm.
bool node_exchange_wanted(const TrainConfig& config, int ranks);

// A collective: the node exchange when wanted and available, else nullptr (use the MPI path).
// block_order: as make_gradient_sync's.
std::unique_ptr<GradientSync> make_node_shared_sync(const TrainConfig& config, Communicator& comm,
                                                    const ModelSpec& spec, Timeline& timeline, bool block_order);

}  // namespace dptrain
