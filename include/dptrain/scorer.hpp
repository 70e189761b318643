#pragma once
// Running a trained model: outputs row by row, on `threads` OpenMP threads, and the class
// decision. Used by eval, predict, stream prediction and the trainer's validation.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dptrain/dataset.hpp"
#include "dptrain/eval_metrics.hpp"
#include "dptrain/model.hpp"
#include "dptrain/shard.hpp"

namespace dptrain {

// Throws DataError naming both files and both widths when the data's feature count is not
// the model's input width.
void check_model_matches_data(const ModelSpec& spec, const std::string& model_path,
                              const DataDescription& data, const DataOptions& options);

// Class probabilities (spec.classes() values) from one row of model outputs; for logistic
// [1 - p, p].
void class_probabilities(const ModelSpec& spec, const float* output, float* probabilities);

// Scores rows with a model on `threads` OpenMP threads. Rows are cut into fixed blocks of
// `block_rows` whatever the thread count, and per-block sums are added in block order, so
// results do not depend on the number of threads.
class Scorer {
 public:
  Scorer(const ModelSpec& spec, std::span<const float> params, int threads,
         std::int64_t block_rows = 1024);
  const ModelSpec& spec() const { return spec_; }
  // outputs: rows x spec.outputs() (softmax probabilities, P(class 1), or regression values).
  void score(const float* x, std::int64_t rows, float* outputs);
  // Scores and accumulates metrics; `outputs` is scratch of rows x spec.outputs().
  MetricSums evaluate(const float* x, const float* labels, std::int64_t rows, float* outputs);
  // The same for CSR rows (sparse_scorer.cpp).
  void score(const CsrView& x, float* outputs);
  MetricSums evaluate(const CsrView& x, const float* labels, float* outputs);
  // A block of a shard, dense or CSR.
  void score(const Shard& block, float* outputs);
  MetricSums evaluate(const Shard& block, float* outputs);

 private:
  ModelSpec spec_;
  AlignedVector<float> params_;
  int threads_;
  std::int64_t block_rows_;
  std::vector<Workspace<float>> workspaces_;  // one per thread
};

// Metric sums of a model over a whole shard (labels already checked), in blocks of 1024 rows
// summed in block order: the same for any thread count.
MetricSums score_shard(const ModelSpec& spec, std::span<const float> params, const Shard& shard,
                       int threads);

}  // namespace dptrain
