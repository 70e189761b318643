#pragma once
// --early-stopping PATIENCE and --keep-best (Keras EarlyStopping with restore_best_weights,
// Lightning's EarlyStopping + ModelCheckpoint(save_top_k=1)): watch a validation metric after
// every epoch, stop when it has not improved for PATIENCE epochs, and optionally end with the
// parameters of the best epoch. Every rank sees the same (reduced) metric, so every rank stops
// after the same epoch.
#include <optional>
#include <span>
#include <string>

#include "dptrain/aligned.hpp"
#include "dptrain/checkpoint.hpp"
#include "dptrain/trainer.hpp"

namespace dptrain {

class EarlyStopping {
 public:
  // patience: epochs without improvement before stopping (0: never stop, only keep-best).
  // metric: "val_loss" (lower is better) or "val_acc" (higher is better). `state` lives in the
  // training state, so checkpoints carry it: when it holds a resumed run's progress on the
  // same metric, counting continues from there; otherwise it starts afresh.
  EarlyStopping(int patience, const std::string& metric, bool keep_best, std::optional<EarlyStoppingState>& state);

  // After an epoch (its report carries the validation metric): remembers a new best (and its
  // parameters with keep_best). Returns true when training should stop now.
  bool after_epoch(const EpochReport& report, std::span<const float> params);

  // With keep_best and a best epoch seen: overwrites `params` with the best epoch's.
  void restore_best(std::span<float> params) const;

  std::int64_t best_epoch() const { return state_.best_epoch; }
  double best_value() const { return state_.best; }

 private:
  int patience_;
  bool maximize_, keep_best_;
  EarlyStoppingState& state_;
};

}  // namespace dptrain
