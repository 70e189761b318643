// LIBSVM / svmlight text ("label index:value index:value ... # comment", plain or .gz) to a
// dense HDF5 table or a CSR group (--layout). A first pass over the file finds the feature
// count, the index base and the density; the second pass writes rows block by block.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "convert_input.hpp"
#include "convert_output.hpp"
#include "dptrain/convert.hpp"
#include "dptrain/error.hpp"
#include "sparse_output.hpp"

namespace dptrain {
namespace {

struct Entry {
  std::int64_t index;
  double value;
};

// Splits off the next whitespace-separated token.
std::string_view next_token(std::string_view& rest) {
  std::size_t i = 0;
  while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
  std::size_t j = i;
  while (j < rest.size() && rest[j] != ' ' && rest[j] != '\t') ++j;
  const std::string_view token = rest.substr(i, j - i);
  rest.remove_prefix(j);
  return token;
}

// Parses one line; false for a blank or comment-only line. Throws on a malformed line.
bool parse_line(const LineReader& in, std::string_view line, double& label,
                std::vector<Entry>& entries) {
  entries.clear();
  std::string_view rest = line.substr(0, line.find('#'));
  const std::string_view first = next_token(rest);
  if (first.empty()) return false;
  if (first.find(',') != std::string_view::npos)
    malformed_line(in, line, "multi-label lines ('" + std::string(first) + "') are not supported");
  if (!parse_number(first, label))
    malformed_line(in, line, "the label '" + std::string(first) + "' is not a number");
  for (std::string_view token = next_token(rest); !token.empty(); token = next_token(rest)) {
    const std::size_t colon = token.find(':');
    if (colon == std::string_view::npos)
      // std::string("'") first: "'" + std::string&& trips GCC 12's false -Wrestrict warning
      malformed_line(in, line, std::string("'") + std::string(token) + "' is not index:value");
    const std::string_view key = token.substr(0, colon);
    if (key == "qid") continue;  // ranking query ids carry no feature
    Entry e{};
    const auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), e.index);
    if (ec != std::errc() || ptr != key.data() + key.size() || e.index < 0)
      malformed_line(in, line, "feature index '" + std::string(key) + "' is not a non-negative integer");
    if (!parse_number(token.substr(colon + 1), e.value))
      malformed_line(in, line, "value '" + std::string(token.substr(colon + 1)) + "' of index " +
                                   std::string(key) + " is not a number");
    entries.push_back(e);
  }
  return true;
}

// One line's entries as a CSR row (columns from 0), checked as the dense path checks them.
void append_entries(const LineReader& in, std::string_view line, std::vector<Entry>& entries, std::int64_t base,
                    std::int64_t cols, const std::string& how, CsrRows& rows) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.index < b.index; });
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::int64_t c = entries[i].index - base;
    if (c < 0) malformed_line(in, line, "feature index 0 in a 1-based file (use --index-base 0)");
    if (c >= cols)
      malformed_line(in, line, "feature index " + std::to_string(entries[i].index) + " is beyond the " +
                                   std::to_string(cols) + " features (" + how + ", " + std::to_string(base) +
                                   "-based; set --features)");
    if (i > 0 && entries[i].index == entries[i - 1].index)
      malformed_line(in, line, "feature index " + std::to_string(entries[i].index) + " appears twice");
    if (entries[i].value == 0) continue;  // explicit zeros are not stored
    rows.indices.push_back(static_cast<std::int32_t>(c));
    rows.values.push_back(static_cast<float>(entries[i].value));
  }
  rows.indptr.push_back(static_cast<std::int64_t>(rows.indices.size()));
}

// The second pass for --layout sparse: rows appended to the CSR group block by block.
ConvertSummary write_libsvm_csr(const ConvertOptions& o, LineReader& in, std::int64_t base, std::int64_t cols,
                                const std::string& how) {
  const LabelMap label_map(o.label_map);
  std::vector<Entry> entries;
  std::string_view line;
  double label = 0;
  ConvertSummary summary;
  summary.features = cols;
  write_file_atomically(o.out, [&](H5Writer& writer) {
    CsrWriter csr(writer, "/features", layout_for(o, 1));
    CsrRows block;
    LabelColumn labels;
    while (in.next(line)) {
      if (!parse_line(in, line, label, entries)) continue;
      append_entries(in, line, entries, base, cols, how, block);
      label = label_map(label);
      if (o.label_type == "int" && label != std::floor(label))
        malformed_line(in, line, "label is not an integer (--label-type int)");
      labels.add(label);
      flush_full_block(csr, block, o, in);
    }
    finish_blocks(csr, block, o, cols);
    summary.label_type = labels.write(writer, o.label_type);
    summary.rows = csr.rows();
    writer.set_attribute("/features", "source", o.input);
  });
  summary.details = std::to_string(cols) + " features (" + how + "), " + std::to_string(base) + "-based indices";
  return summary;
}

}  // namespace

ConvertSummary convert_libsvm(const ConvertOptions& o) {
  if (o.input.empty() || o.out.empty())
    throw ConfigError("convert --from libsvm needs --input FILE and --out FILE.h5");
  if (o.index_base != "auto" && o.index_base != "0" && o.index_base != "1")
    throw ConfigError("--index-base '" + o.index_base + "': expected 0, 1 or auto");
  if (o.label_type != "auto" && o.label_type != "int" && o.label_type != "float")
    throw ConfigError("--label-type '" + o.label_type + "': expected auto, int or float for libsvm");
  if (o.features < 0) throw ConfigError("--features must be positive (0: inferred)");
  const LabelMap label_map(o.label_map);
  LineReader in(o.input);
  std::vector<Entry> entries;
  std::string_view line;
  double label = 0;

  std::int64_t base = o.index_base == "auto" ? -1 : std::stoll(o.index_base);
  std::int64_t cols = o.features;
  std::string how = "given";
  // First pass: the smallest and largest index, rows and stored values (for --layout), and
  // every line checked once.
  std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = -1, lines = 0, nnz = 0;
  while (in.next(line))
    if (parse_line(in, line, label, entries)) {
      ++lines;
      nnz += static_cast<std::int64_t>(entries.size());
      for (const Entry& e : entries) lo = std::min(lo, e.index), hi = std::max(hi, e.index);
    }
  if (base < 0) base = lo == 0 ? 0 : 1;
  if (cols == 0) {
    cols = hi + 1 - base;
    how = "inferred";
  }
  if (cols <= 0) throw DataError(o.input + ": no feature index found; give --features D");
  in.rewind();
  const std::string layout = choose_layout(o, lines, cols, nnz);
  const std::string density = percent_text(static_cast<double>(nnz) / (static_cast<double>(std::max<std::int64_t>(1, lines)) * cols));
  if (layout == "sparse") {
    ConvertSummary summary = write_libsvm_csr(o, in, base, cols, how);
    summary.details += "; CSR, " + std::to_string(nnz) + " non-zeros (" + density + ")";
    return summary;
  }

  const std::int64_t block = block_rows_for(o, cols);
  RowBlock rows(block, cols);
  ConvertSummary summary;
  summary.features = cols;
  write_file_atomically(o.out, [&](H5Writer& writer) {
    ConvertOutput output(writer, cols, 1, o);
    while (in.next(line)) {
      if (!parse_line(in, line, label, entries)) continue;
      float* row = rows.row();
      std::fill(row, row + cols, 0.0f);
      for (const Entry& e : entries) {
        const std::int64_t c = e.index - base;
        if (c < 0)
          malformed_line(in, line, "feature index 0 in a 1-based file (use --index-base 0)");
        if (c >= cols)
          malformed_line(in, line, "feature index " + std::to_string(e.index) + " is beyond the " +
                                       std::to_string(cols) + " features (" + how + ", " +
                                       std::to_string(base) + "-based; set --features)");
        if (row[c] != 0.0f)
          malformed_line(in, line, "feature index " + std::to_string(e.index) + " appears twice");
        row[c] = static_cast<float>(e.value);
      }
      label = label_map(label);
      if (o.label_type == "int" && label != std::floor(label))
        malformed_line(in, line, "label is not an integer (--label-type int)");
      rows.label() = label;
      if (rows.commit()) rows.flush(output, o, in.bytes_read(), in.total_bytes());
    }
    rows.flush(output, o, in.bytes_read(), in.total_bytes());
    if (output.rows() == 0) throw DataError(o.input + ": no data lines");
    const bool integer = o.label_type == "int" || (o.label_type == "auto" && output.labels_integral());
    summary.label_type = output.finish(integer);
    summary.rows = output.rows();
    writer.set_attribute("/features", "source", o.input);
  });
  summary.details = std::to_string(cols) + " features (" + how + "), " + std::to_string(base) +
                    "-based indices; dense (" + density + " non-zero)";
  return summary;
}

}  // namespace dptrain
