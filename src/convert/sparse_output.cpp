#include "sparse_output.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "dptrain/error.hpp"

namespace dptrain {

std::string size_text(double bytes) {
  const char* units[] = {"bytes", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1000 && u < 5) bytes /= 1000, ++u;
  char text[32];
  std::snprintf(text, sizeof text, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return text;
}

std::string percent_text(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g%%", 100.0 * fraction);
  return text;
}

std::string choose_layout(const ConvertOptions& o, std::int64_t rows, std::int64_t cols, std::int64_t nnz) {
  if (o.layout != "auto" && o.layout != "dense" && o.layout != "sparse")
    throw ConfigError("--layout '" + o.layout + "': expected dense, sparse or auto");
  const double cells = static_cast<double>(rows) * static_cast<double>(cols);
  const double density = cells > 0 ? static_cast<double>(nnz) / cells : 1.0;
  if (o.layout == "sparse" || (o.layout == "auto" && density < kSparseDensityThreshold)) return "sparse";
  const double dense_bytes = 4.0 * cells;
  std::error_code ec;
  const auto folder = std::filesystem::absolute(o.out).parent_path();
  const auto space = std::filesystem::space(folder, ec);
  if (!ec && dense_bytes > static_cast<double>(space.available))
    throw DataError(o.out + ": a dense layout of " + std::to_string(rows) + " x " + std::to_string(cols) +
                    " float32 values takes " + size_text(dense_bytes) + " but " + folder.string() + " has " +
                    size_text(static_cast<double>(space.available)) + " free; the data is " +
                    percent_text(density) + " non-zero: write CSR with --layout sparse (about " +
                    size_text(12.0 * static_cast<double>(nnz) + 8.0 * static_cast<double>(rows)) + ")");
  return "dense";
}

void flush_full_block(CsrWriter& csr, CsrRows& block, const ConvertOptions& o, const LineReader& in) {
  if (block.nnz() < (1 << 20)) return;
  csr.append(block);
  block.clear();
  if (o.progress) o.progress(in.bytes_read(), in.total_bytes(), csr.rows());
}

void finish_blocks(CsrWriter& csr, CsrRows& block, const ConvertOptions& o, std::int64_t cols) {
  csr.append(block);
  block.clear();
  if (csr.rows() == 0) throw DataError(o.input + ": no data lines");
  csr.finish(cols);
}

std::string LabelColumn::write(H5Writer& writer, const std::string& label_type) const {
  bool integral = true;
  for (const double y : values_) integral = integral && std::isfinite(y) && y == std::floor(y) && std::abs(y) < 9.0e15;
  const bool integer = label_type == "int" || (label_type == "auto" && integral);
  const std::vector<std::int64_t> dims = {static_cast<std::int64_t>(values_.size())};
  if (integer) {
    const std::vector<std::int64_t> ids(values_.begin(), values_.end());
    writer.write("/labels", dims, ids.data());
    return "int64";
  }
  const std::vector<float> values(values_.begin(), values_.end());
  writer.write("/labels", dims, values.data());
  return "float32";
}

}  // namespace dptrain
