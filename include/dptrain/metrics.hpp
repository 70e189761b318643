#pragma once
// Per-epoch metrics files, written by rank 0: JSON Lines (one object per epoch) and CSV (a
// header, then one row per epoch). Next to each file goes the run's effective configuration
// as TOML ("run.jsonl" -> "run.config.toml"), so the metrics file itself stays one object per
// line and every curve can be traced back to the options that produced it.
#include <fstream>
#include <string>

#include "dptrain/json.hpp"
#include "dptrain/trainer.hpp"

namespace dptrain {

enum class MetricsFormat { jsonl, csv };

// ".csv" (any case) -> csv; anything else -> jsonl.
MetricsFormat metrics_format_for(const std::string& path);

// "dir/run.jsonl" -> "dir/run.config.toml" (the last extension is replaced).
std::string config_sidecar_path(const std::string& metrics_path);

// One epoch as one JSON object (one line of a JSONL metrics file).
std::string to_json(const EpochReport& r);

// The CSV columns, in the order of to_csv; the same names as the JSON keys.
std::string csv_header();
// Empty fields for values that do not apply (no validation set, regression accuracy).
std::string to_csv(const EpochReport& report);

class MetricsWriter {
 public:
  // Opens (truncates, or with `append` continues, for a resumed run) `path` ("" = none) in the
  // format its extension says, and `csv_path` ("" = none) as CSV, and writes `config_text` to
  // their sidecar files. Throws ConfigError naming the option when a file cannot be written.
  void open(const std::string& path, const std::string& csv_path, const std::string& config_text,
            bool append = false);
  // One epoch: a line in each open file, flushed. Throws DataError naming the file and the
  // system's reason (e.g. ENOSPC) when a line does not reach the file.
  void write(const EpochReport& report);
  bool is_open() const { return jsonl_.is_open() || csv_.is_open(); }

 private:
  void open_one(const std::string& path, MetricsFormat format, const std::string& option,
                const std::string& config_text, bool append);
  std::ofstream jsonl_, csv_;
  std::string jsonl_path_, csv_path_;
};

}  // namespace dptrain
