#include "epoch_reporter.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "dptrain/clock.hpp"
#include "dptrain/log.hpp"

namespace dptrain {
namespace {

std::string describe_signal(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    default: return "signal " + std::to_string(sig);
  }
}

}  // namespace

std::string format_report(const EpochReport& r, int epochs) {
  std::ostringstream s;
  s << std::fixed << "epoch " << r.epoch << "/" << epochs << std::setprecision(4) << "  loss " << r.train_loss;
  if (r.train_accuracy) s << "  acc " << *r.train_accuracy;
  if (r.val_loss) s << "  val_loss " << *r.val_loss;
  if (r.val_accuracy) s << "  val_acc " << *r.val_accuracy;
  s << std::setprecision(0) << "  " << r.samples_per_s << " samples/s" << std::setprecision(2) << "  "
    << r.epoch_s << " s (compute " << r.compute_s << ", comm " << r.comm_s << ", io " << r.io_s << ")";
  if (r.skipped_steps) s << "  skipped " << r.skipped_steps << " non-finite steps";
  return s.str();
}

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

EpochReporter::EpochReporter(const TrainConfig& config, int rank, std::ostream* lines)
    : config_(config), rank_(rank), lines_(lines) {}

void EpochReporter::open_metrics() {
  const TrainOptions& o = config_.options;
  if (rank_ == 0) metrics_.open(o.metrics, o.metrics_csv, o.config_text, config_.resume != ResumeMode::none);
  if (rank_ == 0 && !o.tensorboard.empty()) tensorboard_ = std::make_unique<TensorBoardWriter>(o.tensorboard);
}

void EpochReporter::start(const RunSummary& run) {
  const TrainOptions& o = config_.options;
  std::ostringstream s;
  s << run.rows << " training rows" << (run.held_out > 0 ? " (+" + std::to_string(run.held_out) + " held out)" : "")
    << " x " << run.features << " features, " << run.ranks << " rank(s) x " << o.threads << " thread(s), sync "
    << o.sync << (config_.gradient_sync() ? "" : " every " + std::to_string(o.average_every) + " step(s)")
    << (o.deterministic ? " (deterministic)" : "") << ", global batch " << run.global_batch << ", " << run.steps
    << " steps/epoch, optimizer " << o.optimizer.name << ", lr " << o.schedule.lr
    << (run.update.empty() ? "" : ", " + run.update);
  log_info(run.model);
  log_info(s.str());
  step_log_.emplace(o.log_every, run.steps, o.epochs, run.global_batch);
  step_log_->begin(now_seconds());
}

void EpochReporter::progress(int epoch, std::int64_t done, std::int64_t steps, double mean_loss) {
  log_step(epoch, done, mean_loss);
  if (!config_.options.progress || !lines_ || now_seconds() - last_progress_ <= 0.2) return;
  last_progress_ = now_seconds();
  char line[160];
  std::snprintf(line, sizeof line, "\r\033[Kepoch %d/%d  step %lld/%lld  %3.0f%%  loss %.4f", epoch,
                config_.options.epochs, static_cast<long long>(done), static_cast<long long>(steps),
                100.0 * static_cast<double>(done) / static_cast<double>(steps), mean_loss);
  *lines_ << line << std::flush;
}

void EpochReporter::log_step(int epoch, std::int64_t done, double mean_loss) {
  if (rank_ != 0 || !lines_ || !step_log_) return;
  const std::optional<StepLogLine> line = step_log_->after_step(epoch, done, mean_loss, now_seconds());
  if (!line) return;
  clear_progress();
  // --log-timestamps already stamps every line.
  *lines_ << (logger().options().timestamps ? "" : utc_time_ms() + " ") << format_step_line(*line) << std::endl;
}

void EpochReporter::clear_progress() {
  if (config_.options.progress && lines_) *lines_ << "\r\033[K";
}

void EpochReporter::stopping(int epoch, std::int64_t done, std::int64_t steps, bool signal_here, int signal) {
  clear_progress();
  log_info("stopping on " + (signal_here ? describe_signal(signal) : "a signal received by another rank") +
           " at epoch " + std::to_string(epoch) + ", step " + std::to_string(done) + " of " + std::to_string(steps));
  // On stdout, next to the stop line, as ever.
  if (config_.options.checkpoint_dir.empty()) log_info("warning: no --checkpoint-dir, so no checkpoint was written");
}

void EpochReporter::epoch(const EpochReport& report) {
  if (rank_ != 0) return;
  if (lines_) {
    clear_progress();
    *lines_ << format_report(report, config_.options.epochs) << std::endl;
  }
  metrics_.write(report);
  if (tensorboard_) tensorboard_->epoch(report);
}

}  // namespace dptrain
