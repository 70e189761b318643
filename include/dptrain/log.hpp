#pragma once
// The one logger of dptrain (every message of every command goes through it). A small logger
// for a multi-rank job. By default only rank 0 prints, so a job on 64 ranks
// writes one log, not 64 interleaved ones; --log-all-ranks lets every rank print and prefixes
// each line with "[rank R] " so the lines can be told apart (and sorted) afterwards.
#include <memory>
#include <ostream>
#include <string>

namespace dptrain {

// Ordered by verbosity: a logger at `info` prints error, warn and info lines.
enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

// "error" | "warn" | "info" | "debug"; throws ConfigError naming --log-level otherwise.
LogLevel parse_log_level(const std::string& name);

struct LogOptions {
  LogLevel level = LogLevel::info;
  bool all_ranks = false;  // every rank prints, each line prefixed with "[rank R] "
  bool timestamps = false;  // each line starts with the UTC time, "2026-12-01T08:12:28.123Z "
};

class Logger {
 public:
  // `out` receives info and debug lines, `err` warnings and errors.
  Logger(const LogOptions& options, int rank, std::ostream& out, std::ostream& err);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Whether this rank prints lines of this level at all.
  bool enabled(LogLevel level) const;
  // One message, formatted as "[rank R] dptrain: warning: message" (prefix only with
  // all_ranks; "warning: ", "error: ", "debug: " tags by level; info has none).
  void write(LogLevel level, const std::string& message);
  // A stream for free-form lines at `level` (the trainer's per-epoch lines): every line gets
  // the rank prefix and is flushed at its newline. nullptr when `level` is not enabled.
  std::ostream* lines(LogLevel level);

  const LogOptions& options() const { return options_; }
  int rank() const { return rank_; }

 private:
  LogOptions options_;
  int rank_;
  std::ostream& out_;
  std::ostream& err_;
  struct LineStream;
  std::unique_ptr<LineStream> lines_;
};

// The UTC time now, "2026-12-01T08:12:28.123Z" (the form of --log-timestamps).
std::string utc_time_ms();

// The process-wide logger (rank 0, level info, stdout/stderr until configured).
Logger& logger();
// Replaces the process-wide logger; called once per process after the command line is parsed.
void configure_logger(const LogOptions& options, int rank);

inline void log_error(const std::string& m) { logger().write(LogLevel::error, m); }
inline void log_warn(const std::string& m) { logger().write(LogLevel::warn, m); }
inline void log_info(const std::string& m) { logger().write(LogLevel::info, m); }
inline void log_debug(const std::string& m) { logger().write(LogLevel::debug, m); }

}  // namespace dptrain
