#include "early_stopping.hpp"

#include <cmath>
#include <cstdio>

#include "dptrain/error.hpp"
#include "dptrain/log.hpp"

namespace dptrain {

EarlyStopping::EarlyStopping(int patience, const std::string& metric, bool keep_best)
    : patience_(patience), metric_(metric), maximize_(metric == "val_acc"), keep_best_(keep_best) {}

bool EarlyStopping::after_epoch(const EpochReport& report, const AlignedVector<float>& params) {
  const std::optional<double>& value = maximize_ ? report.val_accuracy : report.val_loss;
  if (!value) throw InternalError("early stopping on " + metric_ + " without that metric in the epoch report");
  // A non-finite metric (diverged) is never an improvement.
  const bool improved = std::isfinite(*value) && (best_epoch_ == 0 || (maximize_ ? *value > best_ : *value < best_));
  if (improved) {
    best_ = *value;
    best_epoch_ = report.epoch;
    epochs_since_best_ = 0;
    if (keep_best_) best_params_ = params;
    return false;
  }
  ++epochs_since_best_;
  if (patience_ <= 0 || epochs_since_best_ < patience_) return false;
  char text[200];
  std::snprintf(text, sizeof text,
                "early stopping after epoch %d: %s has not improved for %d epoch(s) (best %.4f at epoch %d)",
                report.epoch, metric_.c_str(), epochs_since_best_, best_, best_epoch_);
  log_info(text);
  return true;
}

void EarlyStopping::restore_best(AlignedVector<float>& params) const {
  if (!best_params_) return;
  params = *best_params_;
  char text[160];
  std::snprintf(text, sizeof text, "keeping the best epoch's model: epoch %d, %s %.4f", best_epoch_, metric_.c_str(),
                best_);
  log_info(text);
}

}  // namespace dptrain
