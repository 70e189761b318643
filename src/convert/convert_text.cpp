// Raw text ("label<TAB>text" lines, plain or .gz) to a CSR group of hashed n-gram features
// (text_features.hpp) and /labels: class ids when every label is a non-negative integer,
// else class names numbered in sorted order, stored in the /labels string-array attribute "classes"
// (one per line). The featurisation settings are stored as attributes of /features.
#include <algorithm>
#include <charconv>

#include "convert_input.hpp"
#include "convert_output.hpp"
#include "dptrain/convert.hpp"
#include "dptrain/error.hpp"
#include "dptrain/text_features.hpp"
#include "sparse_output.hpp"

namespace dptrain {
namespace {

bool class_id(const std::string& label, std::int64_t& id) {
  const auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), id);
  return ec == std::errc() && end == label.data() + label.size() && id >= 0;
}

// Labels as class ids; names (when any label is not an id) in sorted order.
std::vector<std::int64_t> class_ids(const std::vector<std::string>& labels, std::vector<std::string>& names) {
  std::vector<std::int64_t> ids(labels.size());
  bool numeric = true;
  for (std::size_t i = 0; i < labels.size() && numeric; ++i) numeric = class_id(labels[i], ids[i]);
  if (numeric) return ids;
  names = labels;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (std::size_t i = 0; i < labels.size(); ++i)
    ids[i] = std::lower_bound(names.begin(), names.end(), labels[i]) - names.begin();
  return ids;
}

std::string trimmed(std::string_view s) {
  const auto b = s.find_first_not_of(" \r");
  const auto e = s.find_last_not_of(" \r");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

}  // namespace

ConvertSummary convert_text(const ConvertOptions& o) {
  if (o.input.empty() || o.out.empty()) throw ConfigError("convert --from text needs --input FILE and --out FILE.h5");
  if (o.layout == "dense")
    throw ConfigError("convert --from text writes CSR only (2^--hash-bits columns); drop --layout dense");
  const TextFeatureOptions features{o.ngrams, o.hash_bits, o.tf, o.norm};
  TextFeaturizer featurizer(features);
  LineReader in(o.input);
  std::string_view line;
  std::vector<std::string> labels;
  ConvertSummary summary;
  summary.features = features.columns();
  write_file_atomically(o.out, [&](H5Writer& writer) {
    CsrWriter csr(writer, "/features", layout_for(o, 1));
    CsrRows block;
    while (in.next(line)) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      const std::size_t tab = line.find('\t');
      if (tab == std::string_view::npos) malformed_line(in, line, "expected label<TAB>text");
      labels.push_back(trimmed(line.substr(0, tab)));
      if (labels.back().empty()) malformed_line(in, line, "the label before the tab is empty");
      featurizer.append(line.substr(tab + 1), block);
      flush_full_block(csr, block, o, in);
    }
    finish_blocks(csr, block, o, features.columns());
    write_text_settings(writer, "/features", features);
    std::vector<std::string> names;
    const std::vector<std::int64_t> ids = class_ids(labels, names);
    writer.write("/labels", {static_cast<std::int64_t>(ids.size())}, ids.data());
    if (!names.empty()) writer.set_string_array("/labels", "classes", names);
    writer.set_attribute("/features", "source", o.input);
    summary.rows = csr.rows();
    summary.label_type = "int64";
    summary.details = std::to_string(csr.nnz()) + " non-zeros (" + std::to_string((csr.nnz() + csr.rows() / 2) / std::max<std::int64_t>(1, csr.rows())) +
                      " per row), unigrams to " + std::to_string(o.ngrams) + "-grams hashed into 2^" +
                      std::to_string(o.hash_bits) + " columns, " + (names.empty() ? "class ids" : std::to_string(names.size()) + " class names");
  });
  return summary;
}

}  // namespace dptrain
