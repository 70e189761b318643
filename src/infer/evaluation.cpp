#include "dptrain/evaluation.hpp"

#include <algorithm>

#include "dptrain/checkpoint.hpp"
#include "dptrain/clock.hpp"
#include "data/data_agreement.hpp"
#include "dptrain/error.hpp"
#include "dptrain/json.hpp"
#include "dptrain/names.hpp"
#include "dptrain/row_selection.hpp"
#include "dptrain/memory_budget.hpp"
#include "data/labels.hpp"
#include "util/threads.hpp"

namespace dptrain {

EvalResult evaluate(const EvalOptions& o, Communicator& comm) {
  const double t0 = now_seconds();
  EvalResult result;
  MetricSums sums;
  Checkpoint model;
  DataDescription desc;
  run_agreed(comm, [&] {
    check_thread_count(o.threads);
    if (o.block_rows < 1) throw ConfigError("--block-rows must be at least 1");
    if (!(o.val_fraction >= 0 && o.val_fraction < 1)) throw ConfigError("--val-fraction must be in [0, 1)");
    model = load_checkpoint(o.model);
    desc = describe_data(o.data);
    if (desc.rows == 0) throw DataError(o.data.files[0] + ": the dataset has no rows");
    check_model_matches_data(model.spec, o.model, desc, o.data);
  });
  // Ranks agree on what they read before the first collective that depends on it.
  agree_on_data(comm, o.data, desc, "data");
  run_agreed(comm, [&] {
    result.spec = model.spec;
    sums = MetricSums(model.spec);
    Scorer scorer(model.spec, model.params, o.threads);
    const ShardRange mine = shard_range(desc.rows, comm.size(), comm.rank());
    const std::int64_t block_rows = capped_block_rows(o.block_rows, (desc.cols + desc.label_cols) * 4, o.memory_budget, comm.size());
    // --val-fraction: exactly the rows a training run with this fraction and seed held out.
    const RowSelection held_out(desc.rows, o.val_fraction, o.seed, {});
    if (o.val_fraction > 0 && held_out.validation_rows() == 0)
      throw ConfigError("--val-fraction " + json_number(o.val_fraction) + " of " + std::to_string(desc.rows) +
                        " rows selects no row");
    std::vector<float> outputs;
    std::int64_t lo = mine.begin;
    do {  // at least once, so a rank with no rows still checks the label width
      const std::int64_t hi = std::min(mine.end, lo + block_rows);
      Shard block = load_shard(o.data, desc, ShardRange{lo, hi});
      check_labels(model.spec, block, o.data);
      if (o.val_fraction > 0) block = take_rows(block, [&](std::int64_t row) { return held_out.validation(row); });
      outputs.resize(static_cast<std::size_t>(block.rows() * model.spec.outputs()));
      sums.add(scorer.evaluate(block, outputs.data()));
      lo = hi;
    } while (lo < mine.end);
  });
  allreduce_metrics(comm, sums);
  result.metrics = finish_metrics(sums);
  result.metrics.class_names = model_class_names(model, desc);
  result.seconds = now_seconds() - t0;
  return result;
}

}  // namespace dptrain
