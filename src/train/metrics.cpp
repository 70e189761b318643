#include "dptrain/metrics.hpp"

#include <filesystem>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <sstream>

#include "io/atomic_file.hpp"
#include "dptrain/error.hpp"

namespace dptrain {

namespace {

std::string csv_number(double v) { return std::isfinite(v) ? json_number(v) : ""; }

std::string csv_optional(const std::optional<double>& v) { return v ? csv_number(*v) : ""; }

// The position of the last extension's dot in the file name, or npos.
std::size_t extension_dot(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) ||
      dot == (slash == std::string::npos ? 0 : slash + 1))
    return std::string::npos;
  return dot;
}

}  // namespace

MetricsFormat metrics_format_for(const std::string& path) {
  const auto dot = extension_dot(path);
  if (dot == std::string::npos) return MetricsFormat::jsonl;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == "csv" ? MetricsFormat::csv : MetricsFormat::jsonl;
}

std::string config_sidecar_path(const std::string& metrics_path) {
  const auto dot = extension_dot(metrics_path);
  return (dot == std::string::npos ? metrics_path : metrics_path.substr(0, dot)) + ".config.toml";
}

std::string to_json(const EpochReport& r) {
  Json j = {{"epoch", r.epoch},
                  {"train_loss", r.train_loss},
                  {"train_accuracy", json_optional(r.train_accuracy)},
                  {"val_loss", json_optional(r.val_loss)},
                  {"val_accuracy", json_optional(r.val_accuracy)},
                  {"samples_per_s", r.samples_per_s},
                  {"epoch_s", r.epoch_s},
                  {"val_s", r.val_s},
                  {"compute_s", r.compute_s},
                  {"comm_s", r.comm_s},
                  {"io_s", r.io_s},
                  {"lr", r.lr},
                  {"peak_rss_mb", r.peak_rss_mb},
                  {"skipped_steps", r.skipped_steps},
                  {"ranks", r.ranks},
                  {"threads", r.threads}};
  if (r.exchange_bytes) {  // CSR input only
    j["exchange_bytes_per_step"] = *r.exchange_bytes;
    j["dense_exchange_bytes_per_step"] = *r.dense_exchange_bytes;
    j["sparse_exchange_steps"] = r.sparse_exchange_steps;
  }
  return to_json_line(j);
}

std::string csv_header() {
  return "epoch,train_loss,train_accuracy,val_loss,val_accuracy,samples_per_s,epoch_s,val_s,compute_s,"
         "comm_s,io_s,lr,peak_rss_mb,skipped_steps,ranks,threads";
}

std::string to_csv(const EpochReport& r) {
  std::ostringstream s;
  s << r.epoch << ',' << csv_number(r.train_loss) << ',' << csv_optional(r.train_accuracy) << ','
    << csv_optional(r.val_loss) << ',' << csv_optional(r.val_accuracy) << ','
    << csv_number(r.samples_per_s) << ',' << csv_number(r.epoch_s) << ',' << csv_number(r.val_s) << ','
    << csv_number(r.compute_s) << ',' << csv_number(r.comm_s) << ',' << csv_number(r.io_s) << ','
    << csv_number(r.lr) << ',' << csv_number(r.peak_rss_mb) << ',' << r.skipped_steps << ',' << r.ranks << ',' << r.threads;
  return s.str();
}

void MetricsWriter::open_one(const std::string& path, MetricsFormat format, const std::string& option,
                             const std::string& config_text, bool append) {
  std::ofstream& file = format == MetricsFormat::csv ? csv_ : jsonl_;
  if (file.is_open())
    throw ConfigError(option + " " + path + ": a " + (format == MetricsFormat::csv ? "CSV" : "JSONL") +
                      " metrics file is already given; use --metrics FILE.jsonl with --metrics-csv FILE.csv");
  // A resumed run continues the same files; a CSV header goes only into an empty file.
  const bool has_rows = append && std::filesystem::exists(path) && std::filesystem::file_size(path) > 0;
  errno = 0;
  file.open(path, append ? std::ios::app : std::ios::trunc);
  if (!file) throw ConfigError(option + " " + path + ": cannot open for writing: " + errno_text(errno));
  (format == MetricsFormat::csv ? csv_path_ : jsonl_path_) = path;
  if (format == MetricsFormat::csv && !has_rows) {
    file << csv_header() << '\n' << std::flush;
    if (!file) throw DataError(option + " " + path + ": writing failed: " + errno_text(errno));
  }
  const std::string sidecar = config_sidecar_path(path);
  errno = 0;
  std::ofstream config(sidecar, std::ios::trunc);
  config << "# The effective options of this run; `dptrain train --config FILE` repeats it.\n"
         << config_text;
  config.close();
  if (!config) throw ConfigError(option + " " + path + ": cannot write " + sidecar + ": " + errno_text(errno));
}

void MetricsWriter::open(const std::string& path, const std::string& csv_path,
                         const std::string& config_text, bool append) {
  if (!path.empty()) open_one(path, metrics_format_for(path), "--metrics", config_text, append);
  if (!csv_path.empty()) open_one(csv_path, MetricsFormat::csv, "--metrics-csv", config_text, append);
}

void MetricsWriter::write(const EpochReport& report) {
  // A line that does not reach the disk (full, read-only, quota) fails the run: metrics that
  // silently stop are a lost result.
  const auto put = [](std::ofstream& file, const std::string& path, const std::string& line) {
    if (!file.is_open()) return;
    errno = 0;
    file << line << std::endl;
    if (!file) throw DataError(path + ": writing metrics failed: " + errno_text(errno));
  };
  put(jsonl_, jsonl_path_, to_json(report));
  put(csv_, csv_path_, to_csv(report));
}

}  // namespace dptrain
