#pragma once
// --early-stopping PATIENCE and --keep-best (Keras EarlyStopping with restore_best_weights,
// Lightning's EarlyStopping + ModelCheckpoint(save_top_k=1)): watch a validation metric after
// every epoch, stop when it has not improved for PATIENCE epochs, and optionally end with the
// parameters of the best epoch. Every rank sees the same (reduced) metric, so every rank stops
// after the same epoch.
#include <optional>
#include <string>

#include "dptrain/aligned.hpp"
#include "dptrain/trainer.hpp"

namespace dptrain {

class EarlyStopping {
 public:
  // patience: epochs without improvement before stopping (0: never stop, only keep-best).
  // metric: "val_loss" (lower is better) or "val_acc" (higher is better).
  EarlyStopping(int patience, const std::string& metric, bool keep_best);

  // After an epoch (its report carries the validation metric): remembers a new best (and its
  // parameters with keep_best). Returns true when training should stop now.
  bool after_epoch(const EpochReport& report, const AlignedVector<float>& params);

  // With keep_best and a best epoch seen: overwrites `params` with the best epoch's.
  void restore_best(AlignedVector<float>& params) const;

  int best_epoch() const { return best_epoch_; }
  double best_value() const { return best_; }

 private:
  int patience_;
  std::string metric_;
  bool maximize_, keep_best_;
  int best_epoch_ = 0, epochs_since_best_ = 0;
  double best_ = 0;
  std::optional<AlignedVector<float>> best_params_;
};

}  // namespace dptrain
