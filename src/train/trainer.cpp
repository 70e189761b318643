// The training loop. Setup (data, model, resume) is agreed by every rank first; then, for each
// epoch and each step: next batch -> gradient -> GradientSync -> update -> step hooks.
#include "dptrain/trainer.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <csignal>

#include "batch_source.hpp"
#include "checkpointer.hpp"
#include "dptrain/clock.hpp"
#include "dptrain/error.hpp"
#include "dptrain/evaluation.hpp"
#include "train/fault.hpp"
#include "dptrain/log.hpp"
#include "dptrain/names.hpp"
#include "dptrain/run_layout.hpp"
#include "dptrain/stop_signal.hpp"
#include "dptrain/train_config.hpp"
#include "class_weights.hpp"
#include "early_stopping.hpp"
#include "epoch_reporter.hpp"
#include "gradient_sync.hpp"
#include "model/gemm.hpp"
#include "output_paths.hpp"
#include "parallel_gradient.hpp"
#include "parallel_update.hpp"
#include "stream_source.hpp"
#include "training_data.hpp"
#include "util/finite.hpp"
#include "util/huge_pages.hpp"

namespace dptrain {
namespace {

// One epoch as the loop walks it.
struct EpochProgress {
  int epoch = 0;
  std::int64_t first_step = 0;  // a resumed epoch starts later
  std::int64_t step = 0;        // steps done
  double start = 0, compute_s = 0, io_s = 0, loss_sum = 0, correct_sum = 0, rows_sum = 0, lr = 0;
  std::int64_t skipped = 0;
  std::optional<std::string> local_error;  // local SGD: this rank failed; agreed at the next averaging
  bool stop = false;                       // the ranks agreed to stop after this step
};

class Trainer {
 public:
  Trainer(const TrainConfig& config, Communicator& comm, std::ostream* log);
  TrainResult run();

 private:
  bool run_epoch(int epoch);  // false: stopped by a signal or by early stopping
  void train_step(EpochProgress& e);
  LocalStep compute_gradient(EpochProgress& e);
  void apply_update(EpochProgress& e, const StepTotals& totals);
  bool update_parameters(const StepTotals& totals, double lr);
  void poison_gradient();
  void step_hooks(EpochProgress& e, const StepTotals& totals);
  void finish_epoch(EpochProgress& e);
  void validate(EpochReport& report);
  void start_run();
  void apply_class_weights();
  bool block_order() const;
  void report_streamed_drops(int epoch);
  std::unique_ptr<BatchSource> make_source() const;

  const TrainConfig& config_;
  const TrainOptions& o_;
  Communicator& comm_;
  EpochReporter reporter_;
  std::optional<FaultPlan> fault_;
  TrainingData data_;
  TrainingState state_;
  std::int64_t global_batch_ = 0, steps_ = 0;
  Timeline timeline_;
  Checkpointer checkpointer_;
  StartPoint start_;
  std::unique_ptr<BatchSource> source_;
  std::unique_ptr<ParallelGradient> gradient_;
  std::unique_ptr<GradientSync> sync_;
  double io_pending_ = 0;
  std::optional<EarlyStopping> early_;  // --early-stopping / --keep-best
  bool drops_reported_ = false;
  TrainResult result_;
};

Trainer::Trainer(const TrainConfig& config, Communicator& comm, std::ostream* log)
    : config_(config),
      o_(config.options),
      comm_(comm),
      reporter_(config, comm.rank(), log),
      timeline_(!config.options.timeline.empty()),
      checkpointer_(config, comm, state_, timeline_) {
  checkpointer_.before_save([this] {
    if (sync_) sync_->gather_state(*state_.optimizer);
  });
  StopSignal::keep_off_worker_threads(o_.threads);
  run_agreed(comm_, [&] {
    fault_ = FaultPlan::from_environment();
    // Rank 0 writes every output: check (or create) them before the data loads, not after
    // the last epoch.
    if (comm_.rank() == 0) prepare_run_outputs(o_);
    reporter_.open_metrics();
  });
  data_ = prepare_training_data(config_, comm_, fault_ ? &*fault_ : nullptr);
  state_.spec = data_.spec;
  state_.column_names = names_if_count(data_.desc.column_names, state_.spec.inputs());
  if (state_.spec.classifier()) state_.class_names = names_if_count(data_.desc.class_names, state_.spec.classes());
  state_.params = initial_parameters(state_.spec, o_.seed);
  use_huge_pages(state_.params.data(), state_.params.size() * sizeof(float));
  state_.optimizer = make_optimizer(o_.optimizer, state_.params.size());
  state_.seed = o_.seed;
  if (data_.desc.sparse) run_agreed(comm_, [&] { state_.text = common_text_settings(o_.data.files, o_.data.features_name); });
  // desc.rows unless rows are left out; the block order walks dropped rows (passing over them).
  state_.rows = block_order() ? data_.selection.sequence_rows() : data_.selection.training_rows();
  global_batch_ = std::min<std::int64_t>(o_.batch, state_.rows);
  state_.global_batch = global_batch_;
  state_.data_order = block_order() ? "block/" + std::to_string(o_.shuffle_window) : "stratified";
  steps_ = (state_.rows + global_batch_ - 1) / global_batch_;
  start_ = checkpointer_.resume(steps_);
  // The data order comes from the (possibly resumed) seed.
  run_agreed(comm_, [&] { source_ = make_source(); });
  // CSR input: the sparse sync computes its own compact gradient (ParallelGradient stays minimal).
  const bool sparse = data_.shard.sparse();
  gradient_ = std::make_unique<ParallelGradient>(state_.spec, sparse ? 1 : o_.threads, sparse ? 1 : source_->max_rows());
  sync_ = sparse ? make_sparse_gradient_sync(config_, comm_, state_.spec, timeline_, source_->max_rows())
                 : make_gradient_sync(config_, comm_, state_.spec, timeline_, block_order());
  if (const std::span<float> shared = sync_->place_parameters(state_.params.span()); !shared.empty())
    state_.params.live_in(shared);
  if (!o_.class_weight.empty()) apply_class_weights();
  if (o_.early_stopping > 0 || o_.keep_best) {
    run_agreed(comm_, [&] {
      if (o_.early_stopping_metric == "val_acc" && !state_.spec.classifier())
        throw ConfigError("--early-stopping-metric val_acc needs a classifier; this model is a regression");
    });
    early_.emplace(o_.early_stopping, o_.early_stopping_metric, o_.keep_best, state_.early_stopping);
  }
  start_run();
}

bool Trainer::block_order() const { return data_.streamed || config_.block_order; }

std::unique_ptr<BatchSource> Trainer::make_source() const {
  if (!data_.streamed)
    return make_in_memory_source({&data_.shard, &data_.selection, global_batch_, steps_, state_.seed, comm_.rank(),
                                  block_order() ? &data_.layout : nullptr, o_.shuffle_window},
                                 config_.sync);
  return make_stream_source({&o_.data, &data_.desc, &data_.layout, &data_.selection, state_.spec, global_batch_,
                             state_.seed, o_.shuffle_window, comm_.rank(), comm_.size(), data_.budget});
}

// The opening report, the run layout and the reading time (the slowest rank's).
void Trainer::start_run() {
  timeline_.add("read", now_seconds() - data_.io_seconds, now_seconds());
  reporter_.start({state_.spec.describe() + "; float products: " + detail::gemm_backend(), state_.rows,
                   data_.selection.validation_rows(), data_.desc.cols,
                   global_batch_, steps_, comm_.size(), sync_->update_split()});
  // The shards cut all rows of the data (held-out ones too): a rank's share of a batch is its
  // share of those.
  report_run_layout(comm_, {o_.threads, data_.shard.range, data_.desc.rows, global_batch_, block_order()});
  std::vector<double> io_max = {data_.io_seconds};
  comm_.allreduce_max(io_max, "io time");
  io_pending_ = io_max[0];
  // No StopSignal::clear(): a signal that arrived while the data loaded is a pending stop,
  // taken at the first step boundary.
}

// --class-weight: from the global class counts of the training rows, the same on every rank.
void Trainer::apply_class_weights() {
  run_agreed(comm_, [&] {
    if (!state_.spec.classifier()) throw ConfigError("--class-weight needs a classifier; this model is a regression");
    if (data_.shard.sparse()) throw ConfigError("--class-weight is not supported with CSR (sparse) data yet");
    if (data_.streamed)
      throw ConfigError("--class-weight counts the classes of the rows in memory; a streamed run cannot (use --stream off)");
  });
  std::vector<double> counts = class_counts(data_.shard, state_.spec.classes(),
                                            [&](std::int64_t row) { return data_.selection.training(row); });
  comm_.allreduce_sum(counts, "class counts");
  std::vector<float> weights;
  run_agreed(comm_, [&] { weights = class_weights(o_.class_weight, counts); });
  gradient_->set_class_weights(weights);
  log_info(describe_class_weights(weights));
}

TrainResult Trainer::run() {
  for (int epoch = start_.epoch; epoch <= o_.epochs; ++epoch) {
    if (!run_epoch(epoch)) break;
  }
  state_.params.bring_home();  // every rank may write them now (the best epoch's)
  if (early_ && !result_.stop_signal) early_->restore_best(state_.params.span());
  if (!result_.stop_signal) checkpointer_.save_final();
  if (timeline_.enabled()) {
    timeline_.write(o_.timeline, comm_);
    log_info("timeline written to " + o_.timeline);
  }
  result_.spec = state_.spec;
  result_.params = state_.params.take();
  return std::move(result_);
}

bool Trainer::run_epoch(int epoch) {
  EpochProgress e;
  e.epoch = epoch;
  e.start = now_seconds();
  e.first_step = e.step = epoch == start_.epoch ? start_.step : 0;
  source_->start_epoch(epoch, e.first_step);
  while (e.step < steps_ && !e.stop) train_step(e);
  if (e.stop) {
    // Agreed at a step boundary (the flag travels in the reduction), so every rank is here at
    // the same step; some may not have received the signal themselves. The signal, and so the
    // exit code without a checkpoint (128 + signal), is agreed: ranks without one send 0.
    std::vector<double> signal = {static_cast<double>(StopSignal::signal_number())};
    comm_.allreduce_max(signal, "stop signal");
    result_.stop_signal = signal[0] > 0 ? static_cast<int>(signal[0]) : SIGTERM;
    reporter_.stopping(epoch, e.step, steps_, StopSignal::requested(), StopSignal::signal_number());
    if (e.step < steps_) {
      checkpointer_.on_stop(epoch, e.step);
      result_.stop_checkpoint = checkpointer_.last_checkpoint();
      return false;
    }
  }
  finish_epoch(e);
  // Before the epoch's checkpoint, so that it carries the early-stopping state of this epoch.
  const bool early_stop = early_ && early_->after_epoch(result_.epochs.back(), state_.params.span());
  checkpointer_.at_epoch_end(epoch, e.stop);
  if (e.stop) result_.stop_checkpoint = checkpointer_.last_checkpoint();
  return !e.stop && !early_stop;
}

void Trainer::train_step(EpochProgress& e) {
  e.lr = learning_rate(o_.schedule, (e.epoch - 1) + static_cast<double>(e.step) / steps_, o_.epochs);
  const LocalStep mine = compute_gradient(e);
  const StepTotals totals = sync_->exchange(mine, e.local_error);
  apply_update(e, totals);
  step_hooks(e, totals);
}

// The next batch and this rank's gradient of it. A failure is kept, not thrown: the exchange
// carries it to every rank.
LocalStep Trainer::compute_gradient(EpochProgress& e) {
  const double t0 = now_seconds();
  LocalStep mine;
  if (!e.local_error) {
    try {
      const FaultPlan::Poison fault = fault_ ? fault_->fire(comm_.rank(), state_.global_step) : FaultPlan::Poison::none;
      const bool poison = fault == FaultPlan::Poison::batch;
      const double t_read = now_seconds();
      const Batch batch = source_->next();
      timeline_.add("batch", t_read, now_seconds());  // gathering the rows (and waiting for them)
      const double io_wait = source_->take_io_wait();
      e.io_s += io_wait;
      if (io_wait > 0) timeline_.add("io wait", t_read, t_read + io_wait);
      mine.rows = batch.rows;
      if (poison && batch.sparse) std::fill(batch.sparse->values.begin(), batch.sparse->values.end(), std::nanf(""));
      if (poison && !batch.sparse) std::fill(batch.features, batch.features + batch.rows * data_.desc.cols, std::nanf(""));
      mine.stats = sync_->compute(*gradient_, state_.params.data(), batch);
      if (fault == FaultPlan::Poison::gradient) poison_gradient();
    } catch (const std::exception& ex) {
      e.local_error = ex.what();
    }
  }
  mine.flags = {e.local_error.has_value(), StopSignal::requested()};
  const double t1 = now_seconds();
  e.compute_s += t1 - t0;
  timeline_.add("forward/backward", t0, t1);
  return mine;
}

// DPTRAIN_FAULT kind=nan-gradient: one NaN in this rank's gradient, its loss left finite.
void Trainer::poison_gradient() {
  const std::span<float> g = sync_->local_gradient();
  if (g.empty())
    throw ConfigError("DPTRAIN_FAULT kind=nan-gradient: this run's exchange keeps no float gradient to poison "
                      "(--deterministic or CSR input); use kind=nan");
  g[g.size() / 2] = std::nanf("");
}

// The optimizer step with the combined gradient, unless it is not finite (--on-nan).
void Trainer::apply_update(EpochProgress& e, const StepTotals& totals) {
  const double t0 = now_seconds();
  if (totals.rows > 0) {
    if (!update_parameters(totals, e.lr)) {
      const std::string where = "non-finite loss or gradient at epoch " + std::to_string(e.epoch) + ", step " +
                                std::to_string(e.step) + " (global step " + std::to_string(state_.global_step) + ")";
      if (config_.on_nan == NanPolicy::stop) {
        // Every rank sees the same reduced values, so every rank stops here together.
        if (config_.gradient_sync())
          throw CollectiveFailure(comm_.rank(), "training diverged: " + where +
                                                    "; lower --lr, set --clip-norm, or use --on-nan skip-step");
        e.local_error = "training diverged on rank " + std::to_string(comm_.rank()) + ": " + where;
      }
      ++e.skipped;
    } else {
      e.loss_sum += totals.loss;
      e.correct_sum += totals.correct;
      e.rows_sum += totals.rows;
    }
  }
  ++state_.global_step;
  e.compute_s += now_seconds() - t0;
  timeline_.add("update", t0, now_seconds());
}

// False, with the parameters not updated (or spoilt, under --on-nan stop), when the loss or the
// gradient is not finite.
bool Trainer::update_parameters(const StepTotals& totals, double lr) {
  if (!std::isfinite(totals.loss)) return false;
  const double mean = 1.0 / totals.rows;
  const std::optional<bool> fused = sync_->fused_update(*state_.optimizer, state_.params.span(), lr, static_cast<float>(mean));
  if (fused) return *fused;
  const GradientView g = sync_->view();  // dense, or compact for CSR input
  float* grad = g.values.data();
  const std::size_t n = g.values.size();
  // The mean over the batch and the clipping are one scale factor, applied inside the
  // optimizer's single pass over the parameters (a non-finite norm is caught below).
  const auto scale = static_cast<float>(
      g.norm >= 0 ? clipped_scale(g.norm, mean, o_.clip_norm) : clipped_scale({grad, n}, mean, o_.clip_norm));
  if (g.width > 0) {
    if (!all_finite(grad, n)) return false;
    state_.optimizer->step_sparse(state_.params.span(), g.columns, g.width, g.values, lr, scale);
    return true;
  }
  // The parameters the view covers: [offset, offset + n), all of them unless the update is sharded.
  return update_in_parallel(*state_.optimizer, state_.params.span().subspan(g.offset, n), {grad, n}, g.offset, lr,
                            scale, gradient_->threads());
}

// After the update: local SGD's averaging, a periodic checkpoint, the agreed stop, progress.
void Trainer::step_hooks(EpochProgress& e, const StepTotals& totals) {
  const bool epoch_end = e.step + 1 == steps_;
  const SyncPoint point = sync_->after_update(state_.params.span(), state_.global_step, epoch_end,
                                              {e.local_error.has_value(), StopSignal::requested()}, e.local_error);
  ++e.step;
  checkpointer_.after_step(point.synced, e.epoch, e.step, steps_);
  e.stop = totals.stop || point.stop;
  if (!e.stop) reporter_.progress(e.epoch, e.step, steps_, e.rows_sum > 0 ? e.loss_sum / e.rows_sum : 0.0);
}

void Trainer::finish_epoch(EpochProgress& e) {
  std::vector<double> sums = {e.loss_sum, e.correct_sum, e.rows_sum};
  sync_->epoch_sums(sums, e.local_error);  // global already with a per-step exchange
  EpochReport report;
  report.epoch = e.epoch;
  report.train_loss = sums[2] > 0 ? sums[0] / sums[2] : NAN;
  if (state_.spec.classifier()) report.train_accuracy = sums[2] > 0 ? sums[1] / sums[2] : NAN;
  report.skipped_steps = e.skipped;
  report.lr = e.lr;
  report.ranks = comm_.size();
  report.threads = o_.threads;
  if (data_.streamed && o_.data.skip_bad_rows) report_streamed_drops(e.epoch);
  if (data_.val || data_.val_streamed) validate(report);
  e.compute_s += report.val_s;
  // Rank 0 reports the slowest rank's times: the job runs at that pace.
  std::vector<double> times = {e.compute_s, sync_->take_comm_seconds(), peak_rss_mb(), e.io_s};
  comm_.allreduce_max(times, "epoch timing");
  report.peak_rss_mb = times[2];
  if (const ExchangeVolume v = sync_->take_volume(); v.steps > 0) {
    report.exchange_bytes = v.bytes / static_cast<double>(v.steps);
    report.dense_exchange_bytes = v.dense_bytes / static_cast<double>(v.steps);
    report.sparse_exchange_steps = v.sparse_steps;
  }
  report.epoch_s = now_seconds() - e.start;
  report.compute_s = times[0];
  report.comm_s = times[1];
  report.io_s = io_pending_ + times[3];  // reading the shards (first epoch), waiting for streamed blocks
  io_pending_ = 0;
  // Training throughput: validation time is reported apart (val_s).
  report.samples_per_s = static_cast<double>(std::min(state_.rows, (steps_ - e.first_step) * global_batch_)) /
                         std::max(report.epoch_s - report.val_s, 1e-9);
  // A metrics line that cannot be written (full disk) fails the run on every rank.
  run_agreed(comm_, [&] { reporter_.epoch(report); });
  result_.epochs.push_back(report);
}

// Streamed rows found bad are passed over in every epoch; said once, with their count.
void Trainer::report_streamed_drops(int epoch) {
  std::vector<double> dropped = {static_cast<double>(source_->take_dropped())};
  comm_.allreduce_sum(dropped, "dropped rows");
  if (dropped[0] > 0 && !drops_reported_)
    log_info("--skip-bad-rows passed over " + std::to_string(static_cast<std::int64_t>(dropped[0])) +
             " bad row(s) while streaming epoch " + std::to_string(epoch) + " (every epoch passes over them)");
  drops_reported_ = drops_reported_ || dropped[0] > 0;
}

// Validation loss and accuracy with the same scorer as `dptrain eval`.
void Trainer::validate(EpochReport& report) {
  const double t0 = now_seconds();
  std::optional<std::string> error;
  MetricSums v;
  try {
    v = data_.val_streamed ? score_streamed_validation(config_, data_, state_.spec, state_.params.span(), comm_)
                           : score_shard(state_.spec, state_.params.span(), *data_.val, o_.threads);
  } catch (const std::exception& ex) {
    error = ex.what();
  }
  std::vector<double> sums = {v.loss, v.correct(), v.rows};
  allreduce_or_throw(comm_, sums, error, "validation");
  report.val_loss = sums[0] / std::max(sums[2], 1.0);
  if (state_.spec.classifier()) report.val_accuracy = sums[1] / std::max(sums[2], 1.0);
  report.val_s = now_seconds() - t0;
  timeline_.add("validation", t0, now_seconds());
}

}  // namespace

TrainResult train(const TrainOptions& options, Communicator& comm, std::ostream* log) {
  TrainConfig config;
  run_agreed(comm, [&] { config = validate_train_options(options, comm.size()); });
  return Trainer(config, comm, log).run();
}

}  // namespace dptrain
