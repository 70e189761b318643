// Scorer on CSR rows: the same fixed blocks and block-order sums as the dense path
// (scorer.cpp), with the sparse first layer.
#include <omp.h>

#include <algorithm>

#include "dptrain/scorer.hpp"
#include "dptrain/sparse_model.hpp"

namespace dptrain {

void Scorer::score(const CsrView& x, float* outputs) {
  const std::int64_t blocks = (x.rows + block_rows_ - 1) / block_rows_, k = spec_.outputs();
#pragma omp parallel for num_threads(threads_) schedule(dynamic)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t lo = b * block_rows_, hi = std::min(x.rows, lo + block_rows_);
    sparse_forward<float>(spec_, params_.data(), x.slice(lo, hi), nullptr,
                          workspaces_[static_cast<std::size_t>(omp_get_thread_num())], outputs + lo * k);
  }
}

MetricSums Scorer::evaluate(const CsrView& x, const float* labels, float* outputs) {
  const std::int64_t blocks = (x.rows + block_rows_ - 1) / block_rows_;
  const std::int64_t k = spec_.outputs(), l = spec_.label_cols();
  std::vector<MetricSums> per_block(static_cast<std::size_t>(blocks), MetricSums(spec_));
#pragma omp parallel for num_threads(threads_) schedule(dynamic)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t lo = b * block_rows_, hi = std::min(x.rows, lo + block_rows_);
    const BatchStats stats =
        sparse_forward<float>(spec_, params_.data(), x.slice(lo, hi), labels + lo * l,
                              workspaces_[static_cast<std::size_t>(omp_get_thread_num())], outputs + lo * k);
    per_block[static_cast<std::size_t>(b)].add_rows(spec_, outputs + lo * k, labels + lo * l, hi - lo, stats.loss);
  }
  MetricSums total(spec_);
  for (const auto& s : per_block) total.add(s);
  return total;
}

void Scorer::score(const Shard& block, float* outputs) {
  if (block.sparse())
    score(block.csr.view(), outputs);
  else
    score(block.features.data(), block.rows(), outputs);
}

MetricSums Scorer::evaluate(const Shard& block, float* outputs) {
  if (block.sparse()) return evaluate(block.csr.view(), block.labels.data(), outputs);
  return evaluate(block.features.data(), block.labels.data(), block.rows(), outputs);
}

}  // namespace dptrain
