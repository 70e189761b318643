#pragma once
// One-hot float labels ([N, K] rows of 0/1 summing to 1) are class labels. Without a check,
// --model mlp:H would fit them as K regression targets (MSE) and softmax/logistic would refuse
// them as "not 1-D"; this says what they are and how to store class ids instead.
#include "dptrain/dataset.hpp"
#include "dptrain/train_config.hpp"

namespace dptrain {

// Throws DataError naming the file and dataset when a classifier-capable model (softmax,
// logistic, mlp unless --loss mse) meets float labels whose first rows (up to 1024
// of the first file) are all one-hot. Every rank reads the same rows, so all decide alike.
void refuse_one_hot_labels(const TrainConfig& config, const DataDescription& desc);

}  // namespace dptrain
