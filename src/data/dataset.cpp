#include "dptrain/dataset.hpp"
#include "dptrain/clock.hpp"

#include <glob.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"
#include "dptrain/names.hpp"
#include "util/finite.hpp"
#include "util/split.hpp"

namespace dptrain {
namespace {

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// The first NaN/Inf of a row, in words, or "" when the row is finite.
std::string non_finite_value(const Shard& shard, std::int64_t r, const DataOptions& options) {
  const auto name = [](float v) { return std::isnan(v) ? "NaN" : "Inf"; };
  const float* x = shard.row(r);
  for (std::int64_t c = 0; c < shard.data.cols; ++c)
    if (!std::isfinite(x[c]))
      return "feature column " + std::to_string(c) + " of " + quoted(options.features_name) +
             " is " + name(x[c]);
  const float* y = shard.label(r);
  for (std::int64_t c = 0; c < shard.data.label_cols; ++c)
    if (!std::isfinite(y[c]))
      return "label" + (shard.data.label_cols > 1 ? " column " + std::to_string(c) : std::string()) +
             " of " + quoted(options.labels_name) + " is " + name(y[c]);
  return "";
}

// "; it has /X, /y" — the datasets a file does have, for a name that is missing.
std::string available_datasets(const H5Reader& file) {
  const auto names = file.list_datasets();
  if (names.empty()) return "; the file has no datasets";
  std::string out = "; it has ";
  for (std::size_t i = 0; i < names.size() && i < 10; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 10) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

}  // namespace

void DroppedRows::add(std::int64_t row, bool label_problem, const std::string& why) {
  rows.push_back(row);
  ++(label_problem ? bad_label : non_finite);
  if (first.empty()) first = why;
}

void DroppedRows::sort() {
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
}

bool DroppedRows::contains(std::int64_t row) const {
  return std::binary_search(rows.begin(), rows.end(), row);
}

Shard take_rows(const Shard& shard, const std::function<bool(std::int64_t)>& keep) {
  Shard out;
  out.data = shard.data;
  const std::int64_t d = shard.data.cols, k = shard.data.label_cols;
  std::int64_t kept = 0;
  for (std::int64_t r = 0; r < shard.rows(); ++r) kept += keep(shard.range.begin + r) ? 1 : 0;
  if (!shard.sparse()) out.features.reserve(static_cast<std::size_t>(kept * d));
  out.labels.reserve(static_cast<std::size_t>(kept * k));
  for (std::int64_t r = 0; r < shard.rows(); ++r) {
    if (!keep(shard.range.begin + r)) continue;
    if (shard.sparse())
      out.csr.append(shard.csr.view(), r);
    else
      out.features.insert(out.features.end(), shard.row(r), shard.row(r) + d);
    out.labels.insert(out.labels.end(), shard.label(r), shard.label(r) + k);
  }
  out.range = {0, kept};
  return out;
}

double max_finite_label(const Shard& shard) {
  double best = -1;
  if (shard.data.label_cols != 1) return best;
  for (std::int64_t r = 0; r < shard.rows(); ++r) {
    const float y = *shard.label(r);
    if (std::isfinite(y) && y > best && !shard.dropped.contains(shard.range.begin + r)) best = y;
  }
  return best;
}

std::vector<std::string> expand_file_list(const std::string& spec) {
  std::vector<std::string> files;
  for (const std::string& item : split_list(spec)) {
    if (item.empty()) continue;
    if (item.find_first_of("*?[") == std::string::npos) {
      files.push_back(item);
      continue;
    }
    glob_t matches{};
    if (::glob(item.c_str(), 0, nullptr, &matches) != 0 || matches.gl_pathc == 0) {
      ::globfree(&matches);
      throw DataError(item + ": pattern matches no file");
    }
    std::vector<std::string> found(matches.gl_pathv, matches.gl_pathv + matches.gl_pathc);
    ::globfree(&matches);
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  if (files.empty()) throw ConfigError("no data file given");
  return files;
}

DataDescription describe_data(const DataOptions& options) {
  if (options.files.empty()) throw ConfigError("no data file given (--data)");
  DataDescription d;
  for (std::size_t i = 0; i < options.files.size(); ++i) {
    const std::string& path = options.files[i];
    H5Reader file(path);
    const bool sparse = is_csr_group(file, options.features_name);
    if (i == 0) d.sparse = sparse;
    if (sparse != d.sparse)
      throw DataError(path + ": " + quoted(options.features_name) + " is " + (sparse ? "a CSR group" : "dense") +
                      " but in " + options.files[0] + " it is " + (d.sparse ? "a CSR group" : "dense"));
    DatasetShape x;
    if (sparse) {
      const CsrDescription csr = describe_csr(file, options.features_name);
      x.dims = {csr.rows, csr.cols};
      d.nnz += csr.nnz;
    } else {
      if (!file.has_dataset(options.features_name))
        throw DataError(path + ": no dataset " + quoted(options.features_name) +
                        " (features; name another with --features-name)" + available_datasets(file));
      x = file.shape(options.features_name);
    }
    if (!sparse && x.kind == DatasetShape::Kind::Other)
      throw DataError(path + ": dataset " + quoted(options.features_name) + " has type " +
                      x.type_name + "; expected float32/float64 (or integer) features");
    for (const auto* name : {&options.features_name, &options.labels_name}) {
      if (name == &options.labels_name && !file.has_dataset(*name)) continue;
      if (name == &options.features_name && sparse) continue;
      const DatasetShape s = file.shape(*name);
      if (!s.missing_filter.empty())
        throw DataError(path + ": dataset " + quoted(*name) + " is compressed with " + s.missing_filter +
                        ", which this HDF5 library cannot decode; rewrite it with gzip "
                        "(h5py: compression=\"gzip\") or convert it");
      if (!s.missing_source.empty())
        throw DataError(path + ": dataset " + quoted(*name) + " is a virtual dataset whose source file '" +
                        s.missing_source + "' does not exist; HDF5 would read its rows as zeros. "
                        "Restore the file (or set HDF5_VDS_PREFIX to its folder)");
    }
    if (x.dims.size() != 2)
      throw DataError(path + ": dataset " + quoted(options.features_name) + " has " +
                      std::to_string(x.dims.size()) + " dimension(s); expected 2-D [rows, features]" +
                      (x.dims.size() > 2 ? " (reshape it to [rows, features] when writing it)" : ""));
    if (i == 0) d.cols = x.dims[1];
    if (x.dims[1] != d.cols)
      throw DataError(path + ": dataset " + quoted(options.features_name) + " has " +
                      std::to_string(x.dims[1]) + " features; " + options.files[0] + " has " +
                      std::to_string(d.cols));
    std::int64_t label_cols = 0;
    const bool has_labels = file.has_dataset(options.labels_name);
    if (!has_labels && options.labels_required)
      throw DataError(path + ": no dataset " + quoted(options.labels_name) +
                      " (labels; name another with --labels-name)" + available_datasets(file));
    if (has_labels) {
      const DatasetShape y = file.shape(options.labels_name);
      if (y.kind == DatasetShape::Kind::Other)
        throw DataError(path + ": dataset " + quoted(options.labels_name) + " has type " +
                        y.type_name + "; expected integer class ids or float targets");
      if (y.dims.empty() || y.dims.size() > 2)
        throw DataError(path + ": dataset " + quoted(options.labels_name) +
                        " must be 1-D [rows] or 2-D [rows, targets]");
      if (y.rows() != x.rows())
        throw DataError(path + ": dataset " + quoted(options.labels_name) + " has " +
                        std::to_string(y.rows()) + " rows but " + quoted(options.features_name) +
                        " has " + std::to_string(x.rows()) + "; expected the same row count");
      label_cols = y.cols();
      if (i == 0) d.integer_labels = y.kind == DatasetShape::Kind::Integer;
    }
    if (i == 0) d.label_cols = label_cols;
    if (label_cols != d.label_cols)
      throw DataError(path + ": labels have " + std::to_string(label_cols) + " column(s); " +
                      options.files[0] + " has " + std::to_string(d.label_cols));
    d.file_rows.push_back(x.rows());
    d.file_chunk_rows.push_back(x.chunk.empty() ? 0 : x.chunk[0]);
    d.rows += x.rows();
    if (i == 0) d.column_names = read_column_names(file, options.features_name);
    if (i == 0 && has_labels) d.class_names = read_class_names(file, options.labels_name);
  }
  return d;
}

std::string Shard::locate(const DataOptions& options, std::int64_t global_row) const {
  std::int64_t start = 0;
  for (std::size_t i = 0; i < data.file_rows.size(); ++i) {
    if (global_row < start + data.file_rows[i])
      return options.files[i] + " row " + std::to_string(global_row - start);
    start += data.file_rows[i];
  }
  return "row " + std::to_string(global_row);
}

Shard load_shard(const DataOptions& options, const DataDescription& data, ShardRange range) {
  if (data.sparse) return load_sparse_shard(options, data, range);
  const double t0 = now_seconds();
  Shard shard;
  shard.data = data;
  shard.range = range;
  shard.features.resize(static_cast<std::size_t>(range.size() * data.cols));
  shard.labels.resize(static_cast<std::size_t>(range.size() * data.label_cols));
  // Walk the files; read the overlap of each with [begin, end).
  std::int64_t file_start = 0;
  for (std::size_t i = 0; i < options.files.size(); ++i) {
    const std::int64_t file_end = file_start + data.file_rows[i];
    const std::int64_t lo = std::max(range.begin, file_start);
    const std::int64_t hi = std::min(range.end, file_end);
    if (lo < hi) {
      H5Reader file(options.files[i]);
      const std::int64_t local = lo - range.begin;
      // Spans of exactly this file's rows: a file replaced since it was described (more
      // columns now) is refused instead of overflowing the shard.
      const auto part = [&](AlignedVector<float>& values, std::int64_t cols) {
        return std::span(values).subspan(static_cast<std::size_t>(local * cols),
                                         static_cast<std::size_t>((hi - lo) * cols));
      };
      file.read_rows(options.features_name, lo - file_start, hi - lo, part(shard.features, data.cols));
      if (data.label_cols > 0)
        file.read_rows(options.labels_name, lo - file_start, hi - lo, part(shard.labels, data.label_cols));
    }
    file_start = file_end;
  }
  check_finite_rows(shard, options);
  shard.io_seconds = now_seconds() - t0;
  return shard;
}

void check_finite_rows(Shard& shard, const DataOptions& options) {
  // One pass that vectorises, so finite data (the usual case) costs a small part of the
  // row-by-row scan that names a bad value; streaming checks every block on the prefetch
  // thread, which shares the cores with the compute.
  if (!shard.sparse() && all_finite(shard.features.data(), shard.features.size()) &&
      all_finite(shard.labels.data(), shard.labels.size()))
    return;
  for (std::int64_t r = 0; r < shard.rows(); ++r) {
    const std::string problem = non_finite_value(shard, r, options);
    if (problem.empty()) continue;
    const std::string where = shard.locate(options, shard.range.begin + r) + ": " + problem;
    if (!options.skip_bad_rows)
      throw DataError(where + "; expected a finite number (or train with --skip-bad-rows)");
    shard.dropped.add(shard.range.begin + r, false, where);
  }
}

}  // namespace dptrain
