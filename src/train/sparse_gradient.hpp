#pragma once
// A rank's gradient of a CSR batch over OpenMP threads, kept compact: the input columns the
// batch touches (sorted), the first layer's weight gradient for those columns only
// (columns x out values, column-major like the parameters), then the tail (sparse_model.hpp).
// Every thread uses the same column slots; their buffers are summed in thread order.
#include <cstdint>
#include <span>
#include <vector>

#include "dptrain/csr.hpp"
#include "dptrain/sparse_model.hpp"

namespace dptrain {

class SparseGradient {
 public:
  SparseGradient(const ModelSpec& spec, int threads, std::int64_t max_rows);
  // Sum over the rows of `x` of the loss gradient: columns() and values().
  BatchStats compute(const float* params, const CsrView& x, const float* y);
  // --deterministic: each row's gradient on its own, in fixed point (ParallelGradient::kFixedOne
  // units), summed as integers: fixed() holds the compact values then the loss. A row gradient
  // fixed point cannot hold makes the returned loss NaN.
  BatchStats compute_fixed(const float* params, const CsrView& x, const float* y);

  const std::vector<std::int32_t>& columns() const { return columns_; }
  std::span<const float> values() const { return {sums_[0].data(), compact_size()}; }
  std::span<const std::int64_t> fixed() const { return {fixed_[0].data(), compact_size() + 1}; }
  std::int64_t width() const { return spec_.widths[1]; }
  std::size_t compact_size() const { return columns_.size() * static_cast<std::size_t>(width()) + tail_; }

 private:
  void find_columns(const CsrView& x);
  ModelSpec spec_;
  int threads_;
  std::size_t tail_;
  std::vector<Workspace<float>> workspaces_;
  // The batch's columns as a bitmap (one bit per input column, 2^20 columns: 128 KB, so it
  // stays in cache where a sort of the entries or a table per column would not), then each
  // entry's slot: the set bits before its column.
  std::vector<std::uint64_t> bits_;
  std::vector<std::int32_t> bits_before_;  // per bitmap word: set bits in the words before it
  std::vector<std::int32_t> entry_slot_;   // per stored entry of the batch: its column's position in columns_
  std::vector<std::int32_t> columns_;
  std::vector<std::vector<float>> sums_;  // per thread: compact values
  std::vector<std::vector<std::int64_t>> fixed_;
  std::vector<BatchStats> stats_;
};

}  // namespace dptrain
