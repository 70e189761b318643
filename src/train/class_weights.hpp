#pragma once
// --class-weight, with scikit-learn's meaning: "balanced" weighs class c by
// n_samples / (n_classes * count_c) over the training rows (the global counts, so the weights
// are the same on every rank and for any rank count); "w0,w1,..." gives them directly. The
// training loss of a row is multiplied by its class's weight (validation and eval are not).
#include <string>
#include <vector>

namespace dptrain {

// Checks the option's form alone ("" | "balanced" | positive numbers); throws ConfigError.
void check_class_weight_option(const std::string& option);

// The weights for a model with training_counts.size() classes; throws ConfigError when a list
// has another length, DataError when "balanced" meets a class without training rows.
std::vector<float> class_weights(const std::string& option, const std::vector<double>& training_counts);

// "class weights: 0.8333 1.25 1" for the log.
std::string describe_class_weights(const std::vector<float>& weights);

}  // namespace dptrain
