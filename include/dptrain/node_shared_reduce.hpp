#pragma once
// Sums over the ranks of one node through shared memory (NodeSharedMemory), without an MPI
// call per step. Every rank owns a buffer that it writes and every rank reads, a published
// area for results it hands to the others, and a few doubles. barrier() orders the phases:
// after it, every rank sees what every rank wrote before it. Sums run in rank order
// (buffer 0 + buffer 1 + ...), so the result does not depend on timing, and one rank's sum of
// a part is the only copy of it: every rank that reads it reads the same bits.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "dptrain/node_shared_memory.hpp"

namespace dptrain {

class NodeSharedReduce {
 public:
  static constexpr int kScalars = 8;
  // The shared bytes each rank needs for a buffer of `values` floats and `published` floats.
  static std::size_t bytes_per_rank(std::size_t values, std::size_t published);
  // `memory` must have bytes_per_rank(values, published) per rank (still zero).
  NodeSharedReduce(std::unique_ptr<NodeSharedMemory> memory, std::size_t values, std::size_t published);

  int rank() const { return rank_; }
  int size() const { return size_; }
  std::span<float> buffer(int r) const { return {reinterpret_cast<float*>(memory_->region(r) + kHeader), values_}; }
  // The same bytes as 64-bit integers (--deterministic's fixed point): values / 2 of them.
  std::span<std::int64_t> fixed_buffer(int r) const {
    return {reinterpret_cast<std::int64_t*>(memory_->region(r) + kHeader), values_ / 2};
  }
  std::span<float> published(int r) const {
    return {reinterpret_cast<float*>(memory_->region(r) + kHeader) + padded(values_), published_};
  }
  double* scalars(int r) const { return reinterpret_cast<double*>(memory_->region(r) + kCounterBytes); }

  // Waits until every rank of the node has arrived at this barrier (the n-th call of each
  // rank meets the n-th call of the others). Spins, then yields, then sleeps (WaitBackoff);
  // past the stall timeout the lowest waiting rank names the missing ones, and the job ends
  // with the stall exit code. `phase` names the wait in that report.
  void barrier(const char* phase);
  // out[i] = buffer(0)[begin + i] + buffer(1)[begin + i] + ... in rank order, for i in
  // [0, end - begin). `out` may be this rank's buffer at `begin` (a sum in place). Returns the
  // sums' sum of squares (in double) when `squares`, else 0, or NaN if some sum is not finite:
  // checked while each block of sums is still in L1, instead of in a second pass.
  double sum(std::size_t begin, std::size_t end, float* out, bool squares = false) const;
  // The same sums handed to `use(lo, sums)` block by block (sums[i] is the sum at lo + i), for
  // a caller that consumes each block while it is in L1 (the node exchange's update) instead
  // of storing it. Returns what sum() returns.
  double sum_blocks(std::size_t begin, std::size_t end, bool squares,
                    const std::function<void(std::size_t, std::span<float>)>& use) const;
  // The same over fixed_buffer(), exact (integer sums do not depend on their order), each sum
  // converted to float as sum * unit.
  void sum_fixed(std::size_t begin, std::size_t end, double unit, float* out) const;

 private:
  static constexpr std::size_t kCounterBytes = 64;  // the barrier counter, on its own cache line
  static constexpr std::size_t kHeader = kCounterBytes + kScalars * sizeof(double);
  static std::size_t padded(std::size_t floats) { return (floats + 15) / 16 * 16; }
  std::uint64_t* counter(int r) const { return reinterpret_cast<std::uint64_t*>(memory_->region(r)); }
  [[noreturn]] void report_stall(const char* phase, double waited) const;

  std::unique_ptr<NodeSharedMemory> memory_;
  std::size_t values_, published_;
  int rank_, size_;
  std::uint64_t generation_ = 0;
};

}  // namespace dptrain
