#include "convert_output.hpp"

#include <algorithm>
#include <cmath>

#include "dptrain/error.hpp"

namespace dptrain {

std::int64_t block_rows_for(const ConvertOptions& o, std::int64_t cols) {
  if (o.block_rows > 0) return o.block_rows;
  return std::max<std::int64_t>(1, (std::int64_t{4} << 20) / std::max<std::int64_t>(1, cols));
}

H5Layout layout_for(const ConvertOptions& o, std::int64_t cols) {
  H5Layout layout;
  layout.chunk_rows = o.chunk_rows > 0
                          ? o.chunk_rows
                          : std::max<std::int64_t>(64, (std::int64_t{1} << 16) / std::max<std::int64_t>(1, cols));
  layout.gzip_level = o.gzip;
  layout.shuffle = o.gzip > 0;
  return layout;
}

ConvertOutput::ConvertOutput(H5Writer& writer, std::int64_t cols, std::int64_t label_cols,
                             const ConvertOptions& o)
    : writer_(writer), cols_(cols), label_cols_(label_cols), layout_(layout_for(o, cols)) {
  if (o.gzip < 0 || o.gzip > 9) throw ConfigError("--gzip must be 0 (none) to 9");
  writer_.create_growing("/features", cols_, false, layout_);
  if (label_cols_ > 0) {
    staged_labels_ = std::tmpfile();
    if (!staged_labels_) throw DataError(o.out + ": cannot create a temporary file for the labels");
  }
}

ConvertOutput::~ConvertOutput() {
  if (staged_labels_) std::fclose(staged_labels_);
}

void ConvertOutput::append(const float* x, const double* y, std::int64_t rows) {
  if (rows == 0) return;
  writer_.append_rows("/features", rows, x);
  if (label_cols_ > 0) {
    const auto n = static_cast<std::size_t>(rows * label_cols_);
    for (std::size_t i = 0; i < n && integral_; ++i)
      integral_ = std::isfinite(y[i]) && y[i] == std::floor(y[i]) && std::abs(y[i]) < 9.0e15;
    if (std::fwrite(y, sizeof(double), n, staged_labels_) != n)
      throw DataError("cannot write the temporary label file (disk full?)");
  }
  rows_ += rows;
}

std::string ConvertOutput::finish(bool integer_labels) {
  if (label_cols_ == 0) return "none";
  // 1-D labels for one column, [N, K] for several targets.
  const std::int64_t dataset_cols = label_cols_ == 1 ? 0 : label_cols_;
  writer_.create_growing("/labels", dataset_cols, integer_labels, layout_);
  std::rewind(staged_labels_);
  const std::int64_t block = std::max<std::int64_t>(1, (std::int64_t{1} << 20) / label_cols_);
  std::vector<double> staged(static_cast<std::size_t>(block * label_cols_));
  std::vector<std::int64_t> ids;
  std::vector<float> values;
  for (std::int64_t done = 0; done < rows_;) {
    const std::int64_t n = std::min(block, rows_ - done);
    const auto count = static_cast<std::size_t>(n * label_cols_);
    if (std::fread(staged.data(), sizeof(double), count, staged_labels_) != count)
      throw DataError("cannot read back the temporary label file");
    if (integer_labels) {
      ids.assign(staged.begin(), staged.begin() + static_cast<std::ptrdiff_t>(count));
      writer_.append_rows("/labels", n, ids.data());
    } else {
      values.assign(staged.begin(), staged.begin() + static_cast<std::ptrdiff_t>(count));
      writer_.append_rows("/labels", n, values.data());
    }
    done += n;
  }
  return integer_labels ? "int64" : "float32";
}

}  // namespace dptrain
