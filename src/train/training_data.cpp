#include "training_data.hpp"

#include <algorithm>

#include "dptrain/error.hpp"
#include "dptrain/json.hpp"
#include "data/labels.hpp"
#include "dptrain/log.hpp"
#include "data/data_agreement.hpp"
#include "data/block_reader.hpp"
#include "dptrain/memory_budget.hpp"
#include "dptrain/scorer.hpp"
#include "one_hot_labels.hpp"
#include "sharded_update.hpp"

namespace dptrain {
namespace {

DataOptions validation_options(const TrainOptions& o) {
  DataOptions val_options = o.data;
  val_options.files = o.val_files;
  return val_options;
}

// This rank's own description of the training and validation files.
void describe_files(const TrainConfig& config, Communicator& comm, TrainingData& d, DataDescription& vdesc) {
  const TrainOptions& o = config.options;
  const int p = comm.size();
  d.desc = describe_data(o.data);
  if (d.desc.rows == 0) throw DataError(o.data.files[0] + ": the dataset has no rows");
  if (d.desc.sparse && !config.gradient_sync())
    throw ConfigError("--sync params is not supported with CSR (sparse) features; use --sync grad");
  if (d.desc.sparse) sparse_shard_update_enabled(config, p);  // throws for a combination it refuses
  if (!config.gradient_sync() && d.desc.rows < p)
    throw ConfigError("--sync params needs at least one row per rank: " + std::to_string(d.desc.rows) +
                      " rows for " + std::to_string(p) + " ranks; use fewer ranks or --sync grad");
  if (o.val_files.empty()) return;
  vdesc = describe_data(validation_options(o));
  if (vdesc.cols != d.desc.cols)
    throw DataError(o.val_files[0] + ": validation data has " + std::to_string(vdesc.cols) +
                    " features; the training data has " + std::to_string(d.desc.cols));
}

// Bytes of a shard of `rows` rows held as float32.
std::int64_t shard_bytes(const DataDescription& d, std::int64_t rows) { return rows * (d.cols + d.label_cols) * 4; }

// Whether the training and validation shards stream (--stream, --memory-budget). Every rank
// decides the same: the largest shard (the first rank's) decides, so ranks never disagree.
void decide_streaming(const TrainConfig& config, Communicator& comm, TrainingData& d) {
  const TrainOptions& o = config.options;
  d.budget = memory_budget_bytes(o.memory_budget, local_rank_count(comm.size()));
  if (d.desc.sparse) {  // a CSR shard's size is set by its non-zeros; it is held in memory
    if (config.stream == StreamMode::on || config.block_order)
      throw ConfigError("--stream on and --order block read dense HDF5 blocks; CSR (sparse) features are held in "
                        "memory (use --stream auto or off, --order auto or stratified)");
    return;
  }
  const std::int64_t train = shard_bytes(d.desc, shard_range(d.desc.rows, comm.size(), 0).size());
  const std::int64_t val = o.val_files.empty() ? 0 : shard_bytes(d.val_desc, shard_range(d.val_desc.rows, comm.size(), 0).size());
  d.streamed = config.gradient_sync() && !config.stratified_order && streams(config.stream, train, d.budget);
  // Streamed training streams its validation data too, when there is any (without it, no
  // epoch should read the shard again to score no rows).
  const bool validates = o.val_fraction > 0 || !o.val_files.empty();
  d.val_streamed = validates && (d.streamed || (!o.val_files.empty() && streams(config.stream, train + val, d.budget)));
  if (config.stream == StreamMode::automatic && !d.streamed && train > d.budget)
    log_warn("a rank's shard (" + mebibytes(static_cast<double>(train)) + ") exceeds --memory-budget (" +
             mebibytes(static_cast<double>(d.budget)) + ") but " +
             (config.gradient_sync() ? "--order stratified" : "--sync params") + " needs it in memory");
  if (d.streamed)
    log_info("streaming --data from disk: a rank's shard is " + mebibytes(static_cast<double>(train)) +
             ", --memory-budget " + mebibytes(static_cast<double>(d.budget)) + " per rank");
}

// This rank's shards of the training and validation files, once every rank agreed on them.
void load_shards(const TrainConfig& config, Communicator& comm, TrainingData& d, const DataDescription& vdesc,
                 const FaultPlan* fault) {
  const TrainOptions& o = config.options;
  const ShardRange mine = shard_range(d.desc.rows, comm.size(), comm.rank());
  if (d.streamed) {
    d.shard.data = d.desc;
    d.shard.range = mine;
  } else {
    d.shard = load_shard(o.data, d.desc, mine);
  }
  if (fault) fault->fire(comm.rank(), FaultPlan::kDuringLoad);  // tests: a signal while data loads
  if (!o.val_files.empty() && !d.val_streamed)
    d.val = load_shard(validation_options(o), vdesc, shard_range(vdesc.rows, comm.size(), comm.rank()));
}

// The largest finite label of this rank's rows (a streamed shard's are read for it in pieces).
double local_max_label(const TrainConfig& config, const Communicator& comm, const TrainingData& d) {
  double best = d.streamed ? scan_max_label(config.options.data, d.desc, d.shard.range, piece_rows(d.desc, d.budget))
                           : max_finite_label(d.shard);
  if (d.val_streamed && !config.options.val_files.empty()) {
    const ShardRange val_range = shard_range(d.val_desc.rows, comm.size(), comm.rank());
    best = std::max(best, scan_max_label(validation_options(config.options), d.val_desc, val_range,
                                         piece_rows(d.val_desc, d.budget)));
  }
  return best;
}

// The model the options and the data ask for; classes come from the largest label of any rank.
ModelSpec build_model(const TrainConfig& config, const DataDescription& desc, double max_label) {
  const TrainOptions& o = config.options;
  refuse_one_hot_labels(config, desc);
  LossKind mlp_loss = (desc.integer_labels || o.classes > 0) ? LossKind::SoftmaxCrossEntropy
                                                              : LossKind::MeanSquaredError;
  if (config.loss) mlp_loss = *config.loss;
  std::int64_t outputs = desc.label_cols;
  const bool classes_needed =
      o.model == "softmax" || (o.model.rfind("mlp", 0) == 0 && mlp_loss == LossKind::SoftmaxCrossEntropy);
  if (classes_needed) {
    if (desc.label_cols != 1)
      throw DataError(o.data.files[0] + ": '" + o.data.labels_name + "' must be 1-D class ids for --model " + o.model);
    outputs = o.classes > 0 ? o.classes : static_cast<std::int64_t>(max_label) + 1;
  }
  ModelSpec spec = make_model_spec(o.model, desc.cols, outputs, mlp_loss, config.activation);
  if (config.loss && spec.loss != mlp_loss)
    throw ConfigError("--loss " + o.loss + " does not fit --model " + o.model + ", which trains with " +
                      to_string(spec.loss) + "; --loss chooses the output of mlp models");
  return spec;
}

// Warns about classes that validate but never train, and counts the dropped validation rows
// (one reduction for both).
void report_class_coverage(Communicator& comm, const TrainingData& d, std::int64_t val_file_dropped) {
  if (!d.val || !d.spec.classifier() || d.streamed) return;
  const std::int64_t k = d.spec.classes();
  std::vector<double> sums = class_counts(d.shard, k, [&](std::int64_t row) { return d.selection.training(row); });
  const auto val_counts = class_counts(*d.val, k, [](std::int64_t) { return true; });
  sums.insert(sums.end(), val_counts.begin(), val_counts.end());
  sums.push_back(static_cast<double>(val_file_dropped));
  comm.allreduce_sum(sums, "class counts");
  const std::vector<double> train_counts(sums.begin(), sums.begin() + k);
  const std::vector<double> vcounts(sums.begin() + k, sums.begin() + 2 * k);
  for (const auto& w : class_coverage_warnings(train_counts, vcounts)) log_warn(w);
  if (sums.back() > 0)
    log_info("--skip-bad-rows dropped " + std::to_string(static_cast<std::int64_t>(sums.back())) +
             " validation row(s)");
}

// Which rows train and which validate; the validation shard from --val-fraction.
void select_rows(const TrainConfig& config, Communicator& comm, TrainingData& d) {
  const TrainOptions& o = config.options;
  d.selection = agree_row_selection(comm, d.desc.rows, o.val_fraction, o.seed, d.shard.dropped);
  const std::int64_t val_file_dropped = d.val ? static_cast<std::int64_t>(d.val->dropped.rows.size()) : 0;
  run_agreed(comm, [&] {
    if (d.selection.training_rows() == 0)
      throw DataError(o.data.files[0] + ": no training rows left (" + d.selection.dropped_report + ")");
    if (o.val_fraction > 0 && d.selection.validation_rows() == 0)
      throw ConfigError("--val-fraction " + json_number(o.val_fraction) + " of " + std::to_string(d.desc.rows) +
                        " rows selects no validation row; raise it");
    if (!config.gradient_sync() && d.selection.training_rows_in(d.shard.range) == 0)
      throw ConfigError("--sync params needs at least one training row per rank; rank " +
                        std::to_string(comm.rank()) + " has none; use fewer ranks or --sync grad");
    if (o.val_fraction > 0 && d.streamed)
      d.val_streamed = true;  // the held-out rows are read from --data at each validation
    else if (o.val_fraction > 0)
      d.val = take_rows(d.shard, [&](std::int64_t row) { return d.selection.validation(row); });
    else if (d.val && val_file_dropped > 0)
      d.val = take_rows(*d.val, [&](std::int64_t row) { return !d.val->dropped.contains(row); });
  });
  report_class_coverage(comm, d, val_file_dropped);
}

}  // namespace

TrainingData prepare_training_data(const TrainConfig& config, Communicator& comm, const FaultPlan* fault) {
  TrainingData d;
  DataDescription& vdesc = d.val_desc;
  run_agreed(comm, [&] { describe_files(config, comm, d, vdesc); });
  // Every rank described the files on its own: agree on them before anything is sized by them.
  agree_on_data(comm, config.options.data, d.desc, "training data");
  if (!config.options.val_files.empty())
    agree_on_data(comm, validation_options(config.options), vdesc, "validation data");
  d.layout = BlockLayout(d.desc);
  run_agreed(comm, [&] { decide_streaming(config, comm, d); });
  run_agreed(comm, [&] { load_shards(config, comm, d, vdesc, fault); });
  d.io_seconds = d.shard.io_seconds + (d.val ? d.val->io_seconds : 0.0);
  std::vector<double> max_label = {-1};
  run_agreed(comm, [&] { max_label[0] = local_max_label(config, comm, d); });
  if (d.val) max_label[0] = std::max(max_label[0], max_finite_label(*d.val));
  comm.allreduce_max(max_label, "label range");
  run_agreed(comm, [&] {
    d.spec = build_model(config, d.desc, max_label[0]);
    if (!d.streamed) check_or_drop_labels(d.spec, d.shard, config.options.data);
    if (d.val) check_or_drop_labels(d.spec, *d.val, validation_options(config.options));
  });
  select_rows(config, comm, d);
  if (!d.selection.dropped_report.empty()) log_info(d.selection.dropped_report);
  return d;
}

MetricSums score_streamed_validation(const TrainConfig& config, const TrainingData& d, const ModelSpec& spec,
                                     std::span<const float> params, const Communicator& comm) {
  const TrainOptions& o = config.options;
  const bool held_out = o.val_files.empty();
  const DataOptions options = held_out ? o.data : validation_options(o);
  const DataDescription& desc = held_out ? d.desc : d.val_desc;
  MetricSums sums(spec);
  for_each_piece(options, desc, shard_range(desc.rows, comm.size(), comm.rank()), piece_rows(desc, d.budget), spec,
                 [&](std::int64_t row) { return !held_out || d.selection.validation(row); },
                 [&](const Shard& piece) { sums.add(score_shard(spec, params, piece, o.threads)); });
  return sums;
}

}  // namespace dptrain
