#pragma once
// Text to sparse features, the same in `convert --from text` and `predict --stdin --text`:
//   tokens:  runs of ASCII letters and digits, lower-cased (every other byte separates tokens);
//   n-grams: every run of 1..ngrams consecutive tokens, joined by one space ("new york");
//   column:  FNV-1a 64-bit of the n-gram's bytes, modulo 2^hash_bits (the low bits);
//   value:   log(1 + count) of each column in the line (raw counts with tf = "raw"),
//            then the row scaled to unit L2 norm (norm = "none" leaves it).
// The settings are stored as attributes of the CSR group, so a model trained on the file
// can featurise new text exactly as its training data was.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dptrain/csr.hpp"
#include "dptrain/hdf5.hpp"

namespace dptrain {

struct TextFeatureOptions {
  int ngrams = 2;          // unigrams .. ngrams
  int hash_bits = 20;      // 2^hash_bits columns
  std::string tf = "log";  // log: log(1 + count) | raw: count
  std::string norm = "l2"; // l2 | none
  std::int64_t columns() const { return std::int64_t{1} << hash_bits; }
  bool operator==(const TextFeatureOptions&) const = default;
  std::string describe() const;  // e.g. "ngrams=2 hash-bits=20 tf=log norm=l2"
};

// Throws ConfigError naming the option when a setting is out of range.
void validate(const TextFeatureOptions& options);

// Lower-case alphanumeric tokens of `text`.
std::vector<std::string> tokenize(std::string_view text);

// Featurises lines into CSR rows, reusing its buffers.
class TextFeaturizer {
 public:
  explicit TextFeaturizer(const TextFeatureOptions& options);
  // Appends the row of `text` (sorted columns) to `rows`.
  void append(std::string_view text, CsrRows& rows);
  const TextFeatureOptions& options() const { return o_; }

 private:
  TextFeatureOptions o_;
  std::unordered_map<std::int32_t, float> counts_;
  std::vector<std::pair<std::int32_t, float>> row_;
};

// The settings as attributes of a CSR group (text-ngrams, text-hash-bits, text-hash = "fnv1a64",
// text-tokens = "lowercase-alphanumeric", text-tf, text-norm), and back; reading throws
// DataError when the group was not written by the text converter.
void write_text_settings(H5Writer& writer, const std::string& group, const TextFeatureOptions& options);
TextFeatureOptions read_text_settings(const H5Reader& file, const std::string& group);
bool has_text_settings(const H5Reader& file, const std::string& group);

// The text settings of training data: those of `group` in every file when all carry the same
// settings, nothing otherwise (not converted from text, or from differently featurised text).
// The trainer stores them in its checkpoints, so that predict --stdin takes raw text lines.
std::optional<TextFeatureOptions> common_text_settings(const std::vector<std::string>& files,
                                                       const std::string& group);

}  // namespace dptrain
