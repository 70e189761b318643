#include "class_weights.hpp"

#include <cmath>
#include <cstdio>

#include "dptrain/error.hpp"
#include "util/split.hpp"

namespace dptrain {
namespace {

std::vector<double> parse_list(const std::string& option) {
  std::vector<double> values;
  for (const std::string& item : split_list(option)) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !std::isfinite(v) || v <= 0)
      throw ConfigError("--class-weight '" + option + "': '" + item +
                        "' is not a positive number; expected balanced or w0,w1,... (one per class)");
    values.push_back(v);
  }
  return values;
}

}  // namespace

void check_class_weight_option(const std::string& option) {
  if (!option.empty() && option != "balanced") parse_list(option);
}

std::vector<float> class_weights(const std::string& option, const std::vector<double>& counts) {
  const std::size_t k = counts.size();
  std::vector<float> weights(k, 1.0f);
  if (option == "balanced") {
    double n = 0;
    for (const double c : counts) n += c;
    for (std::size_t c = 0; c < k; ++c) {
      if (counts[c] <= 0)
        throw DataError("--class-weight balanced: class " + std::to_string(c) +
                        " has no training rows; give the weights as w0,w1,...");
      weights[c] = static_cast<float>(n / (static_cast<double>(k) * counts[c]));
    }
    return weights;
  }
  const std::vector<double> given = parse_list(option);
  if (given.size() != k)
    throw ConfigError("--class-weight '" + option + "' gives " + std::to_string(given.size()) +
                      " weight(s); the model has " + std::to_string(k) + " classes");
  for (std::size_t c = 0; c < k; ++c) weights[c] = static_cast<float>(given[c]);
  return weights;
}

std::string describe_class_weights(const std::vector<float>& weights) {
  std::string s = "class weights:";
  for (const float w : weights) {
    char text[32];
    std::snprintf(text, sizeof text, " %.4g", static_cast<double>(w));
    s += text;
  }
  return s;
}

}  // namespace dptrain
