#pragma once
// --log-every N: a plain line every N optimizer steps, for log files and batch jobs (Keras
// verbose=2, Lightning log_every_n_steps), where a live progress line would only add \r noise:
//   2026-12-01T10:56:05.120Z step 120/600 epoch 2/5 loss 0.4312 samples/s 18250 eta 0:00:41
#include <cstdint>
#include <optional>
#include <string>

namespace dptrain {

struct StepLogLine {
  std::int64_t step = 0, total_steps = 0;  // optimizer steps of the whole run (1-based step)
  int epoch = 0, epochs = 0;
  double loss = 0;          // mean training loss of the epoch so far
  double samples_per_s = 0;  // since the previous line
  double eta_s = 0;          // remaining steps at the pace of this run so far
};

// "step 120/600 epoch 2/5 loss 0.4312 samples/s 18250 eta 0:00:41" (the reporter puts the
// UTC time in front).
std::string format_step_line(const StepLogLine& l);

// "1:02:03" (hours not padded), "0:00:41".
std::string format_duration(double seconds);

class StepLogger {
 public:
  // every: steps between lines (0: never). steps_per_epoch, epochs, global_batch: the run.
  StepLogger(std::int64_t every, std::int64_t steps_per_epoch, int epochs, std::int64_t global_batch);
  // The run's first step starts now (after the data loaded; `now`: seconds on the one clock).
  void begin(double now);
  // Called after every step with the step count within `epoch` (1-based epoch); the line to
  // print, or nothing when this step has none.
  std::optional<StepLogLine> after_step(int epoch, std::int64_t step_in_epoch, double mean_loss, double now);

 private:
  std::int64_t every_, steps_per_epoch_, global_batch_;
  int epochs_;
  std::int64_t first_step_ = -1, last_step_ = 0;  // global steps of the run's start and the last line
  double first_time_ = 0, last_time_ = 0;
};

}  // namespace dptrain
