#pragma once
// Writing converted rows as CSR (the anndata layout of csr.hpp, group /features) with a 1-D
// /labels vector, and choosing between the dense and the CSR layout (--layout).
#include <cstdint>
#include <string>
#include <vector>

#include "convert_input.hpp"
#include "dptrain/convert.hpp"
#include "dptrain/csr.hpp"

namespace dptrain {

// --layout auto writes CSR below this density (stored values / (rows x cols)). CSR costs
// 12 bytes a value (int64 index, float32 value) against 4 bytes a cell dense, and the sparse
// kernels skip the zeros; at 10% CSR is already 3x smaller on disk and faster to train.
constexpr double kSparseDensityThreshold = 0.10;

// "sparse" or "dense" for --layout dense|sparse|auto and the data's size. Refuses (DataError,
// with the size it would take) a dense layout larger than the free space in the output's folder.
std::string choose_layout(const ConvertOptions& o, std::int64_t rows, std::int64_t cols, std::int64_t nnz);

// "1.2 GB" for a byte count; "0.0012%" for a fraction.
std::string size_text(double bytes);
std::string percent_text(double fraction);

// Appends `block` to `csr` when it holds 2^20 values or more (bounding memory), and reports progress.
void flush_full_block(CsrWriter& csr, CsrRows& block, const ConvertOptions& o, const LineReader& in);
// Appends the last block and finishes the group; throws DataError when no row was written.
void finish_blocks(CsrWriter& csr, CsrRows& block, const ConvertOptions& o, std::int64_t cols);

// Collects labels; writes /labels as int64 (every label an integer, or --label-type int) or float32.
class LabelColumn {
 public:
  void add(double label) { values_.push_back(label); }
  std::string write(H5Writer& writer, const std::string& label_type) const;

 private:
  std::vector<double> values_;
};

}  // namespace dptrain
