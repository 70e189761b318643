#pragma once
// Update rules on the flat parameter buffer. The gradient given to step() is already the
// global average; each rank holds its own optimizer state, which stays identical across
// ranks in --sync grad mode because every rank applies the same update.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dptrain {

struct OptimizerOptions {
  std::string name = "sgd";   // sgd | momentum | nesterov | adam | adamw | adagrad
  double momentum = 0.9;      // momentum, nesterov
  double beta1 = 0.9;         // adam, adamw
  double beta2 = 0.999;       // adam, adamw
  double eps = 1e-8;          // adam, adamw
  double weight_decay = 0.0;  // L2 penalty added to the gradient; decoupled for adamw
  double l1 = 0.0;            // adagrad: L1 penalty, a soft-threshold after each update (proximal)
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // params -= update(grad * scale, lr). The scale (1 / rows, gradient clipping) is applied
  // as the gradient is read, in the same pass as the update; `grad` is left unchanged.
  void step(std::span<float> params, std::span<float> grad, double lr, float scale = 1.0f) {
    step_part(params, grad, 0, lr, scale);
  }
  // The same for the parameters [offset, offset + params.size()) only: `params` and `grad` are
  // that part, the state is indexed from `offset` (--shard-update: each rank updates its own
  // part of the parameters; the state outside it goes stale until gathered).
  void step_part(std::span<float> params, std::span<float> grad, std::size_t offset, double lr, float scale) {
    update_piece(params, grad, offset, lr, scale, steps + 1);
    ++steps;
  }
  // A piece of step number `step` (1-based: Adam's bias correction) without counting it: a
  // piece reads and writes only its own parameters and state, so the pieces of one step may be
  // updated in any order, or at once on several threads; the caller then sets `steps`.
  virtual void update_piece(std::span<float> params, std::span<float> grad, std::size_t offset, double lr,
                            float scale, std::int64_t step) = 0;
  // The same with a compact gradient (CSR input): `columns` of the first layer, `width`
  // parameters each (column c is params[c * width, (c + 1) * width)), then the parameters'
  // tail (the last values.size() - columns.size() * width parameters); every other gradient
  // value is zero. The default scatters it into a dense gradient and calls step() (exact for
  // momentum and Adam, whose state moves every parameter); SGD without weight decay and
  // AdaGrad update only the rows given (lazily, as Vowpal Wabbit does).
  virtual void step_sparse(std::span<float> params, std::span<const std::int32_t> columns, std::int64_t width,
                           std::span<const float> values, double lr, float scale);
  // Named state vectors (e.g. "velocity", "m", "v") and the step counter, for checkpoints.
  virtual std::vector<std::pair<std::string, std::vector<float>*>> state() { return {}; }
  std::int64_t steps = 0;

 private:
  std::vector<float> dense_;  // step_sparse's scattered gradient (only when not lazy)
};

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options, std::size_t num_params);

// Gradient clipping as a factor: the gradient used is grad * scale (e.g. a sum times 1 / rows);
// returns the factor to pass to Optimizer::step instead of `scale` so that the L2 norm of the
// gradient used is at most max_norm (max_norm <= 0: no clipping, returns `scale`).
double clipped_scale(std::span<const float> grad, double scale, double max_norm);
// The same when the gradient's L2 norm (before `scale`) is known.
double clipped_scale(double norm, double scale, double max_norm);

struct ScheduleOptions {
  std::string name = "constant";  // constant | step | cosine
  double lr = 0.1;
  double warmup_epochs = 0;       // linear ramp from 0 (floored at lr/1000) to lr over this many epochs
  double step_epochs = 10;        // step: multiply by gamma every this many epochs
  double gamma = 0.1;             // step
  double min_lr = 0;              // cosine floor
};

// Throws ConfigError naming the option when a name or hyperparameter is out of range, so a
// bad option fails before training starts (the trainer calls these in its agreed setup).
void validate(const OptimizerOptions& options);
void validate(const ScheduleOptions& schedule);

// Learning rate at a point in training, measured in (fractional) epochs.
double learning_rate(const ScheduleOptions& s, double epoch, double total_epochs);

}  // namespace dptrain
