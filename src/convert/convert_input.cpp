#include "convert_input.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "dptrain/error.hpp"
#include "util/split.hpp"

namespace dptrain {

namespace {
constexpr std::size_t kBufferBytes = 1 << 20;
}

LineReader::LineReader(const std::string& path) : path_(path), buffer_(kBufferBytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw DataError(path + ": no such file");
  total_bytes_ = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  file_ = gzopen(path.c_str(), "rb");
  if (!file_) throw DataError(path + ": cannot open for reading");
  gzbuffer(file_, 1 << 17);
}

LineReader::~LineReader() { gzclose(file_); }

std::int64_t LineReader::bytes_read() const {
  const auto offset = gzoffset(file_);  // compressed bytes consumed (the file offset)
  return offset < 0 ? 0 : static_cast<std::int64_t>(offset);
}

void LineReader::rewind() {
  gzrewind(file_);
  begin_ = end_ = 0;
  eof_ = false;
  line_number_ = 0;
}

bool LineReader::fill() {
  if (eof_) return false;
  // Keep the unread tail at the front of the buffer, then read after it.
  std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  const int got = gzread(file_, buffer_.data() + end_, static_cast<unsigned>(buffer_.size() - end_));
  if (got < 0) {
    int code = 0;
    throw DataError(path_ + ": read error after line " + std::to_string(line_number_) + ": " +
                    gzerror(file_, &code));
  }
  if (got == 0) eof_ = true;
  end_ += static_cast<std::size_t>(got);
  return got > 0;
}

bool LineReader::next(std::string_view& line) {
  long_line_.clear();
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl) {
      const std::size_t len = static_cast<const char*>(nl) - start;
      if (long_line_.empty()) {
        line = std::string_view(start, len);
      } else {
        long_line_.append(start, len);
        line = long_line_;
      }
      begin_ += len + 1;
      break;
    }
    if (end_ - begin_ == buffer_.size()) {  // a line longer than the buffer: collect it
      long_line_.append(start, end_ - begin_);
      begin_ = end_;
    }
    if (!fill()) {
      if (begin_ == end_ && long_line_.empty()) return false;  // end of file
      long_line_.append(buffer_.data() + begin_, end_ - begin_);  // last line without "\n"
      begin_ = end_;
      line = long_line_;
      break;
    }
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  ++line_number_;
  return true;
}

void malformed_line(const LineReader& in, std::string_view line, const std::string& what) {
  std::string shown(line.substr(0, 200));
  if (line.size() > 200) shown += "...";
  throw DataError(in.path() + " line " + std::to_string(in.line_number()) + ": " + what + ": '" +
                  shown + "'");
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool parse_number(std::string_view text, double& value) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range) {  // 1e999: a number, too large for a double
    value = text.front() == '-' ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  return ec == std::errc() && ptr == end;
}

bool is_missing_marker(std::string_view text) {
  text = trim(text);
  return text.empty() || text == "NA" || text == "N/A" || text == "n/a" || text == "null" ||
         text == "NULL" || text == "?";
}

LabelMap::LabelMap(const std::string& spec) {
  for (const std::string& item : split_list(spec)) {
    const std::size_t colon = item.find(':');
    double from = 0, to = 0;
    if (colon == std::string::npos || !parse_number(item.substr(0, colon), from) ||
        !parse_number(item.substr(colon + 1), to))
      throw ConfigError("--label-map '" + spec + "': expected FROM:TO,... with numbers, e.g. -1:0,1:1");
    map_[from] = to;
  }
}

}  // namespace dptrain
