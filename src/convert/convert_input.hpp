#pragma once
// Reading text inputs for the converters: lines of a plain or gzip-compressed file, with
// line numbers for error messages, and the number parsing the formats share.
#include <zlib.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dptrain {

class LineReader {
 public:
  explicit LineReader(const std::string& path);  // throws DataError if it cannot be opened
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its end of line ("\n" or "\r\n"); false at the end of the file.
  // The view is valid until the next call.
  bool next(std::string_view& line);
  std::int64_t line_number() const { return line_number_; }  // of the line last returned
  // Bytes of the file consumed so far (compressed bytes for .gz) and the file size.
  std::int64_t bytes_read() const;
  std::int64_t total_bytes() const { return total_bytes_; }
  void rewind();  // back to the first line, for a second pass
  const std::string& path() const { return path_; }

 private:
  bool fill();
  std::string path_;
  gzFile file_;
  std::int64_t total_bytes_ = 0;
  std::int64_t line_number_ = 0;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;  // unread bytes are buffer_[begin_, end_)
  bool eof_ = false;
  std::string long_line_;  // a line that did not fit in the buffer
};

// A DataError "FILE line N: WHAT: 'LINE'" (the line shortened to 200 characters).
[[noreturn]] void malformed_line(const LineReader& in, std::string_view line,
                                 const std::string& what);

// Parses a whole field as a number ("+1", "1e-3", "nan", "inf" too); false otherwise.
bool parse_number(std::string_view text, double& value);
// Values CSV writers use for a missing value ("", NA, N/A, null, ...): read as NaN.
bool is_missing_marker(std::string_view text);
std::string_view trim(std::string_view text);

// --label-map "-1:0,1:1": label values replaced before writing. Throws ConfigError.
class LabelMap {
 public:
  explicit LabelMap(const std::string& spec);
  double operator()(double label) const {
    if (map_.empty()) return label;
    const auto it = map_.find(label);
    return it == map_.end() ? label : it->second;
  }

 private:
  std::map<double, double> map_;
};

}  // namespace dptrain
