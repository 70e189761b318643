#include "training_data.hpp"

#include <algorithm>

#include "dptrain/error.hpp"
#include "dptrain/json.hpp"
#include "data/labels.hpp"
#include "dptrain/log.hpp"
#include "data/data_agreement.hpp"

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
  if (!config.gradient_sync() && d.desc.rows < p)
    throw ConfigError("--sync params needs at least one row per rank: " + std::to_string(d.desc.rows) +
                      " rows for " + std::to_string(p) + " ranks; use fewer ranks or --sync grad");
  if (o.val_files.empty()) return;
  vdesc = describe_data(validation_options(o));
  if (vdesc.cols != d.desc.cols)
    throw DataError(o.val_files[0] + ": validation data has " + std::to_string(vdesc.cols) +
                    " features; the training data has " + std::to_string(d.desc.cols));
}

// This rank's shards of the training and validation files, once every rank agreed on them.
void load_shards(const TrainConfig& config, Communicator& comm, TrainingData& d, const DataDescription& vdesc,
                 const FaultPlan* fault) {
  const TrainOptions& o = config.options;
  d.shard = load_shard(o.data, d.desc, shard_range(d.desc.rows, comm.size(), comm.rank()));
  if (fault) fault->fire(comm.rank(), FaultPlan::kDuringLoad);  // tests: a signal while data loads
  if (!o.val_files.empty())
    d.val = load_shard(validation_options(o), vdesc, shard_range(vdesc.rows, comm.size(), comm.rank()));
}

// The model the options and the data ask for; classes come from the largest label of any rank.
ModelSpec build_model(const TrainConfig& config, const DataDescription& desc, double max_label) {
  const TrainOptions& o = config.options;
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
  if (!d.val || !d.spec.classifier()) return;
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
    if (o.val_fraction > 0)
      d.val = take_rows(d.shard, [&](std::int64_t row) { return d.selection.validation(row); });
    else if (d.val && val_file_dropped > 0)
      d.val = take_rows(*d.val, [&](std::int64_t row) { return !d.val->dropped.contains(row); });
  });
  report_class_coverage(comm, d, val_file_dropped);
}

}  // namespace

TrainingData prepare_training_data(const TrainConfig& config, Communicator& comm, const FaultPlan* fault) {
  TrainingData d;
  DataDescription vdesc;
  run_agreed(comm, [&] { describe_files(config, comm, d, vdesc); });
  // Every rank described the files on its own: agree on them before anything is sized by them.
  agree_on_data(comm, config.options.data, d.desc, "training data");
  if (!config.options.val_files.empty())
    agree_on_data(comm, validation_options(config.options), vdesc, "validation data");
  run_agreed(comm, [&] { load_shards(config, comm, d, vdesc, fault); });
  d.io_seconds = d.shard.io_seconds + (d.val ? d.val->io_seconds : 0.0);
  std::vector<double> max_label = {max_finite_label(d.shard)};
  if (d.val) max_label[0] = std::max(max_label[0], max_finite_label(*d.val));
  comm.allreduce_max(max_label, "label range");
  run_agreed(comm, [&] {
    d.spec = build_model(config, d.desc, max_label[0]);
    check_or_drop_labels(d.spec, d.shard, config.options.data);
    if (d.val) check_or_drop_labels(d.spec, *d.val, validation_options(config.options));
  });
  select_rows(config, comm, d);
  if (!d.selection.dropped_report.empty()) log_info(d.selection.dropped_report);
  return d;
}

}  // namespace dptrain
