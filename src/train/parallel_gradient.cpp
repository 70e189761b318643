#include "parallel_gradient.hpp"

#include <omp.h>

namespace dptrain {

ParallelGradient::ParallelGradient(const ModelSpec& spec, int threads, std::int64_t max_rows)
    : spec_(spec), threads_(std::max(1, threads)), stats_(threads_) {
  const std::int64_t per_thread = (max_rows + threads_ - 1) / threads_ + 1;
  for (int t = 0; t < threads_; ++t) workspaces_.emplace_back(spec, per_thread);
  for (int t = 1; t < threads_; ++t) grads_.emplace_back(spec.num_params());
}

BatchStats ParallelGradient::compute(const float* params, const float* x, const float* y,
                                     std::int64_t rows, float* grad) {
  const std::int64_t d = spec_.inputs(), k = spec_.label_cols();
  const auto n = static_cast<std::int64_t>(spec_.num_params());
  const int nt = threads_;
  if (nt == 1) return forward_backward(spec_, params, x, y, rows, grad, workspaces_[0]);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const std::int64_t lo = rows * t / nt, hi = rows * (t + 1) / nt;
    float* g = t == 0 ? grad : grads_[t - 1].data();
    stats_[t] = forward_backward(spec_, params, x + lo * d, y + lo * k, hi - lo, g, workspaces_[t]);
#pragma omp barrier
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) {
      float s = grad[i];
      for (int u = 1; u < nt; ++u) s += grads_[u - 1][i];
      grad[i] = s;
    }
  }
  BatchStats total;
  for (const auto& s : stats_) {
    total.loss += s.loss;
    total.correct += s.correct;
  }
  return total;
}

}  // namespace dptrain
