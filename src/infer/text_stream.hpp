#pragma once
// predict --stdin --text: raw text lines featurised as the training data was, then scored
// as CSR rows.
#include <string>
#include <vector>

#include "dptrain/model.hpp"
#include "dptrain/scorer.hpp"
#include "dptrain/text_features.hpp"

namespace dptrain {

// Throws ConfigError when the model's input width is not the text settings' column count.
void check_text_model(const ModelSpec& spec, const TextFeatureOptions& text);

// Featurises every line of `batch` (the text after the first tab, if any) into `rows` and
// scores them into `outputs` (resized); returns the number of lines.
std::int64_t score_text_lines(TextFeaturizer& featurizer, const std::vector<std::string>& batch, CsrRows& rows,
                              Scorer& scorer, AlignedVector<float>& outputs);

}  // namespace dptrain
