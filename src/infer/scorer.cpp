#include "dptrain/scorer.hpp"

#include <omp.h>

#include <algorithm>

#include "dptrain/error.hpp"

namespace dptrain {

void check_model_matches_data(const ModelSpec& spec, const std::string& model_path,
                              const DataDescription& data, const DataOptions& options) {
  if (data.cols == spec.inputs()) return;
  throw DataError("model/data width mismatch: the model " + model_path + " (" + spec.describe() +
                  ") takes " + std::to_string(spec.inputs()) + " features, but dataset '" +
                  options.features_name + "' in " + options.files[0] + " has " +
                  std::to_string(data.cols) + " features per row");
}

void class_probabilities(const ModelSpec& spec, const float* output, float* probabilities) {
  if (spec.loss == LossKind::BinaryCrossEntropy) {
    probabilities[0] = 1.0f - output[0];
    probabilities[1] = output[0];
    return;
  }
  std::copy(output, output + spec.outputs(), probabilities);
}

Scorer::Scorer(const ModelSpec& spec, std::span<const float> params, int threads,
               std::int64_t block_rows)
    : spec_(spec), params_(params.begin(), params.end()), threads_(threads),
      block_rows_(std::max<std::int64_t>(1, block_rows)) {
  if (params_.size() != spec_.num_params())
    throw Error("Scorer: " + std::to_string(params_.size()) + " parameters for a model of " +
                std::to_string(spec_.num_params()));
  for (int t = 0; t < threads_; ++t) workspaces_.emplace_back(spec_, block_rows_);
}

void Scorer::score(const float* x, std::int64_t rows, float* outputs) {
  const std::int64_t blocks = (rows + block_rows_ - 1) / block_rows_;
  const std::int64_t d = spec_.inputs(), k = spec_.outputs();
#pragma omp parallel for num_threads(threads_) schedule(dynamic)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t lo = b * block_rows_, hi = std::min(rows, lo + block_rows_);
    forward<float>(spec_, params_.data(), x + lo * d, nullptr, hi - lo,
                   workspaces_[static_cast<std::size_t>(omp_get_thread_num())], outputs + lo * k);
  }
}

MetricSums Scorer::evaluate(const float* x, const float* labels, std::int64_t rows,
                            float* outputs) {
  const std::int64_t blocks = (rows + block_rows_ - 1) / block_rows_;
  const std::int64_t d = spec_.inputs(), k = spec_.outputs(), l = spec_.label_cols();
  std::vector<MetricSums> per_block(static_cast<std::size_t>(blocks), MetricSums(spec_));
#pragma omp parallel for num_threads(threads_) schedule(dynamic)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t lo = b * block_rows_, hi = std::min(rows, lo + block_rows_);
    const BatchStats stats =
        forward<float>(spec_, params_.data(), x + lo * d, labels + lo * l, hi - lo,
                       workspaces_[static_cast<std::size_t>(omp_get_thread_num())], outputs + lo * k);
    per_block[static_cast<std::size_t>(b)].add_rows(spec_, outputs + lo * k, labels + lo * l,
                                                    hi - lo, stats.loss);
  }
  MetricSums total(spec_);
  for (const auto& s : per_block) total.add(s);  // block order: independent of threads
  return total;
}

MetricSums score_shard(const ModelSpec& spec, std::span<const float> params, const Shard& shard,
                       int threads) {
  if (shard.rows() == 0) return MetricSums(spec);
  Scorer scorer(spec, params, threads, 1024);
  std::vector<float> outputs(static_cast<std::size_t>(shard.rows() * spec.outputs()));
  return scorer.evaluate(shard, outputs.data());
}

}  // namespace dptrain
