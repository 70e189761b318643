#include "dptrain/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <streambuf>

#include "dptrain/error.hpp"

namespace dptrain {
namespace {

std::mutex& output_mutex() {
  static std::mutex m;
  return m;
}

const char* level_tag(LogLevel level) {
  switch (level) {
    case LogLevel::error: return "error: ";
    case LogLevel::warn: return "warning: ";
    case LogLevel::debug: return "debug: ";
    case LogLevel::info: break;
  }
  return "";
}

// "2026-12-01T08:12:28.123Z ": UTC wall-clock time, so lines of several hosts line up.
std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ ", static_cast<int>(ms));
  return text;
}

// Forwards characters to `target`, inserting `prefix` at the start of every line and
// flushing at every newline (batch-job output files then show progress as it happens).
class PrefixLineBuf : public std::streambuf {
 public:
  PrefixLineBuf(std::ostream& target, std::string prefix, bool timestamps)
      : target_(target), prefix_(std::move(prefix)), timestamps_(timestamps) {}

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    if (at_line_start_ && timestamps_) target_ << timestamp();
    if (at_line_start_ && !prefix_.empty()) target_ << prefix_;
    target_.put(traits_type::to_char_type(c));
    at_line_start_ = traits_type::to_char_type(c) == '\n';
    if (at_line_start_) target_.flush();
    return c;
  }
  int sync() override {
    target_.flush();
    return 0;
  }

 private:
  std::ostream& target_;
  std::string prefix_;
  bool timestamps_;
  bool at_line_start_ = true;
};

}  // namespace

std::string utc_time_ms() {
  std::string text = timestamp();
  text.pop_back();
  return text;
}

namespace {

std::string rank_prefix(const LogOptions& options, int rank) {
  return options.all_ranks ? "[rank " + std::to_string(rank) + "] " : "";
}

std::unique_ptr<Logger>& global() {
  static std::unique_ptr<Logger> instance =
      std::make_unique<Logger>(LogOptions{}, 0, std::cout, std::cerr);
  return instance;
}

}  // namespace

struct Logger::LineStream {
  LineStream(std::ostream& target, std::string prefix, bool timestamps)
      : buf(target, std::move(prefix), timestamps), stream(&buf) {}
  PrefixLineBuf buf;
  std::ostream stream;
};

LogLevel parse_log_level(const std::string& name) {
  if (name == "error") return LogLevel::error;
  if (name == "warn") return LogLevel::warn;
  if (name == "info") return LogLevel::info;
  if (name == "debug") return LogLevel::debug;
  throw ConfigError("--log-level '" + name + "': expected error, warn, info or debug");
}

Logger::Logger(const LogOptions& options, int rank, std::ostream& out, std::ostream& err)
    : options_(options),
      rank_(rank),
      out_(out),
      err_(err),
      lines_(std::make_unique<LineStream>(out, rank_prefix(options, rank), options.timestamps)) {}

Logger::~Logger() = default;

bool Logger::enabled(LogLevel level) const {
  return (rank_ == 0 || options_.all_ranks) && static_cast<int>(level) <= static_cast<int>(options_.level);
}

void Logger::write(LogLevel level, const std::string& message) {
  if (!enabled(level)) return;
  std::ostream& to = level <= LogLevel::warn ? err_ : out_;
  const std::string line = (options_.timestamps ? timestamp() : "") + rank_prefix(options_, rank_) + "dptrain: " +
                           level_tag(level) + message + "\n";
  std::lock_guard<std::mutex> lock(output_mutex());
  if (&to == &err_) out_.flush();  // keep the order of stdout and stderr lines in one file
  to << line;
  to.flush();
}

std::ostream* Logger::lines(LogLevel level) { return enabled(level) ? &lines_->stream : nullptr; }

Logger& logger() { return *global(); }

void configure_logger(const LogOptions& options, int rank) {
  global() = std::make_unique<Logger>(options, rank, std::cout, std::cerr);
}

}  // namespace dptrain
