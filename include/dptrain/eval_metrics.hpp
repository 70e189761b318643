#pragma once
// Evaluation metrics as sums over rows (so each rank sums its shard and one allreduce gives
// the exact global value), turned into loss, accuracy, per-class precision/recall/F1 and a
// confusion matrix for classifiers, or MSE, MAE and R^2 for regression.
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/communicator.hpp"
#include "dptrain/json.hpp"
#include "dptrain/model.hpp"

namespace dptrain {

// The class a classifier predicts from one row of model outputs: the first largest
// probability (softmax), or 1 when P(class 1) > 0.5 (logistic).
std::int64_t predicted_class(const ModelSpec& spec, const float* output);

// Sums over rows from which every metric follows. Adding two MetricSums (or an allreduce of
// their flattened values) gives the sums of the union of their rows.
struct MetricSums {
  MetricSums() = default;
  explicit MetricSums(const ModelSpec& spec);

  std::int64_t classes = 0;  // classifiers: number of classes; 0 for regression
  std::int64_t targets = 0;  // regression: number of outputs; 0 for classifiers
  double rows = 0;
  double loss = 0;                 // summed per-row loss, as in training
  std::vector<double> confusion;   // classes x classes, [true * classes + predicted]
  std::vector<double> sum_y, sum_y2, sum_squared_error, sum_absolute_error;  // per target

  // Adds `rows` rows: `outputs` is rows x spec.outputs(), `labels` rows x spec.label_cols()
  // (class ids already checked to lie in [0, classes)).
  void add_rows(const ModelSpec& spec, const float* outputs, const float* labels,
                std::int64_t rows, double loss_sum);
  void add(const MetricSums& other);
  // Rows classified correctly (the confusion matrix's diagonal); 0 for regression.
  double correct() const;
  std::vector<double> flatten() const;
  void unflatten(const std::vector<double>& values);
};

// Sums `sums` over all ranks (one allreduce in double precision).
void allreduce_metrics(Communicator& comm, MetricSums& sums);

// The metrics themselves, from global sums.
struct Metrics {
  bool classifier = false;
  double rows = 0;
  double loss = 0;  // mean per-row loss (cross-entropy, or MSE averaged over targets)
  // Classifiers.
  double accuracy = 0;
  std::vector<double> precision, recall, f1, support;  // per class
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  std::vector<std::int64_t> confusion;  // classes x classes, row = true class
  std::vector<std::string> class_names;  // one per class when the model or data has them (names.hpp)
  // Regression: overall values average the per-target ones (uniformly).
  double mse = 0, mae = 0, r2 = 0;
  std::vector<double> target_mse, target_mae, target_r2;

  std::int64_t classes() const { return static_cast<std::int64_t>(precision.size()); }
};

// Precision, recall and F1 of a class with no predicted (or no true) rows are 0. R^2 of a
// target whose labels are all equal is 1 for a perfect fit and 0 otherwise.
Metrics finish_metrics(const MetricSums& sums);

std::string to_json(const Metrics& m);
// The same as a JSON value (for reports that embed the metrics).
Json to_json_value(const Metrics& m);
// A readable table: the headline metrics, then per class (or target), then the confusion matrix.
std::string format_table(const Metrics& m);

}  // namespace dptrain
