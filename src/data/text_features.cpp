#include "dptrain/text_features.hpp"

#include <algorithm>
#include <cmath>

#include "dptrain/error.hpp"
#include "util/fnv1a.hpp"

namespace dptrain {
namespace {

bool alphanumeric(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

void validate(const TextFeatureOptions& o) {
  if (o.ngrams < 1 || o.ngrams > 8) throw ConfigError("--ngrams " + std::to_string(o.ngrams) + ": expected 1 to 8");
  if (o.hash_bits < 1 || o.hash_bits > 30)
    throw ConfigError("--hash-bits " + std::to_string(o.hash_bits) + ": expected 1 to 30");
  if (o.tf != "log" && o.tf != "raw") throw ConfigError("--tf '" + o.tf + "': expected log or raw");
  if (o.norm != "l2" && o.norm != "none") throw ConfigError("--norm '" + o.norm + "': expected l2 or none");
}

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  std::string token;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (alphanumeric(c)) {
      token += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else if (!token.empty()) {
      tokens.push_back(std::move(token));
      token.clear();
    }
  }
  if (!token.empty()) tokens.push_back(std::move(token));
  return tokens;
}

TextFeaturizer::TextFeaturizer(const TextFeatureOptions& options) : o_(options) { validate(o_); }

void TextFeaturizer::append(std::string_view text, CsrRows& rows) {
  const std::vector<std::string> tokens = tokenize(text);
  const std::uint64_t mask = (std::uint64_t{1} << o_.hash_bits) - 1;
  counts_.clear();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::uint64_t h = kFnv1aOffset;
    for (std::size_t n = 0; n < static_cast<std::size_t>(o_.ngrams) && i + n < tokens.size(); ++n) {
      if (n > 0) fnv1a(h, " ", 1);
      fnv1a(h, tokens[i + n].data(), tokens[i + n].size());
      counts_[static_cast<std::int32_t>(h & mask)] += 1.0f;
    }
  }
  row_.assign(counts_.begin(), counts_.end());
  std::sort(row_.begin(), row_.end());
  double norm = 0;
  for (auto& [column, value] : row_) {
    if (o_.tf == "log") value = std::log1p(value);
    norm += static_cast<double>(value) * value;
  }
  const float scale = o_.norm == "l2" && norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 1.0f;
  for (const auto& [column, value] : row_) {
    rows.indices.push_back(column);
    rows.values.push_back(value * scale);
  }
  rows.indptr.push_back(static_cast<std::int64_t>(rows.indices.size()));
}

void write_text_settings(H5Writer& writer, const std::string& group, const TextFeatureOptions& o) {
  writer.set_attribute(group, "text-tokens", std::string("lowercase-alphanumeric"));
  writer.set_attribute(group, "text-hash", std::string("fnv1a64"));
  writer.set_attribute(group, "text-ngrams", std::vector<std::int64_t>{o.ngrams});
  writer.set_attribute(group, "text-hash-bits", std::vector<std::int64_t>{o.hash_bits});
  writer.set_attribute(group, "text-tf", o.tf);
  writer.set_attribute(group, "text-norm", o.norm);
}

TextFeatureOptions read_text_settings(const H5Reader& file, const std::string& group) {
  for (const char* key : {"text-tokens", "text-hash", "text-ngrams", "text-hash-bits", "text-tf", "text-norm"})
    if (!file.has_attribute(group, key))
      throw DataError(file.path() + ": '" + group + "' has no attribute '" + key +
                      "'; expected a file written by dptrain convert --from text");
  if (file.attribute_string(group, "text-hash") != "fnv1a64" ||
      file.attribute_string(group, "text-tokens") != "lowercase-alphanumeric")
    throw DataError(file.path() + ": '" + group + "' was featurised with another tokenizer or hash");
  TextFeatureOptions o;
  o.ngrams = static_cast<int>(file.attribute_ints(group, "text-ngrams").at(0));
  o.hash_bits = static_cast<int>(file.attribute_ints(group, "text-hash-bits").at(0));
  o.tf = file.attribute_string(group, "text-tf");
  o.norm = file.attribute_string(group, "text-norm");
  validate(o);
  return o;
}

}  // namespace dptrain

namespace dptrain {

std::string TextFeatureOptions::describe() const {
  return "ngrams=" + std::to_string(ngrams) + " hash-bits=" + std::to_string(hash_bits) + " tf=" + tf + " norm=" + norm;
}

bool has_text_settings(const H5Reader& file, const std::string& group) {
  return file.has_attribute(group, "text-hash-bits");
}

std::optional<TextFeatureOptions> common_text_settings(const std::vector<std::string>& files,
                                                       const std::string& group) {
  std::optional<TextFeatureOptions> common;
  for (const std::string& path : files) {
    const H5Reader file(path);
    if (!has_text_settings(file, group)) return std::nullopt;
    const TextFeatureOptions mine = read_text_settings(file, group);
    if (common && !(*common == mine)) return std::nullopt;
    common = mine;
  }
  return common;
}

}  // namespace dptrain
