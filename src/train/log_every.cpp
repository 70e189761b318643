#include "log_every.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dptrain {

std::string format_duration(double seconds) {
  const long long s = std::llround(std::max(seconds, 0.0));
  char text[48];
  std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return text;
}

std::string format_step_line(const StepLogLine& l) {
  char text[256];
  std::snprintf(text, sizeof text, "step %lld/%lld epoch %d/%d loss %.4f samples/s %.0f eta %s",
                static_cast<long long>(l.step), static_cast<long long>(l.total_steps), l.epoch, l.epochs, l.loss,
                l.samples_per_s, format_duration(l.eta_s).c_str());
  return text;
}

StepLogger::StepLogger(std::int64_t every, std::int64_t steps_per_epoch, int epochs, std::int64_t global_batch)
    : every_(every), steps_per_epoch_(steps_per_epoch), global_batch_(global_batch), epochs_(epochs) {}

void StepLogger::begin(double now) { first_time_ = last_time_ = now; }

std::optional<StepLogLine> StepLogger::after_step(int epoch, std::int64_t step_in_epoch, double mean_loss,
                                                  double now) {
  if (every_ <= 0) return std::nullopt;
  const std::int64_t step = (epoch - 1) * steps_per_epoch_ + step_in_epoch;
  // The pace counts from the run's first step (a resumed run starts mid-way).
  if (first_step_ < 0) first_step_ = last_step_ = step - 1;
  if (step % every_ != 0) return std::nullopt;
  StepLogLine l;
  l.step = step;
  l.total_steps = steps_per_epoch_ * epochs_;
  l.epoch = epoch;
  l.epochs = epochs_;
  l.loss = mean_loss;
  l.samples_per_s = static_cast<double>((step - last_step_) * global_batch_) / std::max(now - last_time_, 1e-9);
  const double per_step = (now - first_time_) / static_cast<double>(std::max<std::int64_t>(step - first_step_, 1));
  l.eta_s = per_step * static_cast<double>(l.total_steps - step);
  last_step_ = step;
  last_time_ = now;
  return l;
}

}  // namespace dptrain
