#pragma once
// The setup before the loop, agreed by every rank phase by phase: this rank's shard (and
// validation shard), the model the data asks for, the labels checked against it, and which
// rows train and which validate.
#include <cstdint>
#include <optional>
#include <span>

#include "dptrain/communicator.hpp"
#include "dptrain/block_order.hpp"
#include "dptrain/dataset.hpp"
#include "dptrain/eval_metrics.hpp"
#include "dptrain/model.hpp"
#include "dptrain/row_selection.hpp"
#include "dptrain/train_config.hpp"
#include "train/fault.hpp"

namespace dptrain {

struct TrainingData {
  DataDescription desc;
  Shard shard;              // this rank's rows of --data
  std::optional<Shard> val; // this rank's validation rows (--val, or held out of --data)
  ModelSpec spec;
  RowSelection selection;   // the same on every rank
  double io_seconds = 0;    // reading, on this rank
  // Data bigger than memory (--memory-budget, --stream): `shard` then holds the rank's range
  // but no rows; batches stream from disk, and validation is scored in pieces from disk.
  std::int64_t budget = 0;      // bytes of data per rank
  bool streamed = false;
  bool val_streamed = false;
  DataDescription val_desc;     // of --val (streamed validation reads it)
  BlockLayout layout;           // blocks of --data (the block order)
};

// Validation sums of this rank's streamed validation rows (--val, or the held-out rows of
// --data), read in pieces that fit the budget.
MetricSums score_streamed_validation(const TrainConfig& config, const TrainingData& d, const ModelSpec& spec,
                                     std::span<const float> params, const Communicator& comm);

// Describes, agrees on the description, reads and checks; any error on any rank throws the
// same CollectiveFailure on all. `fault` (tests, or null) may fire while the data loads.
TrainingData prepare_training_data(const TrainConfig& config, Communicator& comm, const FaultPlan* fault);

}  // namespace dptrain
