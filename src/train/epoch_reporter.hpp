#pragma once
// What a training run tells its user: the opening summary, the live progress line, the stop
// message, one line per epoch on the console and one record per epoch in the metrics files.
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "dptrain/metrics.hpp"
#include "dptrain/train_config.hpp"
#include "dptrain/trainer.hpp"
#include "log_every.hpp"
#include "tensorboard.hpp"

namespace dptrain {

// The run as the opening summary describes it.
struct RunSummary {
  std::string model;  // ModelSpec::describe()
  std::int64_t rows = 0, held_out = 0, features = 0, global_batch = 0, steps = 0;
  int ranks = 1;
  std::string update;  // how the update is split over ranks, if it is ("update split by input column")
};

// "epoch 2/10  loss 0.3012  acc 0.9100 ... samples/s  1.23 s (compute ..., comm ..., io ...)".
std::string format_report(const EpochReport& report, int epochs);

// Peak resident set size of this process (VmHWM), in MiB.
double peak_rss_mb();

class EpochReporter {
 public:
  // `lines` receives the epoch lines (the logger's info stream, or null).
  EpochReporter(const TrainConfig& config, int rank, std::ostream* lines);
  // Rank 0 opens the metrics files and the --tensorboard event file (throws ConfigError naming
  // the option).
  void open_metrics();
  void start(const RunSummary& run);
  // After every step: the live progress line (--progress), at most five times a second, and
  // the --log-every lines.
  void progress(int epoch, std::int64_t steps_done, std::int64_t steps, double mean_loss);
  // `signal_here`: this rank received the stop signal `signal` (else a peer did).
  void stopping(int epoch, std::int64_t steps_done, std::int64_t steps, bool signal_here, int signal);
  void epoch(const EpochReport& report);

 private:
  void clear_progress();
  void log_step(int epoch, std::int64_t steps_done, double mean_loss);
  const TrainConfig& config_;
  int rank_;
  std::ostream* lines_;
  MetricsWriter metrics_;
  double last_progress_ = 0;
  std::optional<StepLogger> step_log_;  // --log-every, from start()
  std::unique_ptr<TensorBoardWriter> tensorboard_;  // --tensorboard, rank 0
};

}  // namespace dptrain
