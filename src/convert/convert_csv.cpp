// CSV (or any one-character-delimited text, plain or .gz) to HDF5, one pass, block by block.
// A line is one row; one column is the label, every other column a feature.
#include <algorithm>
#include <cmath>
#include <map>

#include "convert_input.hpp"
#include "convert_output.hpp"
#include "dptrain/convert.hpp"
#include "dptrain/error.hpp"
#include "dptrain/names.hpp"

namespace dptrain {
namespace {

char parse_delimiter(const std::string& d) {
  if (d == "tab" || d == "\\t" || d == "\t") return '\t';
  if (d == "space") return ' ';
  if (d.size() != 1) throw ConfigError("--delimiter '" + d + "': expected one character, tab or space");
  return d[0];
}

// Splits a line into fields; "quoted, fields" may contain the delimiter and "" for a quote.
// Returns false on an unterminated quote.
bool split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields,
                  std::string& unquoted_storage) {
  fields.clear();
  unquoted_storage.clear();
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // into unquoted_storage, if quoted
  std::vector<bool> quoted;
  std::size_t pos = 0;
  for (;;) {
    std::size_t start = pos;
    while (start < line.size() && line[start] == ' ' && delimiter != ' ') ++start;
    if (start < line.size() && line[start] == '"') {
      const std::size_t from = unquoted_storage.size();
      std::size_t i = start + 1;
      for (;; ++i) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            unquoted_storage += '"';
            ++i;
            continue;
          }
          break;
        }
        unquoted_storage += line[i];
      }
      spans.emplace_back(from, unquoted_storage.size() - from);
      quoted.push_back(true);
      pos = line.find(delimiter, i + 1);
    } else {
      const std::size_t end = line.find(delimiter, pos);
      spans.emplace_back(pos, (end == std::string_view::npos ? line.size() : end) - pos);
      quoted.push_back(false);
      pos = end;
    }
    if (pos == std::string_view::npos) break;
    ++pos;
  }
  // Views are made only now: unquoted_storage no longer grows.
  for (std::size_t i = 0; i < spans.size(); ++i)
    fields.push_back(quoted[i] ? std::string_view(unquoted_storage).substr(spans[i].first, spans[i].second)
                               : trim(line.substr(spans[i].first, spans[i].second)));
  return true;
}

bool is_number_or_missing(std::string_view field) {
  double v;
  return parse_number(field, v) || is_missing_marker(field);
}

// The file's layout, read from its first non-empty line (`fields`).
struct CsvLayout {
  std::int64_t columns = 0;
  std::int64_t label_index = -1;
  bool header = false;
  std::vector<std::string> names;  // the header's column names
};

CsvLayout detect_layout(const ConvertOptions& o, const LineReader& in, const std::vector<std::string_view>& fields,
                        bool categories) {
  CsvLayout l;
  l.columns = static_cast<std::int64_t>(fields.size());
  const std::int64_t columns = l.columns;
  // Which column is the label: an index (negative from the end) or a header name.
  double index_value = 0;
  const bool label_by_name = !parse_number(o.label_column, index_value);
  if (!label_by_name) {
    if (index_value != std::floor(index_value) || index_value >= columns || index_value < -columns)
      throw ConfigError("--label-column " + o.label_column + ": the file has " + std::to_string(columns) +
                        " columns (0.." + std::to_string(columns - 1) + ", or -1 for the last)");
    l.label_index = static_cast<std::int64_t>(index_value < 0 ? columns + index_value : index_value);
  }
  l.header = o.header == "yes" || (o.header == "auto" && label_by_name);
  if (o.header == "auto" && !label_by_name)
    for (std::int64_t c = 0; c < columns; ++c)
      if (!(categories && c == l.label_index) && !is_number_or_missing(fields[c])) l.header = true;
  if (l.header) {
    for (auto f : fields) l.names.emplace_back(f);
    if (label_by_name) {
      const auto it = std::find(l.names.begin(), l.names.end(), o.label_column);
      if (it == l.names.end())
        throw ConfigError("--label-column '" + o.label_column + "': no such column in the header of " + o.input +
                          " (line " + std::to_string(in.line_number()) + ")");
      l.label_index = it - l.names.begin();
    }
  } else if (label_by_name) {
    throw ConfigError("--label-column '" + o.label_column + "' is a name but " + o.input +
                      " has no header line (--header no); give a column index");
  }
  return l;
}

// One line's label: a number (through --label-map), or with --label-type category a class
// name, numbered in order of first appearance.
class CsvLabels {
 public:
  explicit CsvLabels(const ConvertOptions& o) : o_(o), map_(o.label_map), categories_(o.label_type == "category") {}
  double parse(std::string_view f, std::int64_t column, const LineReader& in, std::string_view line) {
    double v = 0;
    if (categories_) {
      auto it = ids_.find(f);
      if (it == ids_.end()) {
        it = ids_.emplace(std::string(f), static_cast<std::int64_t>(names.size())).first;
        names.emplace_back(f);
      }
      return static_cast<double>(it->second);
    }
    if (parse_number(f, v)) {
      v = map_(v);
      if (o_.label_type == "int" && v != std::floor(v))
        malformed_line(in, line, "label '" + std::string(f) + "' is not an integer (--label-type int)");
      return v;
    }
    if (is_missing_marker(f)) malformed_line(in, line, "the label (column " + std::to_string(column) + ") is missing");
    malformed_line(in, line, "label '" + std::string(f) + "' in column " + std::to_string(column) +
                                 " is not a number (class names: --label-type category)");
  }
  std::vector<std::string> names;  // category names, by id

 private:
  const ConvertOptions& o_;
  const LabelMap map_;
  const bool categories_;
  std::map<std::string, std::int64_t, std::less<>> ids_;
};

// Where the rows came from, the feature names of a header and the class names of categories.
void write_names(H5Writer& writer, const std::string& input, const CsvLayout& layout,
                 const std::vector<std::string>* categories) {
  writer.set_attribute("/features", "source", input);
  if (layout.header) {
    std::vector<std::string> feature_names;
    for (std::int64_t c = 0; c < layout.columns; ++c)
      if (c != layout.label_index) feature_names.push_back(layout.names[c]);
    writer.set_string_array("/features", "columns", feature_names);
  }
  if (categories) writer.set_string_array("/labels", "classes", *categories);
}

}  // namespace

ConvertSummary convert_csv(const ConvertOptions& o) {
  if (o.input.empty() || o.out.empty())
    throw ConfigError("convert --from csv needs --input FILE.csv and --out FILE.h5");
  if (o.header != "auto" && o.header != "yes" && o.header != "no")
    throw ConfigError("--header '" + o.header + "': expected auto, yes or no");
  if (o.label_type != "auto" && o.label_type != "int" && o.label_type != "float" &&
      o.label_type != "category")
    throw ConfigError("--label-type '" + o.label_type + "': expected auto, int, float or category");
  const char delimiter = parse_delimiter(o.delimiter);
  const bool categories = o.label_type == "category";

  LineReader in(o.input);
  std::vector<std::string_view> fields;
  std::string storage;
  std::string_view line;
  // The first non-empty line: a header or the first row.
  bool have_line = false;
  while ((have_line = in.next(line)) && trim(line).empty()) {}
  if (!have_line) throw DataError(o.input + ": no data (the file is empty)");
  line = strip_utf8_bom(line);  // editors on Windows start UTF-8 files with one
  if (!split_fields(line, delimiter, fields, storage)) malformed_line(in, line, "unterminated quote");
  const auto columns = static_cast<std::int64_t>(fields.size());
  if (columns < 2)
    throw DataError(o.input + " line " + std::to_string(in.line_number()) + ": found " +
                    std::to_string(columns) + " field(s) with delimiter '" + o.delimiter +
                    "'; expected a label and at least one feature (set --delimiter?)");

  const CsvLayout layout = detect_layout(o, in, fields, categories);
  const std::int64_t label_index = layout.label_index;
  const bool header = layout.header;
  const std::vector<std::string>& names = layout.names;
  const std::int64_t cols = columns - 1;
  const std::int64_t block = block_rows_for(o, cols);
  RowBlock rows(block, cols);
  CsvLabels labels(o);
  const std::vector<std::string>& category_names = labels.names;
  ConvertSummary summary;
  summary.features = cols;

  write_file_atomically(o.out, [&](H5Writer& writer) {
    ConvertOutput output(writer, cols, 1, o);
    bool pending = !header;  // the first line is already in `fields` when it is data
    while (pending || in.next(line)) {
      if (!pending) {
        if (trim(line).empty()) continue;
        if (!split_fields(line, delimiter, fields, storage)) malformed_line(in, line, "unterminated quote");
      }
      pending = false;
      if (static_cast<std::int64_t>(fields.size()) != columns)
        malformed_line(in, line, "expected " + std::to_string(columns) + " fields (as " +
                                     (header ? "in the header" : "on the first line") + "), found " +
                                     std::to_string(fields.size()));
      float* row = rows.row();
      for (std::int64_t c = 0, j = 0; c < columns; ++c) {
        const std::string_view f = fields[c];
        double v = 0;
        if (c == label_index) {
          v = labels.parse(f, c, in, line);
          rows.label() = v;
          continue;
        }
        if (parse_number(f, v)) {
          row[j++] = static_cast<float>(v);
        } else if (is_missing_marker(f)) {
          row[j++] = std::nanf("");  // a missing value: training reports it or --skip-bad-rows drops it
        } else {
          malformed_line(in, line, "column " + std::to_string(c) +
                                       (header ? " ('" + names[c] + "')" : std::string()) + " value '" +
                                       std::string(f) + "' is not a number");
        }
      }
      if (rows.commit()) rows.flush(output, o, in.bytes_read(), in.total_bytes());
    }
    rows.flush(output, o, in.bytes_read(), in.total_bytes());
    if (output.rows() == 0) throw DataError(o.input + ": no data rows (only a header line?)");
    const bool integer = categories || o.label_type == "int" ||
                         (o.label_type == "auto" && output.labels_integral());
    summary.label_type = output.finish(integer);
    summary.rows = output.rows();
    write_names(writer, o.input, layout, categories ? &category_names : nullptr);
  });
  summary.details = std::string(header ? "header line" : "no header") + ", label column " +
                    (header ? "'" + names[label_index] + "' " : std::string()) + "(index " +
                    std::to_string(label_index) + ")" +
                    (categories ? ", " + std::to_string(category_names.size()) + " classes" : "");
  return summary;
}

}  // namespace dptrain
