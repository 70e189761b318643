#pragma once
// `dptrain compare --metrics BASE NEW`: two metrics files (JSON Lines: one object per line,
// as `train --metrics` and `eval --json` write them) compared record by record and field by
// field, numbers within a tolerance. Records are matched by their "epoch" field when every
// record has one, else by line. Timing, throughput, memory and layout fields are ignored by
// default: they change from run to run and machine to machine without the model changing.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "dptrain/compare.hpp"

namespace dptrain {

// samples_per_s, epoch_s, val_s, compute_s, comm_s, io_s, peak_rss_mb, seconds, ranks, threads.
const std::vector<std::string>& default_ignored_metrics();

struct MetricsCompareOptions {
  Tolerance tolerance;
  std::vector<std::string> ignore = default_ignored_metrics();  // field names (a name covers its elements)
  std::size_t top = 5;
};

struct FieldDifference {
  std::string record;  // "epoch 3" or "line 2"
  std::string field;   // "val_loss", "precision[2]", "confusion[1][3]"
  std::optional<double> base, candidate;  // nothing: null
  double difference = 0;
  bool beyond = false;
};

struct MetricsComparison {
  std::size_t records = 0;
  std::size_t values = 0, differing = 0, beyond = 0;
  std::vector<std::string> differences;     // records or fields present in one file only
  std::vector<FieldDifference> largest;     // largest |base - new| first
  std::optional<FieldDifference> worst;     // the first value furthest beyond the tolerance
  std::vector<std::string> ignored;         // ignored fields seen (sorted), text fields included
  bool within_tolerance() const { return differences.empty() && beyond == 0; }
};

// Throws DataError naming the file and line of a line that is not a JSON object.
MetricsComparison compare_metrics_files(const std::string& base, const std::string& candidate,
                                        const MetricsCompareOptions& options);

std::string format_metrics_comparison(const MetricsComparison& result, const std::string& base,
                                      const std::string& candidate, const Tolerance& tolerance);

}  // namespace dptrain
