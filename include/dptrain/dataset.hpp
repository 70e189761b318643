#pragma once
// A rank's shard of a dataset: its own contiguous block of rows, read by hyperslab from one
// or more HDF5 files treated as one concatenated table.
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/shard.hpp"

namespace dptrain {

struct DataOptions {
  std::vector<std::string> files;           // concatenated in this order
  std::string features_name = "/features";  // [N, D] float32/float64 (or integer)
  std::string labels_name = "/labels";      // [N] or [N, K]
  bool labels_required = true;
};

// Shape of the whole (concatenated) dataset, known to every rank without reading rows.
struct DataDescription {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t label_cols = 0;  // 0 when the files have no labels
  bool integer_labels = false;  // labels stored as an integer type
  std::vector<std::int64_t> file_rows;  // rows in each file
};

// Opens each file, checks the datasets exist with compatible shapes and numeric types.
DataDescription describe_data(const DataOptions& options);

struct Shard {
  DataDescription data;
  ShardRange range;             // global rows held here
  std::vector<float> features;  // range.size() x data.cols, row-major
  std::vector<float> labels;    // range.size() x data.label_cols, row-major
  double io_seconds = 0;

  std::int64_t rows() const { return range.size(); }
  const float* row(std::int64_t local) const { return features.data() + local * data.cols; }
  const float* label(std::int64_t local) const { return labels.data() + local * data.label_cols; }
  // "file.h5 row 17" for a global row, for error messages.
  std::string locate(const DataOptions& options, std::int64_t global_row) const;
};

// Reads rows [range.begin, range.end) only. Checks every value is finite and names the
// first bad row (file and row within it) otherwise.
Shard load_shard(const DataOptions& options, const DataDescription& data, ShardRange range);

// Parses "a.h5,b.h5" and globs ("data/part-*.h5", sorted) into a list of files.
std::vector<std::string> expand_file_list(const std::string& spec);

}  // namespace dptrain
