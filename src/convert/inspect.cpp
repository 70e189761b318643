#include "dptrain/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "dptrain/csr.hpp"
#include "dptrain/error.hpp"
#include "dptrain/names.hpp"

namespace dptrain {

void ValueStats::add(double v) {
  if (std::isnan(v)) {
    ++nan;
  } else if (std::isinf(v)) {
    ++inf;
  } else {
    if (count == 0 || v < min) min = v;
    if (count == 0 || v > max) max = v;
    sum += v;
    ++count;
  }
}

namespace {

constexpr std::size_t kMaxHistogram = 1000;  // more distinct labels: not class ids

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// Why a dataset cannot serve as features/labels, or "" if it can.
std::string unusable(const H5Reader& f, const std::string& name, bool features, std::int64_t rows) {
  if (!f.has_dataset(name)) return "no dataset " + quoted(name);
  const DatasetShape s = f.shape(name);
  if (s.kind == DatasetShape::Kind::Other) return quoted(name) + " has type " + s.type_name + ", not numbers";
  if (!s.missing_filter.empty())
    return quoted(name) + " is compressed with " + s.missing_filter + ", which this HDF5 library cannot decode";
  if (!s.missing_source.empty())
    return quoted(name) + " is virtual and its source file '" + s.missing_source + "' does not exist";
  if (features && s.dims.size() != 2)
    return quoted(name) + " has " + std::to_string(s.dims.size()) + " dimension(s), not 2 [rows, features]";
  if (!features && (s.dims.empty() || s.dims.size() > 2))
    return quoted(name) + " has " + std::to_string(s.dims.size()) + " dimensions, not [rows] or [rows, K]";
  if (!features && s.rows() != rows)
    return quoted(name) + " has " + std::to_string(s.rows()) + " rows, the features " +
           std::to_string(rows);
  return "";
}

std::string number(double v) {
  std::ostringstream s;
  s << std::setprecision(6) << v;
  return s.str();
}

std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// "  " + names[i] for the end of a table row, when the names fit (`count` of them; -1: any
// count); else nothing.
std::string name_of(const std::vector<std::string>& names, std::int64_t i, std::int64_t count) {
  if (count >= 0 && static_cast<std::int64_t>(names.size()) != count) return "";
  return i >= 0 && i < static_cast<std::int64_t>(names.size()) ? "  " + names[static_cast<std::size_t>(i)] : "";
}

// The first few names, for a one-line summary.
std::string name_list(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < 8; ++i) s += (i ? ", " : "") + quoted(names[i]);
  return names.size() > 8 ? s + ", ..." : s;
}

}  // namespace

InspectReport inspect_file(const InspectOptions& o) {
  InspectReport r;
  r.file = o.file;
  r.features_name = o.features_name;
  r.labels_name = o.labels_name;
  H5Reader f(o.file);
  for (const auto& name : f.list_datasets()) r.datasets.emplace_back(name, f.shape(name));

  if (is_csr_group(f, o.features_name)) {
    r.csr = describe_csr(f, o.features_name);
    r.rows = r.csr->rows;
    r.cols = r.csr->cols;
    r.all_features = csr_value_stats(f, o.features_name, *r.csr);
  } else {
    r.features_problem = unusable(f, o.features_name, true, 0);
    if (!r.features_problem.empty()) return r;
    const DatasetShape xs = f.shape(o.features_name);
    r.rows = xs.rows();
    r.cols = xs.cols();
    r.columns.resize(static_cast<std::size_t>(r.cols));
  }
  const std::int64_t dense_cols = r.csr ? 0 : r.cols;
  r.column_names = read_column_names(f, o.features_name);
  r.labels_problem = unusable(f, o.labels_name, false, r.rows);
  const bool labels = r.labels_problem.empty();
  if (labels) r.label_cols = f.shape(o.labels_name).cols();
  if (labels) r.class_names = read_class_names(f, o.labels_name);
  r.integer_labels = labels;

  const std::int64_t block =
      o.block_rows > 0 ? o.block_rows
                       : std::max<std::int64_t>(1, (std::int64_t{2} << 20) / std::max<std::int64_t>(1, dense_cols));  // 16 MiB of doubles
  std::vector<double> x(static_cast<std::size_t>(std::min(block, r.rows) * dense_cols));
  std::vector<double> y(static_cast<std::size_t>(std::min(block, r.rows) * r.label_cols));
  bool histogram_ok = labels && r.label_cols == 1;
  for (std::int64_t begin = 0; begin < r.rows; begin += block) {
    const std::int64_t n = std::min(block, r.rows - begin);
    if (!r.csr) f.read_rows(o.features_name, begin, n, std::span(x).first(static_cast<std::size_t>(n * r.cols)));
    if (labels) f.read_rows(o.labels_name, begin, n, std::span(y).first(static_cast<std::size_t>(n * r.label_cols)));
    for (std::int64_t i = 0; i < n; ++i) {
      bool bad = false;
      const double* row = x.data() + i * dense_cols;
      for (std::int64_t c = 0; c < dense_cols; ++c) {
        r.columns[static_cast<std::size_t>(c)].add(row[c]);
        bad = bad || !std::isfinite(row[c]);
      }
      for (std::int64_t c = 0; c < r.label_cols; ++c) {
        const double v = y[static_cast<std::size_t>(i * r.label_cols + c)];
        r.labels.add(v);
        bad = bad || !std::isfinite(v);
        if (std::isfinite(v) && v != std::floor(v)) r.integer_labels = false, histogram_ok = false;
        if (histogram_ok && std::isfinite(v)) {
          ++r.histogram[static_cast<std::int64_t>(v)];
          if (r.histogram.size() > kMaxHistogram) histogram_ok = false;
        }
      }
      if (bad) {
        ++r.rows_with_non_finite;
        if (r.first_bad_row < 0) r.first_bad_row = begin + i;
      }
    }
  }
  if (!histogram_ok) r.histogram.clear();
  for (const auto& c : r.columns) {
    r.all_features.nan += c.nan;
    r.all_features.inf += c.inf;
    if (c.count == 0) continue;
    if (r.all_features.count == 0 || c.min < r.all_features.min) r.all_features.min = c.min;
    if (r.all_features.count == 0 || c.max > r.all_features.max) r.all_features.max = c.max;
    r.all_features.sum += c.sum;
    r.all_features.count += c.count;
  }
  return r;
}

void print_report(const InspectReport& r, std::ostream& out, bool all_columns) {
  out << r.file << "\n  datasets:\n";
  for (const auto& [name, s] : r.datasets) {
    out << "    " << std::left << std::setw(20) << name << " " << std::setw(8) << s.type_name << " "
        << dims_text(s.dims);
    if (s.chunk.empty()) out << "  contiguous";
    else out << "  chunked " << dims_text(s.chunk);
    if (!s.filters.empty()) out << "  " << s.filters;
    if (!s.missing_filter.empty()) out << " (" << s.missing_filter << ": not available here)";
    out << "\n";
  }
  out << std::right;
  if (!r.features_problem.empty()) {
    out << "  features: " << r.features_problem << " (name them with --features-name)\n";
    return;
  }
  if (r.csr)
    out << "  features " << quoted(r.features_name) << ": " << describe_csr_text(*r.csr) << "; stored values: min "
        << number(r.all_features.min) << ", max " << number(r.all_features.max) << ", mean "
        << number(r.all_features.mean()) << "\n";
  else
    out << "  features " << quoted(r.features_name) << ": " << r.rows << " rows x " << r.cols
      << " columns; min " << number(r.all_features.min) << ", max " << number(r.all_features.max)
      << ", mean " << number(r.all_features.mean()) << "\n";
  if (!r.column_names.empty()) out << "    column names (" << r.column_names.size() << "): " << name_list(r.column_names) << "\n";
  std::int64_t constant = 0;
  for (const auto& c : r.columns) constant += c.count > 0 && c.min == c.max ? 1 : 0;
  if (constant) out << "    constant columns: " << constant << "\n";
  const auto listed = static_cast<std::int64_t>(r.columns.size());  // none for a CSR group
  const auto shown = all_columns ? listed : std::min<std::int64_t>(listed, 20);
  if (shown > 0) {
    out << "    " << std::setw(8) << "column" << std::setw(14) << "min" << std::setw(14) << "max"
        << std::setw(14) << "mean" << std::setw(8) << "NaN" << std::setw(8) << "Inf"
        << (r.column_names.size() == r.columns.size() ? "  name" : "") << "\n";
    for (std::int64_t c = 0; c < shown; ++c) {
      const ValueStats& s = r.columns[static_cast<std::size_t>(c)];
      out << "    " << std::setw(8) << c << std::setw(14) << number(s.min) << std::setw(14)
          << number(s.max) << std::setw(14) << number(s.mean()) << std::setw(8) << s.nan
          << std::setw(8) << s.inf << name_of(r.column_names, c, listed) << "\n";
    }
    if (shown < listed) out << "    ... " << listed - shown << " more columns (--all-columns)\n";
  }
  out << "  non-finite: " << r.all_features.nan << " NaN and " << r.all_features.inf
      << " Inf feature values, " << r.labels.nan << " NaN and " << r.labels.inf << " Inf labels; "
      << r.rows_with_non_finite << " bad rows";
  if (r.first_bad_row >= 0) out << " (first: row " << r.first_bad_row << "; train with --skip-bad-rows to drop them)";
  out << "\n";
  if (!r.labels_problem.empty()) {
    out << "  labels: " << r.labels_problem << " (name them with --labels-name)\n";
    return;
  }
  if (!r.class_names.empty()) out << "  class names (" << r.class_names.size() << "): " << name_list(r.class_names) << "\n";
  out << "  labels " << quoted(r.labels_name) << ": " << r.label_cols << " column(s), "
      << (r.integer_labels ? "integer" : "real") << " values; min " << number(r.labels.min)
      << ", max " << number(r.labels.max) << ", mean " << number(r.labels.mean()) << "\n";
  if (!r.histogram.empty()) {
    out << "    class histogram (" << r.histogram.size() << " classes):\n";
    for (const auto& [id, n] : r.histogram)
      out << "    " << std::setw(8) << id << std::setw(12) << n << "  " << std::fixed
          << std::setprecision(2) << 100.0 * n / std::max<std::int64_t>(1, r.labels.count) << "%"
          << std::defaultfloat << name_of(r.class_names, id, -1) << "\n";
  }
}

}  // namespace dptrain
