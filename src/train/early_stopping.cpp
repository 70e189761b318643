#include "early_stopping.hpp"

#include <cmath>
#include <cstdio>

#include "dptrain/error.hpp"
#include "dptrain/log.hpp"

namespace dptrain {
namespace {

EarlyStoppingState& start_or_continue(std::optional<EarlyStoppingState>& state, const std::string& metric,
                                      bool keep_best) {
  // --keep-best cannot keep a best epoch whose parameters the checkpoint does not hold.
  const bool has_best = !keep_best || (state && !state->best_params.empty());
  if (state && state->metric == metric && state->best_epoch > 0 && has_best) {
    char text[200];
    std::snprintf(text, sizeof text,
                  "early stopping continues from the checkpoint: best %s %.4f at epoch %lld, %lld epoch(s) since",
                  metric.c_str(), state->best, static_cast<long long>(state->best_epoch),
                  static_cast<long long>(state->epochs_since_best));
    log_info(text);
    return *state;
  }
  if (state && state->best_epoch > 0)
    log_info("early stopping starts afresh: " +
             (state->metric != metric ? "the checkpoint watched " + state->metric + ", this run " + metric
                                      : std::string("the checkpoint holds no best parameters for --keep-best")));
  state = EarlyStoppingState{};
  state->metric = metric;
  return *state;
}

}  // namespace

EarlyStopping::EarlyStopping(int patience, const std::string& metric, bool keep_best,
                             std::optional<EarlyStoppingState>& state)
    : patience_(patience),
      maximize_(metric == "val_acc"),
      keep_best_(keep_best),
      state_(start_or_continue(state, metric, keep_best)) {}

bool EarlyStopping::after_epoch(const EpochReport& report, std::span<const float> params) {
  const std::optional<double>& value = maximize_ ? report.val_accuracy : report.val_loss;
  if (!value) throw InternalError("early stopping on " + state_.metric + " without that metric in the epoch report");
  // A non-finite metric (diverged) is never an improvement.
  const double best = state_.best;
  const bool improved = std::isfinite(*value) && (state_.best_epoch == 0 || (maximize_ ? *value > best : *value < best));
  if (improved) {
    state_.best = *value;
    state_.best_epoch = report.epoch;
    state_.epochs_since_best = 0;
    if (keep_best_) state_.best_params.assign(params.begin(), params.end());
    return false;
  }
  ++state_.epochs_since_best;
  if (patience_ <= 0 || state_.epochs_since_best < patience_) return false;
  char text[200];
  std::snprintf(text, sizeof text,
                "early stopping after epoch %d: %s has not improved for %lld epoch(s) (best %.4f at epoch %lld)",
                report.epoch, state_.metric.c_str(), static_cast<long long>(state_.epochs_since_best), state_.best,
                static_cast<long long>(state_.best_epoch));
  log_info(text);
  return true;
}

void EarlyStopping::restore_best(std::span<float> params) const {
  if (!keep_best_ || state_.best_params.empty()) return;
  std::copy(state_.best_params.begin(), state_.best_params.end(), params.begin());
  char text[160];
  std::snprintf(text, sizeof text, "keeping the best epoch's model: epoch %lld, %s %.4f",
                static_cast<long long>(state_.best_epoch), state_.metric.c_str(), state_.best);
  log_info(text);
}

}  // namespace dptrain
