#include "parallel_gradient.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "dptrain/error.hpp"

namespace dptrain {

ParallelGradient::ParallelGradient(const ModelSpec& spec, int threads, std::int64_t max_rows)
    : spec_(spec), threads_(threads), stats_(threads_) {
  const std::int64_t per_thread = (max_rows + threads_ - 1) / threads_ + 1;
  for (int t = 0; t < threads_; ++t) workspaces_.emplace_back(spec, per_thread);
  for (int t = 1; t < threads_; ++t) grads_.emplace_back(spec.num_params());
}

namespace {

// Inside the parallel region, on every thread: when a bucket is final in every thread's
// buffer, sum it into thread 0's buffer (the output) and tell the caller, on thread 0.
struct ThreadSum final : GradientReady {
  float* grad;
  const std::vector<AlignedVector<float>>* others;
  GradientReady* outer;
  void operator()(std::size_t begin, std::size_t end) override {
    const int nt = static_cast<int>(others->size()) + 1;
#pragma omp barrier
#pragma omp for schedule(static)
    for (std::size_t i = begin; i < end; ++i) {
      float s = grad[i];
      for (int u = 1; u < nt; ++u) s += (*others)[u - 1][i];
      grad[i] = s;
    }
#pragma omp master
    if (outer) (*outer)(begin, end);
  }
};

}  // namespace

BatchStats ParallelGradient::compute(const float* params, const float* x, const float* y,
                                     std::int64_t rows, float* grad, GradientReady* ready) {
  const std::int64_t d = spec_.inputs(), k = spec_.label_cols();
  const int nt = threads_;
  if (nt == 1) return forward_backward(spec_, params, x, y, rows, grad, workspaces_[0], ready);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const std::int64_t lo = rows * t / nt, hi = rows * (t + 1) / nt;
    float* g = t == 0 ? grad : grads_[t - 1].data();
    ThreadSum sum;
    sum.grad = grad;
    sum.others = &grads_;
    sum.outer = ready;
    // Every thread announces every bucket (even with no rows), so the barriers match.
    stats_[t] = forward_backward(spec_, params, x + lo * d, y + lo * k, hi - lo, g, workspaces_[t], &sum);
  }
  BatchStats total;
  for (const auto& s : stats_) {
    total.loss += s.loss;
    total.correct += s.correct;
  }
  return total;
}

BatchStats ParallelGradient::compute_fixed(const float* params, const float* x, const float* y,
                                           std::int64_t rows, std::int64_t* fixed) {
  const std::int64_t d = spec_.inputs(), k = spec_.label_cols();
  const auto n = static_cast<std::int64_t>(spec_.num_params());
  const int nt = threads_;
  if (fixed_.empty()) {
    for (int t = 0; t < nt; ++t) {
      fixed_.emplace_back(n + 1);
      row_x_.emplace_back(d);
      row_y_.emplace_back(k);
      row_grad_.emplace_back(n);
    }
  }
  // Per row, |g| < 2^19 keeps a batch of up to 2^12 rows (--batch 2048 plus the slack of a
  // stratified batch) inside int64 at 2^32 per unit.
  constexpr float kLimit = 524288.0f;
  std::vector<char> bad(nt, 0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    std::int64_t* acc = fixed_[t].data();
    std::fill(acc, acc + n + 1, 0);
    BatchStats mine;
    const std::int64_t lo = rows * t / nt, hi = rows * (t + 1) / nt;
    for (std::int64_t r = lo; r < hi && !bad[t]; ++r) {
      // Copy into the same buffer every time: the arithmetic must not depend on alignment.
      std::copy(x + r * d, x + (r + 1) * d, row_x_[t].begin());
      std::copy(y + r * k, y + (r + 1) * k, row_y_[t].begin());
      const BatchStats s = forward_backward(spec_, params, row_x_[t].data(), row_y_[t].data(), 1,
                                            row_grad_[t].data(), workspaces_[t]);
      const float* g = row_grad_[t].data();
      float largest = 0;
      for (std::int64_t i = 0; i < n; ++i) largest = std::max(largest, std::abs(g[i]));
      if (!(largest < kLimit) || !(std::abs(s.loss) < kLimit)) {
        bad[t] = 1;
        break;
      }
      for (std::int64_t i = 0; i < n; ++i)
        acc[i] += static_cast<std::int64_t>(static_cast<double>(g[i]) * kFixedOne);
      acc[n] += static_cast<std::int64_t>(s.loss * kFixedOne);
      mine.correct += s.correct;
    }
    stats_[t] = mine;
#pragma omp barrier
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i <= n; ++i) {
      std::int64_t s = 0;
      for (int u = 0; u < nt; ++u) s += fixed_[u][i];
      fixed[i] = s;
    }
  }
  BatchStats total;
  if (std::find(bad.begin(), bad.end(), 1) != bad.end()) {
    total.loss = NAN;  // the trainer treats this step as non-finite (--on-nan)
    return total;
  }
  for (const auto& s : stats_) total.correct += s.correct;
  total.loss = static_cast<double>(fixed[n]) / kFixedOne;
  return total;
}

}  // namespace dptrain
