#pragma once
// `dptrain eval`: scores a checkpoint on labelled data, every rank its shard in blocks, and
// reduces the metric sums once.
#include <cstdint>
#include <string>

#include "dptrain/communicator.hpp"
#include "dptrain/dataset.hpp"
#include "dptrain/eval_metrics.hpp"
#include "dptrain/model.hpp"
#include "dptrain/scorer.hpp"

namespace dptrain {

struct EvalOptions {
  std::string model;                    // checkpoint file
  DataOptions data;                     // features and labels
  int threads = 1;
  std::int64_t block_rows = 65536;      // rows read and scored at a time on each rank
  double val_fraction = 0;              // > 0: score only the rows `train --val-fraction` held out
  std::uint64_t seed = 42;              // ... with this --seed (train's default)
  double memory_budget = 0;             // MiB a rank reads at a time (caps block_rows; 0: default budget)
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
