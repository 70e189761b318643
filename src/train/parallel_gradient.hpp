#pragma once
// Splits a rank's part of a minibatch across OpenMP threads. Each thread computes the
// gradient of its contiguous slice into its own buffer; the buffers are then summed in
// thread order, so the result does not depend on scheduling.
#include <cstdint>
#include <vector>

#include "dptrain/model.hpp"

namespace dptrain {

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

  // --deterministic: each row's gradient is computed on its own (so it depends only on the
  // row and the parameters), converted to fixed point (kFixedOne units) and summed as
  // integers. Integer sums are exact, so the total is bitwise the same however the rows are
  // split over threads and ranks. `fixed` receives num_params gradient sums followed by the
  // loss sum, all in fixed point. A non-finite or huge row gradient (which fixed point cannot
  // hold) makes the returned loss NaN.
  static constexpr double kFixedOne = 4294967296.0;  // 2^32
  BatchStats compute_fixed(const float* params, const float* x, const float* y, std::int64_t rows,
                           std::int64_t* fixed);

 private:
  ModelSpec spec_;
  int threads_;
  std::vector<Workspace<float>> workspaces_;
  std::vector<AlignedVector<float>> grads_;  // threads 1..T-1; thread 0 writes into the output
  std::vector<BatchStats> stats_;
  // compute_fixed only: per-thread integer sums and one-row buffers.
  std::vector<std::vector<std::int64_t>> fixed_;
  std::vector<AlignedVector<float>> row_x_, row_y_, row_grad_;
};

}  // namespace dptrain
