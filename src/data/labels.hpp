#pragma once
// Labels against a model: integer class ids in [0, classes) for classifiers, as many target
// columns as outputs for regression. Used by training (its data and validation shards) and
// by evaluation.
#include "dptrain/dataset.hpp"
#include "dptrain/model.hpp"

namespace dptrain {

// Throws DataError naming the file, row and label at the first invalid label.
void check_labels(const ModelSpec& spec, const Shard& shard, const DataOptions& options);
// The same, but with options.skip_bad_rows it records rows with an invalid class id in
// shard.dropped (--skip-bad-rows) instead of throwing.
void check_or_drop_labels(const ModelSpec& spec, Shard& shard, const DataOptions& options);

}  // namespace dptrain
