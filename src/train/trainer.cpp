#include "dptrain/trainer.hpp"

#include <omp.h>

#include <Eigen/Core>

#include <csignal>
#include <filesystem>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "dptrain/checkpoint.hpp"
#include "dptrain/data_agreement.hpp"
#include "dptrain/output_paths.hpp"
#include "dptrain/resume_cursor.hpp"
#include "dptrain/error.hpp"
#include "dptrain/fault.hpp"
#include "dptrain/row_selection.hpp"
#include "dptrain/stop_signal.hpp"
#include "dptrain/timeline.hpp"
#include "dptrain/metrics.hpp"
#include "dptrain/run_layout.hpp"
#include "parallel_gradient.hpp"
#include "step_exchange.hpp"

namespace dptrain {
namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Sums `values` over ranks together with a failure flag; if any rank failed, every rank
// throws that rank's message.
void reduce_or_fail(Communicator& comm, std::vector<double>& values,
                    const std::optional<std::string>& local_error, const char* phase) {
  values.push_back(local_error ? 1.0 : 0.0);
  comm.allreduce_sum(values, phase);
  const bool failed = values.back() > 0;
  values.pop_back();
  if (failed) {
    auto f = agree_on_failure(comm, local_error);
    throw CollectiveFailure(f ? f->rank : 0, f ? f->message : "unknown failure",
                            f ? f->exit_code : kExitRuntimeError);
  }
}

std::string format_report(const EpochReport& r, int epochs) {
  std::ostringstream s;
  s << std::fixed << "epoch " << r.epoch << "/" << epochs << std::setprecision(4)
    << "  loss " << r.train_loss;
  if (r.train_accuracy) s << "  acc " << *r.train_accuracy;
  if (r.val_loss) s << "  val_loss " << *r.val_loss;
  if (r.val_accuracy) s << "  val_acc " << *r.val_accuracy;
  s << std::setprecision(0) << "  " << r.samples_per_s << " samples/s" << std::setprecision(2)
    << "  " << r.epoch_s << " s (compute " << r.compute_s << ", comm " << r.comm_s << ", io "
    << r.io_s << ")";
  if (r.skipped_steps) s << "  skipped " << r.skipped_steps << " non-finite steps";
  return s.str();
}

// Peak resident set size of this process (VmHWM), in MiB.
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      double kb = 0;
      status >> kb;
      return kb / 1024.0;
    }
    status.ignore(1 << 16, '\n');
  }
  return 0;
}

// Vectorised by Eigen (a plain loop over a float sum is not: the compiler may not reorder it).
bool all_finite(const float* g, std::size_t n) {
  return Eigen::Map<const Eigen::VectorXf>(g, static_cast<Eigen::Index>(n)).allFinite();
}


}  // namespace


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

EvalSums evaluate_shard(const ModelSpec& spec, const AlignedVector<float>& params, const Shard& shard,
                        int threads) {
  // Fixed blocks, summed in block order: the result does not depend on the thread count.
  constexpr std::int64_t kBlock = 1024;
  const std::int64_t blocks = (shard.rows() + kBlock - 1) / kBlock;
  std::vector<BatchStats> per_block(static_cast<std::size_t>(blocks));
  const int nt = std::max(1, threads);
  std::vector<Workspace<float>> ws;
  for (int t = 0; t < nt; ++t) ws.emplace_back(spec, std::min(kBlock, std::max<std::int64_t>(1, shard.rows())));
#pragma omp parallel for num_threads(nt) schedule(dynamic)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t lo = b * kBlock, hi = std::min(shard.rows(), lo + kBlock);
    per_block[b] = forward(spec, params.data(), shard.row(lo), shard.label(lo), hi - lo,
                           ws[omp_get_thread_num()]);
  }
  EvalSums sums;
  for (const auto& s : per_block) {
    sums.loss += s.loss;
    sums.correct += s.correct;
  }
  sums.rows = static_cast<double>(shard.rows());
  return sums;
}

namespace {

[[noreturn]] void throw_agreed(Communicator& comm, const std::optional<std::string>& local_error) {
  auto f = agree_on_failure(comm, local_error);
  throw CollectiveFailure(f ? f->rank : 0, f ? f->message : "unknown failure",
                          f ? f->exit_code : kExitRuntimeError);
}

std::string describe_signal(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    default: return "signal " + std::to_string(sig);
  }
}

}  // namespace

TrainResult train(const TrainOptions& o, Communicator& comm, std::ostream* log) {
  const int p = comm.size(), rank = comm.rank();
  const int threads = std::max(1, o.threads);
  const bool grad_sync = o.sync == "grad";
  std::optional<FaultPlan> fault;
  CheckpointSchedule schedule;
  DataDescription desc, vdesc;
  Shard shard;
  std::optional<Shard> val;
  DataOptions val_options = o.data;
  val_options.files = o.val_files;
  auto say = [&](const std::string& line) {
    if (log && rank == 0) *log << "dptrain: " << line << std::endl;
  };
  MetricsWriter metrics;

  // Phase 1: options and data. Errors are agreed before any collective of the loop.
  run_agreed(comm, [&] {
    if (o.sync != "grad" && o.sync != "params")
      throw ConfigError("--sync '" + o.sync + "': expected grad or params");
    if (o.epochs < 1) throw ConfigError("--epochs must be at least 1");
    if (o.batch < 1) throw ConfigError("--batch must be at least 1");
    if (o.average_every < 1) throw ConfigError("--average-every must be at least 1");
    if (o.on_nan != "stop" && o.on_nan != "skip-step")
      throw ConfigError("--on-nan '" + o.on_nan + "': expected stop or skip-step");
    if (o.threads < 1) throw ConfigError("--threads must be at least 1");
    if (o.deterministic && !grad_sync)
      throw ConfigError("--deterministic needs --sync grad (local SGD depends on the rank count)");
    if (o.deterministic && o.batch > 2048)
      throw ConfigError("--deterministic supports --batch up to 2048 (fixed-point range)");
    schedule = CheckpointSchedule::parse(o.checkpoint_every);
    if (schedule.every > 0 && o.checkpoint_dir.empty())
      throw ConfigError("--checkpoint-every needs --checkpoint-dir");
    if (o.resume == "auto" && o.checkpoint_dir.empty())
      throw ConfigError("--resume auto needs --checkpoint-dir");
    if (rank == 0) {  // rank 0 writes every output: check (or create) them before any work
      if (!o.checkpoint_dir.empty()) prepare_output_folder(o.checkpoint_dir, "--checkpoint-dir");
      for (const auto& [path, option] : {std::pair{o.checkpoint, "--checkpoint"}, {o.timeline, "--timeline"},
                                         {o.metrics, "--metrics"}, {o.metrics_csv, "--metrics-csv"}})
        if (!path.empty()) prepare_output_file(path, option);
    }
    if (!(o.clip_norm >= 0)) throw ConfigError("--clip-norm must be >= 0 (0: off)");
    validate(o.optimizer);
    validate(o.schedule);
    if (!(o.val_fraction >= 0 && o.val_fraction < 1))
      throw ConfigError("--val-fraction must be in [0, 1)");
    if (o.val_fraction > 0 && !o.val_files.empty())
      throw ConfigError("--val and --val-fraction both given; use one");
    if (!grad_sync && o.batch < p)
      throw ConfigError("--sync params with --batch " + std::to_string(o.batch) + " on " +
                        std::to_string(p) + " ranks: every rank takes at least one row per local "
                        "step; use --batch " + std::to_string(p) + " or more, or --sync grad");
    fault = FaultPlan::from_environment();
    desc = describe_data(o.data);
    if (desc.rows == 0) throw DataError(o.data.files[0] + ": the dataset has no rows");
    if (!grad_sync && desc.rows < p)
      throw ConfigError("--sync params needs at least one row per rank: " +
                        std::to_string(desc.rows) + " rows for " + std::to_string(p) +
                        " ranks; use fewer ranks or --sync grad");
    if (!o.val_files.empty()) {
      vdesc = describe_data(val_options);
      if (vdesc.cols != desc.cols)
        throw DataError(o.val_files[0] + ": validation data has " + std::to_string(vdesc.cols) +
                        " features; the training data has " + std::to_string(desc.cols));
    }
  });
  // Every rank described the files on its own: agree on them before anything is sized by them.
  agree_on_data(comm, o.data, desc, "training data");
  if (!o.val_files.empty()) agree_on_data(comm, val_options, vdesc, "validation data");
  run_agreed(comm, [&] {
    shard = load_shard(o.data, desc, shard_range(desc.rows, p, rank));
    if (fault) fault->fire(rank, FaultPlan::kDuringLoad);  // tests: a signal while data loads
    if (!o.val_files.empty()) val = load_shard(val_options, vdesc, shard_range(vdesc.rows, p, rank));
    if (rank == 0) metrics.open(o.metrics, o.metrics_csv, o.config_text, !o.resume.empty());
  });

  // Phase 2: the model. Classes come from the largest label over all ranks.
  std::vector<double> max_label = {max_finite_label(shard)};
  if (val) max_label[0] = std::max(max_label[0], max_finite_label(*val));
  comm.allreduce_max(max_label, "label range");
  ModelSpec spec;
  run_agreed(comm, [&] {
    LossKind mlp_loss = (desc.integer_labels || o.classes > 0) ? LossKind::SoftmaxCrossEntropy
                                                                : LossKind::MeanSquaredError;
    if (o.loss != "auto") mlp_loss = parse_loss(o.loss);
    std::int64_t outputs = desc.label_cols;
    const bool classes_needed = o.model == "softmax" ||
                                (o.model.rfind("mlp", 0) == 0 && mlp_loss == LossKind::SoftmaxCrossEntropy);
    if (classes_needed) {
      if (desc.label_cols != 1)
        throw DataError(o.data.files[0] + ": '" + o.data.labels_name +
                        "' must be 1-D class ids for --model " + o.model);
      outputs = o.classes > 0 ? o.classes : static_cast<std::int64_t>(max_label[0]) + 1;
    }
    spec = make_model_spec(o.model, desc.cols, outputs, mlp_loss, parse_activation(o.activation));
    if (o.loss != "auto" && spec.loss != mlp_loss)
      throw ConfigError("--loss " + o.loss + " does not fit --model " + o.model + ", which trains with " +
                        to_string(spec.loss) + "; --loss chooses the output of mlp models");
    check_or_drop_labels(spec, shard, o.data);
    if (val) check_or_drop_labels(spec, *val, val_options);
  });

  // Phase 2b: which rows train and which validate, the same on every rank.
  const RowSelection selection =
      agree_row_selection(comm, desc.rows, o.val_fraction, o.seed, shard.dropped);
  const std::int64_t val_file_dropped = val ? static_cast<std::int64_t>(val->dropped.rows.size()) : 0;
  const std::int64_t local_train = selection.training_rows_in(shard.range);
  run_agreed(comm, [&] {
    if (selection.training_rows() == 0)
      throw DataError(o.data.files[0] + ": no training rows left (" + selection.dropped_report + ")");
    if (o.val_fraction > 0 && selection.validation_rows() == 0)
      throw ConfigError("--val-fraction " + json_number(o.val_fraction) + " of " +
                        std::to_string(desc.rows) + " rows selects no validation row; raise it");
    if (!grad_sync && local_train == 0)
      throw ConfigError("--sync params needs at least one training row per rank; rank " +
                        std::to_string(rank) + " has none; use fewer ranks or --sync grad");
    if (o.val_fraction > 0)
      val = take_rows(shard, [&](std::int64_t row) { return selection.validation(row); });
    else if (val && val_file_dropped > 0)
      val = take_rows(*val, [&](std::int64_t row) { return !val->dropped.contains(row); });
  });
  if (val && spec.classifier()) {
    // Class counts of both sets and the dropped validation rows, in one reduction.
    const std::int64_t K = spec.classes();
    std::vector<double> sums =
        class_counts(shard, K, [&](std::int64_t row) { return selection.training(row); });
    const auto val_counts = class_counts(*val, K, [](std::int64_t) { return true; });
    sums.insert(sums.end(), val_counts.begin(), val_counts.end());
    sums.push_back(static_cast<double>(val_file_dropped));
    comm.allreduce_sum(sums, "class counts");
    if (rank == 0) {
      const std::vector<double> train_counts(sums.begin(), sums.begin() + K);
      const std::vector<double> vcounts(sums.begin() + K, sums.begin() + 2 * K);
      for (const auto& w : class_coverage_warnings(train_counts, vcounts))
        std::cerr << "dptrain: warning: " << w << std::endl;
      if (sums.back() > 0)
        say("--skip-bad-rows dropped " + std::to_string(static_cast<std::int64_t>(sums.back())) +
            " validation row(s)");
    }
  }
  if (!selection.dropped_report.empty()) say(selection.dropped_report);

  AlignedVector<float> params = initial_parameters(spec, o.seed);
  const std::size_t n_params = params.size();
  auto optimizer = make_optimizer(o.optimizer, n_params);
  const std::int64_t N = selection.training_rows();  // desc.rows unless rows are left out
  const std::int64_t B = std::min<std::int64_t>(o.batch, N);
  const std::int64_t steps = (N + B - 1) / B;

  // Phase 3: resume. Every rank reads the same file; the outcome is agreed.
  int start_epoch = 1;
  std::int64_t start_step = 0, global_step = 0;
  std::uint64_t seed = o.seed;
  run_agreed(comm, [&] {
    if (o.resume.empty()) return;
    const bool auto_mode = o.resume == "auto";
    const auto point = find_resume_point(auto_mode ? o.checkpoint_dir : o.resume, auto_mode,
                                         [&](const std::string& w) { say("warning: " + w); });
    if (!point) {
      say("no checkpoint in " + o.checkpoint_dir + "; starting fresh");
      return;
    }
    const Checkpoint& c = point->checkpoint;
    if (!(c.spec == spec))
      throw CheckpointError(point->path + ": the checkpoint holds model " + c.spec.describe() +
                            "; this run builds " + spec.describe() +
                            " (other --model, data width or classes)");
    if (c.data_rows != N)
      throw CheckpointError(point->path + ": the checkpoint was trained on " +
                            std::to_string(c.data_rows) + " rows; --data has " + std::to_string(N));
    if (c.optimizer != o.optimizer.name)
      throw CheckpointError(point->path + ": the checkpoint used --optimizer " + c.optimizer +
                            "; this run asks for " + o.optimizer.name);
    params = c.params;
    for (auto& [name, values] : optimizer->state()) {
      auto it = std::find_if(c.optimizer_state.begin(), c.optimizer_state.end(),
                             [&](const auto& entry) { return entry.first == name; });
      if (it == c.optimizer_state.end() || it->second.size() != values->size())
        throw CheckpointError(point->path + ": optimizer state '" + name + "' missing or wrong size");
      *values = it->second;
    }
    optimizer->steps = c.optimizer_steps;
    const ResumeCursor cursor = resume_cursor(point->path, c, o.seed, B, steps, o.resume_reset_cursor);
    if (!cursor.note.empty()) say(cursor.note);
    seed = cursor.seed;
    global_step = c.global_step;
    start_epoch = cursor.start_epoch;
    start_step = cursor.start_step;
    say("resumed from " + point->path + " at epoch " + std::to_string(start_epoch) + ", step " +
        std::to_string(start_step) + " (global step " + std::to_string(global_step) + ")");
  });

  const std::int64_t local_batch =
      grad_sync ? std::min(StratifiedOrder::max_batch(B, desc.rows), local_train)
                : (local_train + steps - 1) / steps;
  const std::vector<std::int64_t> stratum_training =
      grad_sync ? StratifiedOrder::training_rows_per_stratum(selection) : std::vector<std::int64_t>();
  const std::int64_t D = desc.cols, L = spec.label_cols();
  ParallelGradient gradient(spec, threads, std::max<std::int64_t>(1, local_batch));
  AlignedVector<float> xb(static_cast<std::size_t>(std::max<std::int64_t>(1, local_batch) * D));
  AlignedVector<float> yb(static_cast<std::size_t>(std::max<std::int64_t>(1, local_batch) * L));
  StepExchange exchange(n_params, o.deterministic);
  // Overlap needs a collective per step (sync grad) and float sums; with one rank there is
  // nothing to overlap.
  const bool overlap = o.overlap && grad_sync && !o.deterministic && p > 1;
  const auto buckets = gradient_buckets(spec);
  BucketSender sender;
  sender.comm = &comm;
  sender.grad = exchange.grad();
  Timeline timeline(!o.timeline.empty());
  timeline.add("read", now() - shard.io_seconds - (val ? val->io_seconds : 0.0), now());
  AlignedVector<float> average(grad_sync ? 0 : n_params + 2);

  if (log && rank == 0) {
    *log << "dptrain: " << spec.describe() << "\n"
         << "dptrain: " << N << " training rows"
         << (o.val_fraction > 0 ? " (+" + std::to_string(selection.validation_rows()) + " held out)" : "")
         << " x " << D << " features, " << p << " rank(s) x " << threads
         << " thread(s), sync " << o.sync
         << (grad_sync ? "" : " every " + std::to_string(o.average_every) + " step(s)")
         << (o.deterministic ? " (deterministic)" : "") << ", global batch " << B << ", "
         << steps << " steps/epoch, optimizer " << o.optimizer.name << ", lr " << o.schedule.lr
         << "\n";
    log->flush();
  }

  // The training state as it stands (the data cursor given by the caller).
  auto snapshot = [&](std::int64_t completed_epochs, std::int64_t epoch_step) {
    Checkpoint c;
    c.spec = spec;
    c.params = params;
    c.optimizer = o.optimizer.name;
    c.optimizer_steps = optimizer->steps;
    for (auto& [name, values] : optimizer->state()) c.optimizer_state.emplace_back(name, *values);
    c.epoch = completed_epochs;
    c.epoch_step = epoch_step;
    c.global_step = global_step;
    c.seed = seed;
    c.data_rows = N;
    c.global_batch = B;
    c.config = o.config_text;
    return c;
  };

  std::string last_checkpoint;  // the newest checkpoint this run wrote
  // Writes the training state (rank 0 alone; the outcome is agreed). In params mode it is
  // called only right after an averaging, when every rank holds the same parameters.
  auto save_state = [&](int completed_epochs, std::int64_t epoch_step) {
    const double t_save = now();
    run_agreed(comm, [&] {
      if (rank != 0 || o.checkpoint_dir.empty()) return;
      const std::string path = checkpoint_path(o.checkpoint_dir, completed_epochs, global_step);
      save_checkpoint(path, snapshot(completed_epochs, epoch_step));
      prune_checkpoints(o.checkpoint_dir, o.keep_last);
      say("checkpoint " + path);
    });
    last_checkpoint = o.checkpoint_dir.empty() ? "" : checkpoint_path(o.checkpoint_dir, completed_epochs, global_step);
    timeline.add("checkpoint", t_save, now());
  };
  report_run_layout(comm, {threads, shard.range, N, B});

  TrainResult result;
  std::int64_t last_saved_step = global_step;
  bool stopping = false;
  double io_pending = shard.io_seconds + (val ? val->io_seconds : 0.0);
  std::vector<double> io_max = {io_pending};
  comm.allreduce_max(io_max, "io time");
  io_pending = io_max[0];
  // No StopSignal::clear() here: a signal that arrived while the data loaded is a pending
  // stop, taken at the first step boundary.

  for (int epoch = start_epoch; epoch <= o.epochs; ++epoch) {
    const double t_epoch = now();
    double compute_s = 0, comm_s = 0, loss_sum = 0, correct_sum = 0, rows_sum = 0, lr = 0;
    std::int64_t skipped = 0;
    std::optional<std::string> local_error;
    // Sync grad: the global order (the same batches for any rank count). Local SGD: this
    // rank's own order of its shard.
    StratifiedOrder global_order(selection, stratum_training, seed, epoch, steps, shard.range);
    const GlobalPermutation local_order(static_cast<std::uint64_t>(std::max<std::int64_t>(1, shard.rows())),
                                        seed + 0x9E3779B9ull * static_cast<std::uint64_t>(rank + 1), epoch);
    BatchCursor cursor(local_order, selection, shard.range.begin);
    double last_progress = 0;
    const std::int64_t first_step = epoch == start_epoch ? start_step : 0;
    std::int64_t s = first_step;
    // A resumed epoch first passes its finished steps.
    for (std::int64_t done = 0; done < first_step; ++done) {
      if (grad_sync) global_order.next([](std::int64_t) {});
      else cursor.next(local_batch, [](std::int64_t) {});
    }

    for (; s < steps; ++s) {
      lr = learning_rate(o.schedule, (epoch - 1) + static_cast<double>(s) / steps, o.epochs);
      const double t0 = now();
      std::int64_t m = 0;
      BatchStats stats;
      sender.started = 0;
      if (!local_error) {
        try {
          const bool poison = fault && fault->fire(rank, global_step);
          // Gather this rank's rows of the step's batch into the reused buffer.
          const auto take = [&](std::int64_t local) {
            std::copy(shard.row(local), shard.row(local) + D, xb.data() + m * D);
            std::copy(shard.label(local), shard.label(local) + L, yb.data() + m * L);
            ++m;
          };
          if (grad_sync)
            global_order.next([&](std::int64_t row) { take(row - shard.range.begin); });
          else
            cursor.next(local_batch, take);
          if (poison) std::fill(xb.begin(), xb.begin() + m * D, std::nanf(""));
          stats = o.deterministic
                      ? gradient.compute_fixed(params.data(), xb.data(), yb.data(), m, exchange.fixed())
                      : gradient.compute(params.data(), xb.data(), yb.data(), m, exchange.grad(),
                                         overlap ? &sender : nullptr);
        } catch (const std::exception& e) {
          local_error = e.what();
        }
      }
      const double t1 = now();
      compute_s += t1 - t0;
      timeline.add("forward/backward", t0, t1);
      if (overlap)  // a rank that failed before backprop still starts every bucket, in order
        for (std::size_t b = sender.started; b < buckets.size(); ++b)
          sender(buckets[b].first, buckets[b].second);
      const auto mode = !grad_sync ? StepExchange::Mode::Local
                        : overlap  ? StepExchange::Mode::ExtrasAfterBuckets
                                   : StepExchange::Mode::Whole;
      const auto totals = exchange.reduce(comm, static_cast<double>(m), stats, local_error.has_value(),
                                          StopSignal::requested(), mode);
      if (grad_sync) {
        const double t_done = now();
        comm_s += t_done - t1;
        timeline.add("allreduce wait", t1, t_done);
        if (totals.failed) throw_agreed(comm, local_error);
      }

      const double t2 = now();
      float* grad = exchange.grad();
      if (totals.rows > 0) {
        const bool finite = std::isfinite(totals.loss) && all_finite(grad, n_params);
        if (!finite) {
          const std::string where = "non-finite loss or gradient at epoch " +
                                    std::to_string(epoch) + ", step " + std::to_string(s) +
                                    " (global step " + std::to_string(global_step) + ")";
          if (o.on_nan == "stop") {
            // Every rank sees the same reduced values, so every rank stops here together.
            if (grad_sync)
              throw CollectiveFailure(rank, "training diverged: " + where +
                                                "; lower --lr, set --clip-norm, or use --on-nan skip-step");
            local_error = "training diverged on rank " + std::to_string(rank) + ": " + where;
          }
          ++skipped;
        } else {
          // The mean over the batch and the clipping are one scale factor, applied inside the
          // optimizer's single pass over the parameters.
          const double scale = clipped_scale({grad, n_params}, 1.0 / totals.rows, o.clip_norm);
          optimizer->step(params, {grad, n_params}, lr, static_cast<float>(scale));
          loss_sum += totals.loss;
          correct_sum += totals.correct;
          rows_sum += totals.rows;
        }
      }
      ++global_step;
      compute_s += now() - t2;
      timeline.add("update", t2, now());

      bool stop = grad_sync && totals.stop;
      bool synced = grad_sync;  // every rank holds the same parameters now
      if (!grad_sync && (global_step % o.average_every == 0 || s + 1 == steps)) {
        // Local SGD: average the parameters every K steps and at every epoch end.
        const double t3 = now();
        std::copy(params.begin(), params.end(), average.begin());
        average[n_params] = local_error ? 1.0f : 0.0f;
        average[n_params + 1] = StopSignal::requested() ? 1.0f : 0.0f;
        comm.allreduce_sum(average, "parameter averaging");
        if (average[n_params] > 0) throw_agreed(comm, local_error);
        const float inv = 1.0f / static_cast<float>(p);
        for (std::size_t i = 0; i < n_params; ++i) params[i] = average[i] * inv;
        comm_s += now() - t3;
        timeline.add("parameter averaging", t3, now());
        stop = average[n_params + 1] > 0;
        synced = true;
      }

      if (synced && schedule.in_steps && schedule.every > 0 &&
          global_step - last_saved_step >= schedule.every && s + 1 < steps) {
        save_state(epoch - 1, s + 1);
        last_saved_step = global_step;
      }
      if (stop) {
        stopping = true;
        ++s;
        break;
      }

      if (o.progress && log && rank == 0 && now() - last_progress > 0.2) {
        last_progress = now();
        char line[160];
        std::snprintf(line, sizeof line, "\r\033[Kepoch %d/%d  step %lld/%lld  %3.0f%%  loss %.4f",
                      epoch, o.epochs, static_cast<long long>(s + 1), static_cast<long long>(steps),
                      100.0 * (s + 1) / steps, rows_sum > 0 ? loss_sum / rows_sum : 0.0);
        *log << line << std::flush;
      }
    }

    // A stop is agreed by every rank at a step boundary (the flag travels in the reduction),
    // so every rank takes this branch at the same step. Some ranks may not have received the
    // signal themselves; they stop because a peer did.
    int stop_signal = StopSignal::signal_number();
    if (stopping) {
      // The signal named and, without a checkpoint, the exit code (128 + signal) are agreed:
      // ranks that got no signal themselves contribute 0.
      std::vector<double> agreed_signal = {static_cast<double>(stop_signal)};
      comm.allreduce_max(agreed_signal, "stop signal");
      stop_signal = agreed_signal[0] > 0 ? static_cast<int>(agreed_signal[0]) : SIGTERM;
      if (o.progress && log && rank == 0) *log << "\r\033[K";
      say("stopping on " +
          (StopSignal::requested() ? describe_signal(StopSignal::signal_number()) : "a signal received by another rank") +
          " at epoch " + std::to_string(epoch) +
          ", step " + std::to_string(s) + " of " + std::to_string(steps));
      if (o.checkpoint_dir.empty()) say("warning: no --checkpoint-dir, so no checkpoint was written");
    }
    if (stopping && s < steps) {
      save_state(epoch - 1, s);
      result.stop_signal = stop_signal;
      result.stop_checkpoint = last_checkpoint;
      break;
    }

    // Epoch totals. In grad mode the sums are already global; in params mode they are local.
    std::vector<double> sums = {loss_sum, correct_sum, rows_sum};
    if (!grad_sync) reduce_or_fail(comm, sums, local_error, "epoch statistics");
    EpochReport report;
    report.epoch = epoch;
    report.train_loss = sums[2] > 0 ? sums[0] / sums[2] : NAN;
    if (spec.classifier()) report.train_accuracy = sums[2] > 0 ? sums[1] / sums[2] : NAN;
    report.skipped_steps = skipped;
    report.lr = lr;
    report.ranks = p;
    report.threads = threads;

    if (val) {
      const double t_val = now();
      std::optional<std::string> val_error;
      EvalSums v;
      try {
        v = evaluate_shard(spec, params, *val, threads);
      } catch (const std::exception& e) {
        val_error = e.what();
      }
      std::vector<double> vs = {v.loss, v.correct, v.rows};
      reduce_or_fail(comm, vs, val_error, "validation");
      report.val_loss = vs[0] / std::max(vs[2], 1.0);
      if (spec.classifier()) report.val_accuracy = vs[1] / std::max(vs[2], 1.0);
      report.val_s = now() - t_val;
      compute_s += report.val_s;
      timeline.add("validation", t_val, now());
    }

    // Rank 0 reports the slowest rank's times: the job runs at that pace.
    std::vector<double> times = {compute_s, comm_s, peak_rss_mb()};
    comm.allreduce_max(times, "epoch timing");
    report.peak_rss_mb = times[2];
    report.epoch_s = now() - t_epoch;
    report.compute_s = times[0];
    report.comm_s = times[1];
    report.io_s = io_pending;
    io_pending = 0;
    // Training throughput: validation time is reported apart (val_s).
    report.samples_per_s = static_cast<double>(std::min(N, (steps - first_step) * B)) /
                           std::max(report.epoch_s - report.val_s, 1e-9);
    if (rank == 0 && log) {
      if (o.progress) *log << "\r\033[K";
      *log << format_report(report, o.epochs) << std::endl;
    }
    // A metrics line that cannot be written (full disk) fails the run on every rank.
    run_agreed(comm, [&] {
      if (rank == 0) metrics.write(report);
    });
    result.epochs.push_back(report);
    const bool last_epoch = epoch == o.epochs;
    if (!o.checkpoint_dir.empty() &&
        (last_epoch || stopping || (!schedule.in_steps && schedule.every > 0 && epoch % schedule.every == 0))) {
      save_state(epoch, 0);
      last_saved_step = global_step;
    }
    if (stopping) {
      result.stop_signal = stop_signal;
      result.stop_checkpoint = last_checkpoint;
      break;
    }
  }

  // The final model file, written by rank 0 alone; the outcome is agreed.
  if (!result.stop_signal) {
    run_agreed(comm, [&] {
      if (rank != 0 || o.checkpoint.empty()) return;
      const Checkpoint model = snapshot(o.epochs, 0);
      try {
        save_checkpoint(o.checkpoint, model);
      } catch (const std::exception& e) {
        // The run's result is not lost with its file: it goes next to the metrics instead.
        const auto folder = [](const std::string& file) { return std::filesystem::path(file).parent_path().string(); };
        std::vector<std::string> folders;
        for (const auto& file : {o.metrics, o.metrics_csv, o.timeline})
          if (!file.empty()) folders.push_back(folder(file));
        if (!o.checkpoint_dir.empty()) folders.push_back(o.checkpoint_dir);
        folders.push_back(".");
        throw Error(keep_model_elsewhere(e.what(), o.checkpoint, model, folders));
      }
      say("saved model to " + o.checkpoint);
    });
  }

  if (timeline.enabled()) {
    timeline.write(o.timeline, comm);
    say("timeline written to " + o.timeline);
  }
  result.spec = spec;
  result.params = std::move(params);
  return result;
}

}  // namespace dptrain
