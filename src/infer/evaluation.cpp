#include "dptrain/evaluation.hpp"

#include <algorithm>

#include "dptrain/checkpoint.hpp"
#include "dptrain/clock.hpp"
#include "data/data_agreement.hpp"
#include "dptrain/error.hpp"
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
    std::vector<float> outputs;
    std::int64_t lo = mine.begin;
    do {  // at least once, so a rank with no rows still checks the label width
      const std::int64_t hi = std::min(mine.end, lo + block_rows);
      const Shard block = load_shard(o.data, desc, ShardRange{lo, hi});
      check_labels(model.spec, block, o.data);
      outputs.resize(static_cast<std::size_t>(block.rows() * model.spec.outputs()));
      sums.add(scorer.evaluate(block.features.data(), block.labels.data(), block.rows(),
                               outputs.data()));
      lo = hi;
    } while (lo < mine.end);
  });
  allreduce_metrics(comm, sums);
  result.metrics = finish_metrics(sums);
  result.seconds = now_seconds() - t0;
  return result;
}

}  // namespace dptrain
