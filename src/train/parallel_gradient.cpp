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
    const auto [lo, hi] = thread_part(begin, end, omp_get_thread_num(), nt);
    // One buffer at a time over blocks that stay in L1: the same additions in the same order
    // as a loop over the buffers per value, which the compiler did not vectorise (the 1 x 2
    // sum of mlp:256,128 took 0.12 ms).
    constexpr std::size_t kBlock = 1024;
    for (std::size_t b = lo; b < hi; b += kBlock) {
      const std::size_t m = std::min(kBlock, hi - b);
      float* __restrict out = grad + b;
      for (int u = 1; u < nt; ++u) {
        const float* __restrict theirs = (*others)[u - 1].data() + b;
        for (std::size_t i = 0; i < m; ++i) out[i] += theirs[i];
      }
    }
#pragma omp barrier
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
    if (ready) {
      ThreadSum sum;
      sum.grad = grad;
      sum.others = &grads_;
      sum.outer = ready;
      // Every thread announces every bucket (even with no rows), so the barriers match.
      stats_[t] = forward_backward(spec_, params, x + lo * d, y + lo * k, hi - lo, g, workspaces_[t], &sum);
    } else {
      // Nobody waits for buckets: one barrier, then one sum over the whole buffer (a barrier
      // per bucket costs most when the cores are shared and a thread is descheduled).
      stats_[t] = forward_backward(spec_, params, x + lo * d, y + lo * k, hi - lo, g, workspaces_[t]);
      ThreadSum sum;
      sum.grad = grad;
      sum.others = &grads_;
      sum.outer = nullptr;
      sum(0, spec_.num_params());
    }
  }
  BatchStats total;
  for (const auto& s : stats_) {
    total.loss += s.loss;
    total.correct += s.correct;
  }
  return total;
}

namespace {

// Per row, |g| < 2^19: a step of up to 2^12 rows (--batch 2048 plus the slack of a stratified
// batch) then stays inside int64 at 2^32 per unit. A block of `rows` rows may reach rows x that.
constexpr double kRowLimit = 524288.0;

// acc += g in fixed point; false if some value is not finite or beyond `limit` (then acc is
// garbage and the step is void). One vectorised pass.
// assign: acc = g instead (a thread's first block: no zeroing pass before it).
template <class T>
bool add_fixed(const T* g, std::int64_t n, double limit, std::int64_t* acc, bool assign = false) {
  constexpr double one = ParallelGradient::kFixedOne;
  const double bound = limit * one;
  int bad = 0;
  const std::int64_t keep = assign ? 0 : -1;  // acc & keep: acc, or 0
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(g[i]) * one;
    const bool fine = std::abs(v) < bound;  // false for NaN
    bad |= !fine;
    acc[i] = (acc[i] & keep) + static_cast<std::int64_t>(fine ? v : 0.0);
  }
  return bad == 0;
}

}  // namespace

BatchStats ParallelGradient::compute_fixed(const float* params, const FixedBlocks& blocks, std::int64_t* fixed) {
  const std::int64_t d = spec_.inputs(), k = spec_.label_cols(), m = FixedBlocks::kBlockRows;
  const auto n = static_cast<std::int64_t>(spec_.num_params());
  const int nt = threads_;
  if (fixed_.empty()) {
    for (int t = 0; t < nt; ++t) {
      fixed_.emplace_back(t == 0 ? 0 : n + 1);  // thread 0 sums into the caller's buffer
      block_x_.emplace_back(m * d);
      block_y_.emplace_back(m * k);
      block_grad_.emplace_back(n);
      block_workspaces_.emplace_back(spec_, m);
    }
  }
  const auto nb = static_cast<std::int64_t>(blocks.ends.size());
  std::vector<char> bad(nt, 0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    // Thread 0 sums straight into `fixed`, the others into their own buffers.
    std::int64_t* acc = t == 0 ? fixed : fixed_[t].data();
    if (t >= nb) std::fill(acc, acc + n + 1, 0);  // no block: every block below assigns first
    BatchStats mine;
    // Which thread takes a block does not matter: integer sums are exact.
    for (std::int64_t b = t; b < nb && !bad[t]; b += nt) {
      const std::int64_t lo = b == 0 ? 0 : blocks.ends[b - 1], rows = blocks.ends[b] - lo;
      // Copy into the same buffer every time: the arithmetic must not depend on alignment.
      for (std::int64_t r = 0; r < rows; ++r) {
        std::copy(blocks.x[lo + r], blocks.x[lo + r] + d, block_x_[t].begin() + r * d);
        std::copy(blocks.y[lo + r], blocks.y[lo + r] + k, block_y_[t].begin() + r * k);
      }
      const BatchStats s = forward_backward(spec_, params, block_x_[t].data(), block_y_[t].data(), rows,
                                            block_grad_[t].data(), block_workspaces_[t]);
      const double limit = kRowLimit * static_cast<double>(rows);
      const bool first = b < nt;
      if (!add_fixed(block_grad_[t].data(), n, limit, acc, first) || !add_fixed(&s.loss, 1, limit, acc + n, first))
        bad[t] = 1;
      mine.correct += s.correct;
    }
    stats_[t] = mine;
#pragma omp barrier
    if (nt > 1) {
#pragma omp for schedule(static)
      for (std::int64_t i = 0; i <= n; ++i) {
        std::int64_t s = fixed[i];
        for (int u = 1; u < nt; ++u) s += fixed_[u][i];
        fixed[i] = s;
      }
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
