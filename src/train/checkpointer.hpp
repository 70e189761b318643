#pragma once
// Every checkpoint of a training run in one place: resuming, the periodic saves
// (--checkpoint-every in epochs or steps), the save on a stop signal, the save at every
// epoch end that a schedule or the run's end asks for, and the final model file
// (--checkpoint). Rank 0 writes; every rank agrees on the outcome.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dptrain/checkpoint.hpp"
#include "dptrain/communicator.hpp"
#include "dptrain/model.hpp"
#include "dptrain/optimizer.hpp"
#include "train/timeline.hpp"
#include "dptrain/train_config.hpp"
#include "parameter_buffer.hpp"

namespace dptrain {

// What a checkpoint holds, as the trainer keeps it.
struct TrainingState {
  ModelSpec spec;
  ParameterBuffer params;
  std::unique_ptr<Optimizer> optimizer;
  std::int64_t global_step = 0;  // completed optimizer steps
  std::uint64_t seed = 0;        // data order (the run's --seed, or the resumed checkpoint's)
  std::int64_t rows = 0;         // training rows
  std::int64_t global_batch = 0; // rows per step over all ranks (the data cursor's unit)
  std::string data_order;        // "stratified" or "block/W": what the cursor's steps are
  std::vector<std::string> column_names, class_names;  // of the training data, when they fit the model
  std::optional<EarlyStoppingState> early_stopping;     // --early-stopping / --keep-best (early_stopping.hpp)
  std::optional<TextFeatureOptions> text;  // the training data's text settings, kept in checkpoints
};

// Where training starts: epoch (1-based) and completed steps of it.
struct StartPoint {
  int epoch = 1;
  std::int64_t step = 0;
};

class Checkpointer {
 public:
  Checkpointer(const TrainConfig& config, Communicator& comm, TrainingState& state, Timeline& timeline);

  // --resume: loads the checkpoint into the state (every rank reads the same file) and
  // returns where to continue; `steps` is the number of steps per epoch.
  StartPoint resume(std::int64_t steps);
  // After a step at which every rank holds the same parameters (`synced`): the periodic
  // save in steps, unless the epoch ends here (the epoch-end save follows).
  void after_step(bool synced, int epoch, std::int64_t steps_done, std::int64_t steps);
  // At a stop signal inside an epoch: saves the position to continue from.
  void on_stop(int epoch, std::int64_t steps_done);
  // After an epoch: saves when it is the last, a stop, or the epoch schedule says so.
  void at_epoch_end(int epoch, bool stopping);
  // The trained model file (--checkpoint); if it cannot be written, the model is kept next to
  // the metrics (or in the checkpoint or working folder) and the error says where.
  void save_final();
  // Runs `gather` on every rank before a checkpoint or the model file is written (a collective:
  // --shard-update gathers the optimizer state there).
  void before_save(std::function<void()> gather) { before_save_ = std::move(gather); }
  // The newest checkpoint this run wrote ("" if none).
  const std::string& last_checkpoint() const { return last_checkpoint_; }

 private:
  Checkpoint snapshot(std::int64_t completed_epochs, std::int64_t epoch_step) const;
  void save(std::int64_t completed_epochs, std::int64_t epoch_step);
  void restore(const ResumePoint& point, std::int64_t steps, StartPoint& start);

  const TrainConfig& config_;
  Communicator& comm_;
  TrainingState& state_;
  Timeline& timeline_;
  std::int64_t last_saved_step_ = 0;
  std::string last_checkpoint_;
  std::function<void()> before_save_;
};

}  // namespace dptrain
