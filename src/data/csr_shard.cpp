// A rank's rows of CSR features: per file, its slice of indptr, then only the matching
// ranges of indices and data; labels by hyperslab as for dense files.
#include <algorithm>
#include <cmath>

#include "dptrain/clock.hpp"
#include "dptrain/dataset.hpp"
#include "dptrain/error.hpp"

namespace dptrain {
namespace {

// The first non-finite value of local row r, in words, or "".
std::string non_finite_entry(const Shard& shard, std::int64_t r, const DataOptions& options) {
  const CsrView x = shard.csr.view();
  for (std::int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k)
    if (!std::isfinite(x.values[k]))
      return "feature column " + std::to_string(x.indices[k]) + " of CSR group '" + options.features_name + "' is " +
             (std::isnan(x.values[k]) ? "NaN" : "Inf");
  for (std::int64_t c = 0; c < shard.data.label_cols; ++c)
    if (!std::isfinite(shard.label(r)[c])) return "label of '" + options.labels_name + "' is not finite";
  return "";
}

}  // namespace

Shard load_sparse_shard(const DataOptions& options, const DataDescription& data, ShardRange range) {
  const double t0 = now_seconds();
  Shard shard;
  shard.data = data;
  shard.range = range;
  shard.labels.resize(static_cast<std::size_t>(range.size() * data.label_cols));
  std::int64_t file_start = 0;
  for (std::size_t i = 0; i < options.files.size(); ++i) {
    const std::int64_t file_end = file_start + data.file_rows[i];
    const std::int64_t lo = std::max(range.begin, file_start), hi = std::min(range.end, file_end);
    if (lo < hi) {
      H5Reader file(options.files[i]);
      const CsrDescription csr = describe_csr(file, options.features_name);
      read_csr_rows(file, options.features_name, csr, lo - file_start, hi - lo, shard.csr);
      if (data.label_cols > 0)
        file.read_rows(options.labels_name, lo - file_start, hi - lo,
                       std::span(shard.labels)
                           .subspan(static_cast<std::size_t>((lo - range.begin) * data.label_cols),
                                    static_cast<std::size_t>((hi - lo) * data.label_cols)));
    }
    file_start = file_end;
  }
  for (std::int64_t r = 0; r < range.size(); ++r) {
    const std::string problem = non_finite_entry(shard, r, options);
    if (problem.empty()) continue;
    const std::string where = shard.locate(options, range.begin + r) + ": " + problem;
    if (!options.skip_bad_rows) throw DataError(where + "; expected a finite number (or train with --skip-bad-rows)");
    shard.dropped.add(range.begin + r, false, where);
  }
  shard.io_seconds = now_seconds() - t0;
  return shard;
}

}  // namespace dptrain
