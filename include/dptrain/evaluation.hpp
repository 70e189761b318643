#pragma once
// Scoring a trained model on data: model outputs row by row, the class decision, and metrics
// that are sums over rows (so each rank sums its shard and one allreduce gives the exact
// global value), turned into loss, accuracy, per-class precision/recall/F1 and a confusion
// matrix for classifiers, or MSE, MAE and R^2 for regression.
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/communicator.hpp"
#include "dptrain/dataset.hpp"
#include "dptrain/model.hpp"

namespace dptrain {

// Throws DataError naming both files and both widths when the data's feature count is not
// the model's input width.
void check_model_matches_data(const ModelSpec& spec, const std::string& model_path,
                              const DataDescription& data, const DataOptions& options);

// The class a classifier predicts from one row of model outputs: the first largest
// probability (softmax), or 1 when P(class 1) > 0.5 (logistic).
std::int64_t predicted_class(const ModelSpec& spec, const float* output);

// Class probabilities (spec.classes() values) from one row of model outputs; for logistic
// [1 - p, p].
void class_probabilities(const ModelSpec& spec, const float* output, float* probabilities);

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
  std::vector<double> flatten() const;
  void unflatten(const std::vector<double>& values);
};

// Sums `sums` over all ranks (one allreduce in double precision).
void allreduce_metrics(Communicator& comm, MetricSums& sums);

// Scores rows with a model on `threads` OpenMP threads. Rows are cut into fixed blocks of
// `block_rows` whatever the thread count, and per-block sums are added in block order, so
// results do not depend on the number of threads.
class Scorer {
 public:
  Scorer(const ModelSpec& spec, const AlignedVector<float>& params, int threads,
         std::int64_t block_rows = 1024);
  const ModelSpec& spec() const { return spec_; }
  // outputs: rows x spec.outputs() (softmax probabilities, P(class 1), or regression values).
  void score(const float* x, std::int64_t rows, float* outputs);
  // Scores and accumulates metrics; `outputs` is scratch of rows x spec.outputs().
  MetricSums evaluate(const float* x, const float* labels, std::int64_t rows, float* outputs);

 private:
  ModelSpec spec_;
  AlignedVector<float> params_;
  int threads_;
  std::int64_t block_rows_;
  std::vector<Workspace<float>> workspaces_;  // one per thread
};

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
  // Regression: overall values average the per-target ones (uniformly).
  double mse = 0, mae = 0, r2 = 0;
  std::vector<double> target_mse, target_mae, target_r2;

  std::int64_t classes() const { return static_cast<std::int64_t>(precision.size()); }
};

// Precision, recall and F1 of a class with no predicted (or no true) rows are 0. R^2 of a
// target whose labels are all equal is 1 for a perfect fit and 0 otherwise.
Metrics finish_metrics(const MetricSums& sums);

std::string to_json(const Metrics& m);
// A readable table: the headline metrics, then per class (or target), then the confusion matrix.
std::string format_table(const Metrics& m);

struct EvalOptions {
  std::string model;                    // checkpoint file
  DataOptions data;                     // features and labels
  int threads = 1;
  std::int64_t block_rows = 65536;      // rows read and scored at a time on each rank
};

struct EvalResult {
  ModelSpec spec;
  Metrics metrics;
  double seconds = 0;
};

// Runs on every rank: each scores its shard in blocks; the sums are reduced exactly once.
// Any error on any rank ends every rank with the same CollectiveFailure.
EvalResult evaluate(const EvalOptions& options, Communicator& comm);

}  // namespace dptrain
