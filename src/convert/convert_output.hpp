#pragma once
// The writing half of the streaming converters: rows arrive in blocks and are appended to a
// chunked /features dataset; labels are staged in an anonymous temporary file as doubles,
// because the label type (int64 class ids or float32 targets) is known only at the end.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dptrain/convert.hpp"
#include "dptrain/hdf5.hpp"

namespace dptrain {

// Rows per read/write block and per HDF5 chunk for `cols` features (options: 0 = automatic).
std::int64_t block_rows_for(const ConvertOptions& options, std::int64_t cols);
H5Layout layout_for(const ConvertOptions& options, std::int64_t cols);

class ConvertOutput {
 public:
  // label_cols: 1 for a label vector, K for [N, K] targets, 0 for no labels.
  ConvertOutput(H5Writer& writer, std::int64_t cols, std::int64_t label_cols,
                const ConvertOptions& options);
  ~ConvertOutput();
  ConvertOutput(const ConvertOutput&) = delete;
  ConvertOutput& operator=(const ConvertOutput&) = delete;

  // Appends `rows` rows: x is rows x cols, y is rows x label_cols.
  void append(const float* x, const double* y, std::int64_t rows);
  std::int64_t rows() const { return rows_; }
  bool labels_integral() const { return integral_; }

  // Writes /labels as int64 (integer labels) or float32. Returns the type written.
  std::string finish(bool integer_labels);

 private:
  H5Writer& writer_;
  std::int64_t cols_, label_cols_;
  H5Layout layout_;
  std::int64_t rows_ = 0;
  bool integral_ = true;  // every label so far is an integer
  std::FILE* staged_labels_ = nullptr;
};

// The rows being parsed, in a fixed-size block that is appended to the output when full, so a
// converter holds one block however large its input.
class RowBlock {
 public:
  RowBlock(std::int64_t rows, std::int64_t cols)
      : rows_(rows), cols_(cols), x_(static_cast<std::size_t>(rows * cols)), y_(static_cast<std::size_t>(rows)) {}
  float* row() { return x_.data() + count_ * cols_; }  // the row being filled
  double& label() { return y_[static_cast<std::size_t>(count_)]; }
  // Ends the current row; true when the block is full and must be flushed.
  bool commit() { return ++count_ == rows_; }
  void flush(ConvertOutput& output) {
    output.append(x_.data(), y_.data(), count_);
    count_ = 0;
  }
  // The same, then reports progress (--progress) as `bytes` read of `total`.
  void flush(ConvertOutput& output, const ConvertOptions& o, std::int64_t bytes, std::int64_t total) {
    flush(output);
    if (o.progress) o.progress(bytes, total, output.rows());
  }

 private:
  std::int64_t rows_, cols_, count_ = 0;
  std::vector<float> x_;
  std::vector<double> y_;
};

}  // namespace dptrain
