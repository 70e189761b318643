#pragma once
// Sparse rows in CSR form, and the anndata layout that stores them in HDF5: a group holding
// `data` (the non-zero values), `indices` (the column of each value) and `indptr` (rows + 1
// offsets into both), with the attributes encoding-type = "csr_matrix",
// encoding-version = "0.1.0" and shape = [rows, cols] (what anndata and scipy write).
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/hdf5.hpp"

namespace dptrain {

// A window of rows over CSR arrays: row r's entries are [indptr[r], indptr[r + 1]) of
// `indices`/`values`. indptr[0] need not be 0, so a view of some rows copies nothing.
struct CsrView {
  const std::int64_t* indptr = nullptr;  // rows + 1 offsets
  const std::int32_t* indices = nullptr;
  const float* values = nullptr;
  std::int64_t rows = 0;

  CsrView slice(std::int64_t begin, std::int64_t end) const { return {indptr + begin, indices, values, end - begin}; }
  std::int64_t nnz() const { return rows > 0 ? indptr[rows] - indptr[0] : 0; }
};

// Owned CSR rows (a shard, a batch). Column indices are int32 in memory: 2^31 columns is
// far beyond any hashed feature space.
struct CsrRows {
  std::vector<std::int64_t> indptr = {0};
  std::vector<std::int32_t> indices;
  std::vector<float> values;

  std::int64_t rows() const { return static_cast<std::int64_t>(indptr.size()) - 1; }
  std::int64_t nnz() const { return indptr.back(); }
  void clear();
  // Appends row `row` of `from`.
  void append(const CsrView& from, std::int64_t row);
  CsrView view() const { return {indptr.data(), indices.data(), values.data(), rows()}; }
};

struct CsrDescription {
  std::int64_t rows = 0, cols = 0, nnz = 0;
  std::string index_type, value_type;  // e.g. "int32", "float32"
  double density() const { return rows * cols > 0 ? static_cast<double>(nnz) / (static_cast<double>(rows) * cols) : 0; }
};

// Whether `name` is a group with encoding-type "csr_matrix".
bool is_csr_group(const H5Reader& file, const std::string& name);
// Checks the group (attributes, the three datasets, their types and lengths) and describes it.
CsrDescription describe_csr(const H5Reader& file, const std::string& name);
// Appends rows [begin, begin + count) to `out`: reads that slice of indptr, then only the
// matching ranges of indices and data. Checks the offsets and that every column is < cols.
void read_csr_rows(const H5Reader& file, const std::string& name, const CsrDescription& csr,
                   std::int64_t begin, std::int64_t count, CsrRows& out);

// Writes a CSR group block by block (chunked, growing datasets: int64 indices, float32
// values), then its attributes in finish().
class CsrWriter {
 public:
  CsrWriter(H5Writer& writer, std::string group, const H5Layout& layout);
  void append(const CsrRows& rows);
  void finish(std::int64_t cols);
  std::int64_t rows() const { return rows_; }
  std::int64_t nnz() const { return nnz_; }

 private:
  H5Writer& writer_;
  std::string group_;
  std::int64_t rows_ = 0, nnz_ = 0;
  std::vector<std::int64_t> scratch_;
};

}  // namespace dptrain
