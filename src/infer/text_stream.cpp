#include "infer/text_stream.hpp"

#include "dptrain/error.hpp"

namespace dptrain {

void check_text_model(const ModelSpec& spec, const TextFeatureOptions& text) {
  if (spec.inputs() != text.columns())
    throw ConfigError("--text: the text settings give 2^" + std::to_string(text.hash_bits) + " = " +
                      std::to_string(text.columns()) + " columns but the model (" + spec.describe() + ") takes " +
                      std::to_string(spec.inputs()) + " features; name the data file the model was trained on");
}

std::int64_t score_text_lines(TextFeaturizer& featurizer, const std::vector<std::string>& batch, CsrRows& rows,
                              Scorer& scorer, AlignedVector<float>& outputs) {
  rows.clear();
  for (const std::string& line : batch) {
    const std::size_t tab = line.find('\t');
    featurizer.append(tab == std::string::npos ? std::string_view(line) : std::string_view(line).substr(tab + 1), rows);
  }
  outputs.resize(static_cast<std::size_t>(rows.rows() * scorer.spec().outputs()));
  scorer.score(rows.view(), outputs.data());
  return rows.rows();
}

}  // namespace dptrain
