// predict --stdin: CSV rows in, one prediction line out per row, batch by batch.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "dptrain/error.hpp"
#include "dptrain/evaluation.hpp"
#include "dptrain/prediction.hpp"
#include "infer/text_stream.hpp"
#include "util/threads.hpp"

namespace dptrain {
namespace {

// Lines from a file descriptor, read with read(2) so that we can tell whether more input is
// available right now (poll) without waiting for it.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  // The next line without its newline. With `wait`, blocks until a line is complete or the
  // input ends; without, returns false unless a line is available without blocking. Returns
  // false at the end of input (a last line without newline still counts as a line).
  bool next(std::string& line, bool wait) {
    while (true) {
      const std::size_t newline = buffer_.find('\n', start_);
      if (newline != std::string::npos) {
        line.assign(buffer_, start_, newline - start_);
        start_ = newline + 1;
        return true;
      }
      if (end_of_input_) {
        if (start_ == buffer_.size()) return false;
        line.assign(buffer_, start_);
        start_ = buffer_.size();
        return true;
      }
      if (!wait && !readable_now()) return false;
      fill();
    }
  }

 private:
  bool readable_now() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  void fill() {
    buffer_.erase(0, start_);  // keep only the unfinished line
    start_ = 0;
    char chunk[1 << 16];
    ssize_t n;
    do n = ::read(fd_, chunk, sizeof chunk);
    while (n < 0 && errno == EINTR);
    if (n < 0) throw DataError(std::string("stdin: read failed: ") + std::strerror(errno));
    if (n == 0) end_of_input_ = true;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }

  int fd_;
  std::string buffer_;
  std::size_t start_ = 0;
  bool end_of_input_ = false;
};

// Parses one line of `width` comma-separated numbers into `x`.
void parse_row(const std::string& line, std::int64_t line_number, std::int64_t width, float* x) {
  const std::string where = "stdin line " + std::to_string(line_number);
  std::int64_t count = 0;
  std::size_t pos = 0;
  const bool blank = line.find_first_not_of(" \t\r") == std::string::npos;
  while (!blank) {
    std::size_t comma = line.find(',', pos);
    const std::size_t end = comma == std::string::npos ? line.size() : comma;
    std::string field = line.substr(pos, end - pos);
    const auto first = field.find_first_not_of(" \t\r");
    const auto last = field.find_last_not_of(" \t\r");
    field = first == std::string::npos ? "" : field.substr(first, last - first + 1);
    char* parsed_end = nullptr;
    errno = 0;
    const float v = std::strtof(field.c_str(), &parsed_end);
    if (field.empty() || *parsed_end != '\0')
      throw DataError(where + ", column " + std::to_string(count + 1) + ": '" + field +
                      "' is not a number");
    if (!std::isfinite(v))
      throw DataError(where + ", column " + std::to_string(count + 1) + ": " +
                      (std::isnan(v) ? "NaN" : "infinite value '" + field + "'") +
                      "; expected a finite number");
    if (count < width) x[count] = v;
    ++count;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (count != width)
    throw DataError(where + ": expected " + std::to_string(width) +
                    " comma-separated feature values (the model's input width), got " +
                    std::to_string(count));
}

}  // namespace

std::int64_t predict_stream(const ModelSpec& spec, const AlignedVector<float>& params, int input_fd,
                            std::ostream& out, const StreamOptions& o) {
  if (o.batch_lines < 1) throw ConfigError("--batch-lines must be at least 1");
  check_thread_count(o.threads);
  // Small fixed blocks so that even a modest batch spreads over the threads.
  Scorer scorer(spec, params, o.threads, 64);
  const std::int64_t d = spec.inputs(), k = spec.outputs();
  LineReader reader(input_fd);
  std::vector<std::string> batch;
  AlignedVector<float> x, outputs;
  std::string text, line;
  std::int64_t answered = 0;
  std::optional<TextFeaturizer> featurizer;
  std::optional<CsrRows> text_rows;
  if (o.text) {
    check_text_model(spec, *o.text);
    featurizer.emplace(*o.text);
    text_rows.emplace();
  }
  while (true) {
    batch.clear();
    if (!reader.next(line, true)) break;
    batch.push_back(line);
    while (static_cast<std::int64_t>(batch.size()) < o.batch_lines && reader.next(line, false))
      batch.push_back(line);

    std::optional<DataError> error;
    std::int64_t good = 0;
    if (text_rows) {  // raw text: every line is a row (text_stream.cpp)
      good = score_text_lines(*featurizer, batch, *text_rows, scorer, outputs);
    } else {
      x.resize(batch.size() * static_cast<std::size_t>(d));
    }
    for (; !text_rows && good < static_cast<std::int64_t>(batch.size()); ++good) {
      try {
        parse_row(batch[static_cast<std::size_t>(good)], answered + good + 1, d, x.data() + good * d);
      } catch (const DataError& e) {
        error = e;
        break;
      }
    }
    outputs.resize(static_cast<std::size_t>(good * k));
    if (!text_rows) scorer.score(x.data(), good, outputs.data());
    text.clear();
    for (std::int64_t r = 0; r < good; ++r) append_prediction_csv(spec, outputs.data() + r * k, text);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    answered += good;
    if (error) throw *error;
    if (!out) throw DataError("stdout: cannot write predictions");
  }
  return answered;
}

}  // namespace dptrain
