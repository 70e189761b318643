#include "one_hot_labels.hpp"

#include <algorithm>
#include <span>
#include <vector>

#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"

namespace dptrain {
namespace {

constexpr std::int64_t kRowsChecked = 1024;

bool all_one_hot(const std::vector<double>& labels, std::int64_t rows, std::int64_t k) {
  for (std::int64_t r = 0; r < rows; ++r) {
    int ones = 0;
    for (std::int64_t c = 0; c < k; ++c) {
      const double v = labels[static_cast<std::size_t>(r * k + c)];
      if (v != 0 && v != 1) return false;
      ones += v == 1 ? 1 : 0;
    }
    if (ones != 1) return false;
  }
  return rows > 0;
}

}  // namespace

void refuse_one_hot_labels(const TrainConfig& config, const DataDescription& desc) {
  const TrainOptions& o = config.options;
  const bool may_classify = o.model == "softmax" || o.model == "logistic" || 
                            (o.model.rfind("mlp", 0) == 0 && config.loss != LossKind::MeanSquaredError);
  if (!may_classify || desc.integer_labels || desc.label_cols < 2 || desc.file_rows.empty()) return;
  const std::string& file = o.data.files[0];
  const std::int64_t k = desc.label_cols;
  const std::int64_t rows = std::min(kRowsChecked, desc.file_rows[0]);
  std::vector<double> labels(static_cast<std::size_t>(rows * k));
  H5Reader(file).read_rows(o.data.labels_name, 0, rows, std::span(labels));
  if (!all_one_hot(labels, rows, k)) return;
  const bool mse_by_default = o.model.rfind("mlp", 0) == 0 && !config.loss;
  throw DataError(file + ": '" + o.data.labels_name + "' holds one-hot rows (float [N, " + std::to_string(k) +
                  "], each row 0/1 summing to 1); --model " + o.model +
                  (mse_by_default ? " would fit them as " + std::to_string(k) + " regression targets (MSE)"
                                  : (config.loss ? " --loss " + o.loss : std::string()) + " needs 1-D class ids") +
                  ". Use class ids: store numpy.argmax(labels, axis=1) as int64 '" + o.data.labels_name +
                  "' (or keep the class in one CSV column and run dptrain convert --from csv --label-type int)" +
                  (o.model.rfind("mlp", 0) == 0 ? "; --loss mse trains them as regression targets on purpose" : ""));
}

}  // namespace dptrain
