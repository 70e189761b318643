#pragma once
// Splits a rank's part of a minibatch across OpenMP threads. Each thread computes the
// gradient of its contiguous slice into its own buffer; the buffers are then summed in
// thread order, so the result does not depend on scheduling.
#include <vector>

#include "dptrain/model.hpp"

namespace dptrain {

class ParallelGradient {
 public:
  ParallelGradient(const ModelSpec& spec, int threads, std::int64_t max_rows);
  // Sum over `rows` rows of the loss gradient, written to `grad` (num_params values).
  BatchStats compute(const float* params, const float* x, const float* y, std::int64_t rows,
                     float* grad);
  int threads() const { return threads_; }

 private:
  ModelSpec spec_;
  int threads_;
  std::vector<Workspace<float>> workspaces_;
  std::vector<std::vector<float>> grads_;  // threads 1..T-1; thread 0 writes into the output
  std::vector<BatchStats> stats_;
};

}  // namespace dptrain
