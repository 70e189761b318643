#pragma once
// Quality gates for `dptrain eval`: --fail-under accuracy=0.85,f1_macro=0.8 and
// --fail-over loss=0.4,mse=0.1. A metric under its --fail-under limit (or over its
// --fail-over limit), or not a number, fails the gate.
#include <string>
#include <vector>

#include "dptrain/error.hpp"
#include "dptrain/evaluation.hpp"

namespace dptrain {

// A bad threshold list: unknown metric, metric that does not apply to the model, bad number.
// The command turns it into a usage error (exit code 2).
class ThresholdUsageError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

enum class Bound { Under, Over };  // fail when the value is under (over) the limit

struct Threshold {
  std::string metric;  // as written: "accuracy", "f1_macro", "recall.3"
  double limit = 0;
  Bound bound = Bound::Under;
  std::string option() const;     // "--fail-under accuracy=0.85"
  std::string condition() const;  // "accuracy >= 0.85" (what passes)
};

// Parses "name=value,name=value". Throws ThresholdUsageError naming the option, the item and
// every valid metric name when a name is unknown for both kinds of model or a value is not
// a finite number.
std::vector<Threshold> parse_thresholds(const std::string& text, Bound bound);

// Metric names a threshold may use for a classifier or a regression model. Per class (or
// target) K: "precision.K", "recall.K", "f1.K" (or "mse.K", "mae.K", "r2.K").
std::vector<std::string> metric_names(bool classifier);
std::string valid_metrics_text();  // both lists, for messages

// The value of a named metric. Throws ThresholdUsageError when the name does not apply to
// this model (e.g. mse for a classifier, or recall.7 with 4 classes), listing valid names.
double metric_value(const Metrics& metrics, const std::string& name);

struct ThresholdResult {
  Threshold threshold;
  double value = 0;
  bool passed = false;
  // "accuracy = 0.8123 is under 0.85 (--fail-under accuracy=0.85)" or
  // "accuracy = 0.91 >= 0.85 (--fail-under accuracy=0.85)"
  std::string message() const;
};

// Checks every threshold against the metrics (all names are checked before any result).
std::vector<ThresholdResult> check_thresholds(const Metrics& metrics, const std::vector<Threshold>& thresholds);

}  // namespace dptrain
