#pragma once
// A rank's shard of a dataset: its own contiguous block of rows, read by hyperslab from one
// or more HDF5 files treated as one concatenated table.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dptrain/aligned.hpp"
#include "dptrain/csr.hpp"
#include "dptrain/shard.hpp"

namespace dptrain {

struct DataOptions {
  std::vector<std::string> files;           // concatenated in this order
  std::string features_name = "/features";  // [N, D] float32/float64 (or integer), or a CSR group
  std::string labels_name = "/labels";      // [N] or [N, K]
  bool labels_required = true;
  // Drop rows with NaN/Inf (and, in the trainer, invalid class ids) instead of failing;
  // they are counted in Shard::dropped and reported.
  bool skip_bad_rows = false;
};

// Shape of the whole (concatenated) dataset, known to every rank without reading rows.
struct DataDescription {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t label_cols = 0;  // 0 when the files have no labels
  bool integer_labels = false;  // labels stored as an integer type
  std::vector<std::int64_t> file_rows;  // rows in each file
  bool sparse = false;          // features are CSR groups (csr.hpp)
  std::int64_t nnz = 0;         // sparse: stored values in all files
  std::vector<std::int64_t> file_chunk_rows;  // rows per chunk of the features in each file (0: contiguous)
  // Names stored with the first file (names.hpp); empty when it has none.
  std::vector<std::string> column_names, class_names;
};

// Opens each file, checks the datasets exist with compatible shapes and numeric types.
DataDescription describe_data(const DataOptions& options);

// Rows of a shard left out by --skip-bad-rows: which, why, and the first one in words.
struct DroppedRows {
  std::vector<std::int64_t> rows;  // global row numbers
  std::int64_t non_finite = 0;     // NaN/Inf in a feature or label
  std::int64_t bad_label = 0;      // not a class id of the model
  std::string first;               // e.g. "a.h5 row 17: feature column 3 is NaN"

  bool empty() const { return rows.empty(); }
  // Appends a row; call sort() before contains() when rows were not added in order.
  void add(std::int64_t row, bool label_problem, const std::string& why);
  void sort();
  bool contains(std::int64_t row) const;
};

struct Shard {
  DataDescription data;
  ShardRange range;             // global rows held here
  AlignedVector<float> features;  // range.size() x data.cols, row-major
  AlignedVector<float> labels;    // range.size() x data.label_cols, row-major
  CsrRows csr;                    // data.sparse: the rows here (then `features` is empty)
  DroppedRows dropped;          // with DataOptions::skip_bad_rows only; still stored above
  double io_seconds = 0;

  std::int64_t rows() const { return range.size(); }
  bool sparse() const { return data.sparse; }
  const float* row(std::int64_t local) const { return features.data() + local * data.cols; }
  const float* label(std::int64_t local) const { return labels.data() + local * data.label_cols; }
  // "file.h5 row 17" for a global row, for error messages.
  std::string locate(const DataOptions& options, std::int64_t global_row) const;
};

// Reads rows [range.begin, range.end) only. Checks every value is finite and names the
// first bad row (file and row within it) otherwise; with options.skip_bad_rows, records
// such rows in Shard::dropped instead.
Shard load_shard(const DataOptions& options, const DataDescription& data, ShardRange range);
// load_shard for CSR features (src/data/csr_shard.cpp): each file's slice of indptr, then
// only those rows' indices and values.
Shard load_sparse_shard(const DataOptions& options, const DataDescription& data, ShardRange range);

// Checks every value of the shard's rows is finite: throws DataError naming the first bad
// row (file and row within it), or with options.skip_bad_rows records it in shard.dropped.
void check_finite_rows(Shard& shard, const DataOptions& options);

// A shard of the rows of `shard` (in order) for which keep(global row) is true, e.g. the
// held-out rows of --val-fraction, or a validation shard without its dropped rows. The
// result is only for evaluation: its rows are no longer one contiguous block, so its
// range is {0, kept rows}.
Shard take_rows(const Shard& shard, const std::function<bool(std::int64_t)>& keep);

// The largest finite label of the shard's rows (ignoring dropped rows); -1 if none.
double max_finite_label(const Shard& shard);

// Parses "a.h5,b.h5" and globs ("data/part-*.h5", sorted) into a list of files.
std::vector<std::string> expand_file_list(const std::string& spec);

}  // namespace dptrain
