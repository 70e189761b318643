#pragma once
// Splits a rank's part of a minibatch across OpenMP threads. Each thread computes the
// gradient of its contiguous slice into its own buffer; the buffers are then summed in
// thread order, so the result does not depend on scheduling.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "dptrain/model.hpp"

namespace dptrain {

// --deterministic: the rows a rank computes, as fixed micro-blocks of at most kBlockRows rows
// whose composition does not depend on the rank or thread count (DeterministicBlocks plans
// them). x[i] and y[i] point at row i's features and labels; block b is rows
// [ends[b-1], ends[b]).
struct FixedBlocks {
  static constexpr std::int64_t kBlockRows = 64;
  std::vector<const float*> x, y;
  std::vector<std::int64_t> ends;
  void clear() {
    x.clear();
    y.clear();
    ends.clear();
  }
};

// Thread t's share of [begin, end) when `threads` threads split it: contiguous, in thread order,
// with inner boundaries on 16-value (64-byte) lines so that no two threads write one line. The
// thread sum and the update (parallel_update.hpp) split the same way, so a thread updates the
// values it summed, in its own core's cache.
inline std::pair<std::size_t, std::size_t> thread_part(std::size_t begin, std::size_t end, int t, int threads) {
  const std::size_t per = (end - begin + static_cast<std::size_t>(threads) - 1) / static_cast<std::size_t>(threads);
  const auto boundary = [&](int k) -> std::size_t {
    if (k == 0) return begin;
    if (k >= threads) return end;
    return std::min(end, (begin + static_cast<std::size_t>(k) * per + 15) / 16 * 16);
  };
  return {boundary(t), boundary(t + 1)};
}

class ParallelGradient {
 public:
  ParallelGradient(const ModelSpec& spec, int threads, std::int64_t max_rows);
  // Sum over `rows` rows of the loss gradient, written to `grad` (num_params values). If
  // `ready` is given, it is called on the calling thread each time a bucket of `grad`
  // (gradient_buckets order) holds the sum over all threads.
  BatchStats compute(const float* params, const float* x, const float* y, std::int64_t rows,
                     float* grad, GradientReady* ready = nullptr);
  int threads() const { return threads_; }
  // --class-weight: one loss weight per class for every thread's workspace.
  void set_class_weights(const std::vector<float>& weights) {
    for (auto& ws : workspaces_) ws.class_weights = weights;
  }

  // --deterministic: the gradient of each fixed micro-block of rows (FixedBlocks) by the same
  // GEMMs as compute(), on a copy of the block in the same buffer, so it depends only on the
  // block's rows and the parameters; converted to fixed point (kFixedOne units) per block and
  // summed as integers. Integer sums are exact, so the total is bitwise the same however the
  // blocks are spread over threads and ranks. `fixed` receives num_params gradient sums
  // followed by the loss sum, all in fixed point. A non-finite or huge block gradient (which
  // fixed point cannot hold) makes the returned loss NaN.
  static constexpr double kFixedOne = 4294967296.0;  // 2^32
  BatchStats compute_fixed(const float* params, const FixedBlocks& blocks, std::int64_t* fixed);

 private:
  ModelSpec spec_;
  int threads_;
  std::vector<Workspace<float>> workspaces_;
  std::vector<AlignedVector<float>> grads_;  // threads 1..T-1; thread 0 writes into the output
  std::vector<BatchStats> stats_;
  // compute_fixed only: per-thread integer sums, block buffers and workspaces.
  std::vector<std::vector<std::int64_t>> fixed_;
  std::vector<AlignedVector<float>> block_x_, block_y_, block_grad_;
  std::vector<Workspace<float>> block_workspaces_;
};

}  // namespace dptrain
