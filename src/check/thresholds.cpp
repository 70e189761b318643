#include "dptrain/thresholds.hpp"

#include "dptrain/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "util/split.hpp"

namespace dptrain {
namespace {

// Headline metrics by model kind; the aliases are scikit-learn's scoring names.
const std::vector<std::string> kClassifierNames = {"loss", "accuracy", "macro_precision", "macro_recall",
                                                   "macro_f1", "precision_macro", "recall_macro", "f1_macro"};
const std::vector<std::string> kRegressionNames = {"loss", "mse", "mae", "r2"};
const std::vector<std::string> kPerClassNames = {"precision", "recall", "f1"};
const std::vector<std::string> kPerTargetNames = {"mse", "mae", "r2"};

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string format_value(double v) { return format_number(v, 10); }

// "recall.3" -> {"recall", 3}; a name without a valid ".K" suffix -> {name, -1}.
std::pair<std::string, long> split_index(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos || dot + 1 == name.size()) return {name, -1};
  const std::string digits = name.substr(dot + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      digits.size() > 9)
    return {name, -1};
  return {name.substr(0, dot), std::atol(digits.c_str())};
}

bool known_for(bool classifier, const std::string& name) {
  const auto [base, index] = split_index(name);
  if (index >= 0) return contains(classifier ? kPerClassNames : kPerTargetNames, base);
  return contains(classifier ? kClassifierNames : kRegressionNames, name);
}

}  // namespace

std::string Threshold::option() const {
  return std::string(bound == Bound::Under ? "--fail-under " : "--fail-over ") + metric + "=" +
         format_value(limit);
}

std::string Threshold::condition() const {
  return metric + (bound == Bound::Under ? " >= " : " <= ") + format_value(limit);
}

std::vector<std::string> metric_names(bool classifier) {
  std::vector<std::string> names = classifier ? kClassifierNames : kRegressionNames;
  for (const auto& n : classifier ? kPerClassNames : kPerTargetNames) names.push_back(n + ".K");
  return names;
}

std::string valid_metrics_text() {
  return "classifiers: " + join(metric_names(true)) + " (K: class id); regression: " +
         join(metric_names(false)) + " (K: target column)";
}

std::vector<Threshold> parse_thresholds(const std::string& text, Bound bound) {
  const std::string option = bound == Bound::Under ? "--fail-under" : "--fail-over";
  std::vector<Threshold> out;
  for (const std::string& field : split_fields(text)) {
    const std::string item = trim(field);
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      throw ThresholdUsageError(option + " '" + item + "': expected METRIC=VALUE, e.g. accuracy=0.85");
    Threshold t;
    t.metric = trim(item.substr(0, eq));
    t.bound = bound;
    const std::string value = trim(item.substr(eq + 1));
    char* end = nullptr;
    t.limit = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !std::isfinite(t.limit))
      throw ThresholdUsageError(option + " '" + item + "': '" + value + "' is not a finite number");
    if (!known_for(true, t.metric) && !known_for(false, t.metric))
      throw ThresholdUsageError(option + " '" + item + "': unknown metric '" + t.metric + "'; valid metrics: " +
                                valid_metrics_text());
    out.push_back(t);
  }
  return out;
}

double metric_value(const Metrics& m, const std::string& name) {
  if (!known_for(m.classifier, name))
    throw ThresholdUsageError("metric '" + name + "' does not apply to a " +
                              (m.classifier ? "classifier" : "regression model") + "; valid metrics: " +
                              join(metric_names(m.classifier)));
  const auto [base, index] = split_index(name);
  if (index >= 0) {
    const std::vector<double>* values = nullptr;
    if (base == "precision") values = &m.precision;
    if (base == "recall") values = &m.recall;
    if (base == "f1") values = &m.f1;
    if (base == "mse") values = &m.target_mse;
    if (base == "mae") values = &m.target_mae;
    if (base == "r2") values = &m.target_r2;
    if (static_cast<std::size_t>(index) >= values->size())
      throw ThresholdUsageError("metric '" + name + "': the model has " + std::to_string(values->size()) + " " +
                                (m.classifier ? "classes (0.." : "targets (0..") +
                                std::to_string(values->size() - 1) + ")");
    return (*values)[static_cast<std::size_t>(index)];
  }
  if (name == "loss") return m.loss;
  if (name == "accuracy") return m.accuracy;
  if (name == "macro_precision" || name == "precision_macro") return m.macro_precision;
  if (name == "macro_recall" || name == "recall_macro") return m.macro_recall;
  if (name == "macro_f1" || name == "f1_macro") return m.macro_f1;
  if (name == "mse") return m.mse;
  if (name == "mae") return m.mae;
  return m.r2;  // the last name known_for accepts
}

std::string ThresholdResult::message() const {
  const std::string head = threshold.metric + " = " + format_value(value);
  if (passed) return head + (threshold.bound == Bound::Under ? " >= " : " <= ") + format_value(threshold.limit) +
                     " (" + threshold.option() + ")";
  if (std::isnan(value)) return head + ", not a number, fails " + threshold.option();
  return head + (threshold.bound == Bound::Under ? " is under " : " is over ") + format_value(threshold.limit) +
         " (" + threshold.option() + ")";
}

std::vector<ThresholdResult> check_thresholds(const Metrics& m, const std::vector<Threshold>& thresholds) {
  std::vector<double> values;
  for (const auto& t : thresholds) values.push_back(metric_value(m, t.metric));
  std::vector<ThresholdResult> out;
  for (std::size_t i = 0; i < thresholds.size(); ++i) {
    const double v = values[i];
    const bool passed = thresholds[i].bound == Bound::Under ? v >= thresholds[i].limit : v <= thresholds[i].limit;
    out.push_back({thresholds[i], v, passed});  // NaN compares false: it fails
  }
  return out;
}

}  // namespace dptrain
