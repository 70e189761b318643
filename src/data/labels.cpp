#include "data/labels.hpp"

#include <cmath>

#include "dptrain/error.hpp"
#include "dptrain/json.hpp"

namespace dptrain {
namespace {

// Throws at the first invalid label, or, given `drop`, records every such row there.
void check_labels_impl(const ModelSpec& spec, const Shard& shard, const DataOptions& options,
                       DroppedRows* drop) {
  if (!spec.classifier()) {
    if (shard.data.label_cols != spec.outputs())
      throw DataError(options.files[0] + ": dataset '" + options.labels_name + "' has " +
                      std::to_string(shard.data.label_cols) + " target column(s); the model has " +
                      std::to_string(spec.outputs()) + " output(s)");
    return;
  }
  if (shard.data.label_cols != 1)
    throw DataError(options.files[0] + ": dataset '" + options.labels_name +
                    "' must be 1-D class ids for a classifier; it has " +
                    std::to_string(shard.data.label_cols) + " columns");
  const auto classes = static_cast<float>(spec.classes());
  const DroppedRows non_finite = shard.dropped;  // sorted, from load_shard
  for (std::int64_t r = 0; r < shard.rows(); ++r) {
    const float y = *shard.label(r);
    if (y < 0 || y != std::floor(y) || y >= classes) {
      const std::int64_t row = shard.range.begin + r;
      if (drop && non_finite.contains(row)) continue;  // dropped already (NaN/Inf)
      const std::string where =
          shard.locate(options, row) + ": label " + json_number(y) + " in '" + options.labels_name +
          "' is not a class id; expected an integer in [0, " + std::to_string(spec.classes()) + ")";
      if (drop) {
        drop->add(row, true, where);
        continue;
      }
      throw DataError(where + (spec.loss == LossKind::BinaryCrossEntropy
                                   ? " (logistic and --loss bce take 0/1 labels; or --skip-bad-rows)"
                                   : " (set --classes, fix the labels, or --skip-bad-rows)"));
    }
  }
  if (drop) drop->sort();
}

}  // namespace

void check_labels(const ModelSpec& spec, const Shard& shard, const DataOptions& options) {
  check_labels_impl(spec, shard, options, nullptr);
}

void check_or_drop_labels(const ModelSpec& spec, Shard& shard, const DataOptions& options) {
  check_labels_impl(spec, shard, options, options.skip_bad_rows ? &shard.dropped : nullptr);
}

}  // namespace dptrain
