#include "dptrain/trainer.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "dptrain/checkpoint.hpp"
#include "dptrain/error.hpp"
#include "dptrain/fault.hpp"
#include "dptrain/metrics.hpp"
#include "dptrain/run_layout.hpp"
#include "parallel_gradient.hpp"

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
    throw CollectiveFailure(f ? f->rank : 0, f ? f->message : "unknown failure");
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

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream s;
  s << std::setprecision(9) << v;
  return s.str();
}

std::string json_optional(const std::optional<double>& v) { return v ? json_number(*v) : "null"; }

bool all_finite(const float* g, std::size_t n) {
  float sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += g[i] * 0.0f;  // NaN or Inf anywhere makes this NaN
  return std::isfinite(sum);
}

}  // namespace

std::string to_json(const EpochReport& r) {
  std::ostringstream s;
  s << "{\"epoch\": " << r.epoch << ", \"train_loss\": " << json_number(r.train_loss)
    << ", \"train_accuracy\": " << json_optional(r.train_accuracy)
    << ", \"val_loss\": " << json_optional(r.val_loss)
    << ", \"val_accuracy\": " << json_optional(r.val_accuracy)
    << ", \"samples_per_s\": " << json_number(r.samples_per_s)
    << ", \"epoch_s\": " << json_number(r.epoch_s) << ", \"compute_s\": " << json_number(r.compute_s)
    << ", \"comm_s\": " << json_number(r.comm_s) << ", \"io_s\": " << json_number(r.io_s)
    << ", \"lr\": " << json_number(r.lr) << ", \"skipped_steps\": " << r.skipped_steps
    << ", \"ranks\": " << r.ranks << ", \"threads\": " << r.threads << "}";
  return s.str();
}

void check_labels(const ModelSpec& spec, const Shard& shard, const DataOptions& options) {
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
  for (std::int64_t r = 0; r < shard.rows(); ++r) {
    const float y = *shard.label(r);
    if (y < 0 || y != std::floor(y) || y >= classes)
      throw DataError(shard.locate(options, shard.range.begin + r) + ": label " +
                      json_number(y) + " in '" + options.labels_name + "' is not a class id; expected an integer in [0, " +
                      std::to_string(spec.classes()) + ")" +
                      (spec.loss == LossKind::BinaryCrossEntropy ? " (logistic takes 0/1 labels)"
                                                                 : " (set --classes or fix the labels)"));
  }
}

EvalSums evaluate_shard(const ModelSpec& spec, const std::vector<float>& params, const Shard& shard,
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

TrainResult train(const TrainOptions& o, Communicator& comm, std::ostream* log) {
  const int p = comm.size(), rank = comm.rank();
  const int threads = std::max(1, o.threads);
  const bool grad_sync = o.sync == "grad";
  std::optional<FaultPlan> fault;
  DataDescription desc;
  Shard shard;
  std::optional<Shard> val;
  DataOptions val_options = o.data;
  val_options.files = o.val_files;
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
    fault = FaultPlan::from_environment();
    desc = describe_data(o.data);
    if (desc.rows == 0) throw DataError(o.data.files[0] + ": the dataset has no rows");
    if (!grad_sync && desc.rows < p)
      throw ConfigError("--sync params needs at least one row per rank: " +
                        std::to_string(desc.rows) + " rows for " + std::to_string(p) +
                        " ranks; use fewer ranks or --sync grad");
    shard = load_shard(o.data, desc, shard_range(desc.rows, p, rank));
    if (!o.val_files.empty()) {
      const DataDescription vdesc = describe_data(val_options);
      if (vdesc.cols != desc.cols)
        throw DataError(o.val_files[0] + ": validation data has " + std::to_string(vdesc.cols) +
                        " features; the training data has " + std::to_string(desc.cols));
      val = load_shard(val_options, vdesc, shard_range(vdesc.rows, p, rank));
    }
    if (rank == 0) metrics.open(o.metrics, o.metrics_csv, o.config_text);
  });

  // Phase 2: the model. Classes come from the largest label over all ranks.
  std::vector<double> max_label = {-1.0};
  if (desc.label_cols == 1)
    for (std::int64_t r = 0; r < shard.rows(); ++r)
      max_label[0] = std::max(max_label[0], static_cast<double>(*shard.label(r)));
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
    check_labels(spec, shard, o.data);
    if (val) check_labels(spec, *val, val_options);
  });

  std::vector<float> params = initial_parameters(spec, o.seed);
  const std::size_t n_params = params.size();
  auto optimizer = make_optimizer(o.optimizer, n_params);

  const std::int64_t N = desc.rows;
  const std::int64_t B = std::min<std::int64_t>(o.batch, N);
  const std::int64_t steps = (N + B - 1) / B;
  const std::int64_t local_batch =
      grad_sync ? std::min(B, shard.rows()) : (shard.rows() + steps - 1) / steps;
  const std::int64_t D = desc.cols, L = spec.label_cols();
  ParallelGradient gradient(spec, threads, std::max<std::int64_t>(1, local_batch));
  std::vector<float> xb(static_cast<std::size_t>(std::max<std::int64_t>(1, local_batch) * D));
  std::vector<float> yb(static_cast<std::size_t>(std::max<std::int64_t>(1, local_batch) * L));
  // Gradient plus [rows, loss, correct, failed]: one allreduce per step carries them all.
  std::vector<float> buffer(n_params + 4, 0.0f);
  std::vector<float> average(grad_sync ? 0 : n_params + 1);

  if (log && rank == 0) {
    *log << "dptrain: " << spec.describe() << "\n"
         << "dptrain: " << N << " rows x " << D << " features, " << p << " rank(s) x " << threads
         << " thread(s), sync " << o.sync
         << (grad_sync ? "" : " every " + std::to_string(o.average_every) + " step(s)")
         << ", global batch " << B << ", " << steps << " steps/epoch, optimizer "
         << o.optimizer.name << ", lr " << o.schedule.lr << "\n";
    log->flush();
  }

  report_run_layout(comm, {threads, shard.range, N, B});

  TrainResult result;
  std::int64_t global_step = 0;
  double io_pending = shard.io_seconds + (val ? val->io_seconds : 0.0);
  std::vector<double> io_max = {io_pending};
  comm.allreduce_max(io_max, "io time");
  io_pending = io_max[0];

  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const double t_epoch = now();
    double compute_s = 0, comm_s = 0, loss_sum = 0, correct_sum = 0, rows_sum = 0, lr = 0;
    std::int64_t skipped = 0;
    std::optional<std::string> local_error;
    const GlobalPermutation order =
        grad_sync ? GlobalPermutation(static_cast<std::uint64_t>(N), o.seed, epoch)
                  : GlobalPermutation(static_cast<std::uint64_t>(std::max<std::int64_t>(1, shard.rows())),
                                      o.seed + 0x9E3779B9ull * static_cast<std::uint64_t>(rank + 1), epoch);
    double last_progress = 0;

    for (std::int64_t s = 0; s < steps; ++s, ++global_step) {
      lr = learning_rate(o.schedule, (epoch - 1) + static_cast<double>(s) / steps, o.epochs);
      const double t0 = now();
      float* grad = buffer.data();
      std::int64_t m = 0;
      BatchStats stats;
      if (!local_error) {
        try {
          const bool poison = fault && fault->fire(rank, global_step);
          // Gather this rank's rows of the step's batch into the reused buffer.
          std::int64_t lo, hi;
          if (grad_sync) {
            lo = s * B;
            hi = std::min(N, lo + B);
          } else {
            lo = s * local_batch;
            hi = std::min(shard.rows(), lo + local_batch);
          }
          for (std::int64_t pos = lo; pos < hi; ++pos) {
            std::int64_t local;
            if (grad_sync) {
              const auto row = static_cast<std::int64_t>(order(static_cast<std::uint64_t>(pos)));
              if (!shard.range.contains(row)) continue;
              local = row - shard.range.begin;
            } else {
              local = static_cast<std::int64_t>(order(static_cast<std::uint64_t>(pos)));
            }
            std::copy(shard.row(local), shard.row(local) + D, xb.data() + m * D);
            std::copy(shard.label(local), shard.label(local) + L, yb.data() + m * L);
            ++m;
          }
          stats = gradient.compute(params.data(), xb.data(), yb.data(), m, grad);
          if (poison) grad[0] = std::nanf(""), stats.loss = NAN;
        } catch (const std::exception& e) {
          local_error = e.what();
        }
      }
      if (local_error) {
        std::fill(buffer.begin(), buffer.end(), 0.0f);
        m = 0;
        stats = {};
      }
      buffer[n_params] = static_cast<float>(m);
      buffer[n_params + 1] = static_cast<float>(stats.loss);
      buffer[n_params + 2] = static_cast<float>(stats.correct);
      buffer[n_params + 3] = local_error ? 1.0f : 0.0f;
      const double t1 = now();
      compute_s += t1 - t0;

      bool average_now = false;
      if (grad_sync) {
        comm.allreduce_sum(buffer, "gradient allreduce");
        comm_s += now() - t1;
      } else {
        average_now = (global_step + 1) % o.average_every == 0 ||
                      (epoch == o.epochs && s + 1 == steps);
      }
      if (grad_sync && buffer[n_params + 3] > 0) {
        auto f = agree_on_failure(comm, local_error);
        throw CollectiveFailure(f ? f->rank : 0, f ? f->message : "unknown failure");
      }

      const double t2 = now();
      const double rows = buffer[n_params];
      if (rows > 0) {
        const bool finite = std::isfinite(buffer[n_params + 1]) && all_finite(grad, n_params);
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
          const float inv = static_cast<float>(1.0 / rows);
          for (std::size_t i = 0; i < n_params; ++i) grad[i] *= inv;
          if (o.clip_norm > 0) clip_gradient_norm({grad, n_params}, o.clip_norm);
          optimizer->step(params, {grad, n_params}, lr);
          loss_sum += buffer[n_params + 1];
          correct_sum += buffer[n_params + 2];
          rows_sum += rows;
        }
      }
      compute_s += now() - t2;

      if (average_now) {
        const double t3 = now();
        std::copy(params.begin(), params.end(), average.begin());
        average[n_params] = local_error ? 1.0f : 0.0f;
        comm.allreduce_sum(average, "parameter averaging");
        if (average[n_params] > 0) {
          auto f = agree_on_failure(comm, local_error);
          throw CollectiveFailure(f ? f->rank : 0, f ? f->message : "unknown failure");
        }
        const float inv = 1.0f / static_cast<float>(p);
        for (std::size_t i = 0; i < n_params; ++i) params[i] = average[i] * inv;
        comm_s += now() - t3;
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
      compute_s += now() - t_val;
    }

    // Rank 0 reports the slowest rank's times: the job runs at that pace.
    std::vector<double> times = {compute_s, comm_s};
    comm.allreduce_max(times, "epoch timing");
    report.epoch_s = now() - t_epoch;
    report.compute_s = times[0];
    report.comm_s = times[1];
    report.io_s = io_pending;
    io_pending = 0;
    report.samples_per_s = static_cast<double>(N) / std::max(report.epoch_s, 1e-9);
    if (rank == 0) {
      if (log) {
        if (o.progress) *log << "\r\033[K";
        *log << format_report(report, o.epochs) << std::endl;
      }
      metrics.write(report);
    }
    result.epochs.push_back(report);
  }

  // Phase 3: the model file, written by rank 0 alone; the outcome is agreed.
  run_agreed(comm, [&] {
    if (rank != 0 || o.checkpoint.empty()) return;
    Checkpoint c;
    c.spec = spec;
    c.params = params;
    c.optimizer = o.optimizer.name;
    c.optimizer_steps = optimizer->steps;
    for (auto& [name, values] : optimizer->state()) c.optimizer_state.emplace_back(name, *values);
    c.epoch = o.epochs;
    c.global_step = global_step;
    c.seed = o.seed;
    c.data_rows = N;
    c.config = o.config_text;
    save_checkpoint(o.checkpoint, c);
    if (log) *log << "dptrain: saved model to " << o.checkpoint << std::endl;
  });

  result.spec = spec;
  result.params = std::move(params);
  return result;
}

}  // namespace dptrain
