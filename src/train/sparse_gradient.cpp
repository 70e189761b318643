#include "sparse_gradient.hpp"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "parallel_gradient.hpp"

namespace dptrain {

SparseGradient::SparseGradient(const ModelSpec& spec, int threads, std::int64_t max_rows)
    : spec_(spec),
      threads_(threads),
      tail_(sparse_tail_size(spec)),
      bits_(static_cast<std::size_t>((spec.inputs() + 63) / 64), 0),
      bits_before_(bits_.size()),
      sums_(threads),
      fixed_(threads),
      stats_(threads) {
  const std::int64_t per_thread = (max_rows + threads - 1) / threads + 1;
  for (int t = 0; t < threads; ++t) workspaces_.emplace_back(spec, per_thread);
}

void SparseGradient::find_columns(const CsrView& x) {
  const std::int64_t begin = x.indptr[0], end = x.indptr[x.rows];
  for (std::int64_t k = begin; k < end; ++k) {
    const auto c = static_cast<std::uint32_t>(x.indices[k]);
    bits_[c >> 6] |= std::uint64_t{1} << (c & 63);
  }
  // The set bits in order are the sorted, distinct columns.
  columns_.clear();
  std::int32_t before = 0;
  for (std::size_t w = 0; w < bits_.size(); ++w) {
    bits_before_[w] = before;
    for (std::uint64_t b = bits_[w]; b != 0; b &= b - 1)
      columns_.push_back(static_cast<std::int32_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(b))));
    before += std::popcount(bits_[w]);
  }
  entry_slot_.resize(static_cast<std::size_t>(end));
  for (std::int64_t k = begin; k < end; ++k) {
    const auto c = static_cast<std::uint32_t>(x.indices[k]);
    const std::uint64_t below = (std::uint64_t{1} << (c & 63)) - 1;
    entry_slot_[static_cast<std::size_t>(k)] = bits_before_[c >> 6] + std::popcount(bits_[c >> 6] & below);
  }
  for (const std::int32_t c : columns_) bits_[static_cast<std::size_t>(c) >> 6] = 0;
}

BatchStats SparseGradient::compute(const float* params, const CsrView& x, const float* y) {
  find_columns(x);
  const std::size_t n = compact_size(), head = n - tail_;
  const std::int64_t k = spec_.label_cols();
  const int nt = threads_;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    std::vector<float>& g = sums_[static_cast<std::size_t>(t)];
    g.resize(n);
    std::fill(g.begin(), g.begin() + static_cast<std::ptrdiff_t>(head), 0.0f);
    const std::int64_t lo = x.rows * t / nt, hi = x.rows * (t + 1) / nt;
    stats_[static_cast<std::size_t>(t)] = sparse_forward_backward(
        spec_, params, x.slice(lo, hi), y + lo * k, entry_slot_.data(), g.data(), g.data() + head, workspaces_[t]);
#pragma omp barrier
#pragma omp for schedule(static)
    for (std::size_t i = 0; i < n; ++i) {
      float s = sums_[0][i];
      for (int u = 1; u < nt; ++u) s += sums_[static_cast<std::size_t>(u)][i];
      sums_[0][i] = s;
    }
  }
  BatchStats total;
  for (const auto& s : stats_) total.loss += s.loss, total.correct += s.correct;
  return total;
}

BatchStats SparseGradient::compute_fixed(const float* params, const CsrView& x, const float* y) {
  find_columns(x);
  const std::size_t n = compact_size(), head = n - tail_;
  const std::int64_t k = spec_.label_cols(), out = width();
  const int nt = threads_;
  constexpr double kOne = ParallelGradient::kFixedOne;
  constexpr float kLimit = 524288.0f;  // as ParallelGradient::compute_fixed
  std::vector<char> bad(static_cast<std::size_t>(nt), 0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    std::vector<float>& g = sums_[static_cast<std::size_t>(t)];  // one row's gradient
    std::vector<std::int64_t>& acc = fixed_[static_cast<std::size_t>(t)];
    g.assign(n, 0.0f);
    acc.assign(n + 1, 0);
    BatchStats mine;
    const auto add = [&](std::size_t i) {
      const float v = g[i];
      g[i] = 0.0f;  // ready for the next row (and a repeated column adds nothing twice)
      if (!(std::abs(v) < kLimit)) bad[static_cast<std::size_t>(t)] = 1;
      acc[i] += static_cast<std::int64_t>(static_cast<double>(v) * kOne);
    };
    const std::int64_t lo = x.rows * t / nt, hi = x.rows * (t + 1) / nt;
    for (std::int64_t r = lo; r < hi && !bad[static_cast<std::size_t>(t)]; ++r) {
      const CsrView row = x.slice(r, r + 1);
      const BatchStats s = sparse_forward_backward(spec_, params, row, y + r * k, entry_slot_.data(), g.data(),
                                                   g.data() + head, workspaces_[t]);
      for (std::int64_t e = row.indptr[0]; e < row.indptr[1]; ++e)
        for (std::int64_t o = 0; o < out; ++o) add(static_cast<std::size_t>(entry_slot_[static_cast<std::size_t>(e)] * out + o));
      for (std::size_t i = head; i < n; ++i) add(i);
      if (!(std::abs(s.loss) < kLimit)) bad[static_cast<std::size_t>(t)] = 1;
      acc[n] += static_cast<std::int64_t>(s.loss * kOne);
      mine.correct += s.correct;
    }
    stats_[static_cast<std::size_t>(t)] = mine;
#pragma omp barrier
#pragma omp for schedule(static)
    for (std::size_t i = 0; i <= n; ++i) {
      std::int64_t s = 0;
      for (int u = 0; u < nt; ++u) s += fixed_[static_cast<std::size_t>(u)][i];
      fixed_[0][i] = s;  // thread 0's own sum is read before any thread writes past i
    }
  }
  BatchStats total;
  if (std::find(bad.begin(), bad.end(), 1) != bad.end()) {
    total.loss = NAN;
    return total;
  }
  for (const auto& s : stats_) total.correct += s.correct;
  total.loss = static_cast<double>(fixed_[0][n]) / kOne;
  return total;
}

}  // namespace dptrain
