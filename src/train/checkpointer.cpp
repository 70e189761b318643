#include "checkpointer.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "dptrain/clock.hpp"
#include "dptrain/error.hpp"
#include "dptrain/log.hpp"
#include "output_paths.hpp"
#include "resume_cursor.hpp"

namespace dptrain {

Checkpointer::Checkpointer(const TrainConfig& config, Communicator& comm, TrainingState& state,
                           Timeline& timeline)
    : config_(config), comm_(comm), state_(state), timeline_(timeline) {}

Checkpoint Checkpointer::snapshot(std::int64_t completed_epochs, std::int64_t epoch_step) const {
  Checkpoint c;
  c.spec = state_.spec;
  c.params.assign(state_.params.span().begin(), state_.params.span().end());
  c.optimizer = config_.options.optimizer.name;
  c.optimizer_steps = state_.optimizer->steps;
  for (auto& [name, values] : state_.optimizer->state()) c.optimizer_state.emplace_back(name, *values);
  c.epoch = completed_epochs;
  c.epoch_step = epoch_step;
  c.global_step = state_.global_step;
  c.seed = state_.seed;
  c.data_rows = state_.rows;
  c.global_batch = state_.global_batch;
  c.data_order = state_.data_order;
  c.text = state_.text;
  c.config = config_.options.config_text;
  c.column_names = state_.column_names;
  c.class_names = state_.class_names;
  c.early_stopping = state_.early_stopping;
  return c;
}

// The training state (rank 0 alone; the outcome is agreed). Local SGD calls it only right
// after an averaging, when every rank holds the same parameters.
void Checkpointer::save(std::int64_t completed_epochs, std::int64_t epoch_step) {
  const double t0 = now_seconds();
  const std::string& dir = config_.options.checkpoint_dir;
  if (before_save_ && !dir.empty()) before_save_();
  run_agreed(comm_, [&] {
    if (comm_.rank() != 0 || dir.empty()) return;
    const std::string path = checkpoint_path(dir, completed_epochs, state_.global_step);
    save_checkpoint(path, snapshot(completed_epochs, epoch_step));
    prune_checkpoints(dir, config_.options.keep_last);
    log_info("checkpoint " + path);
  });
  timeline_.add("checkpoint", t0, now_seconds());
  last_saved_step_ = state_.global_step;
  if (!dir.empty()) last_checkpoint_ = checkpoint_path(dir, completed_epochs, state_.global_step);
}

void Checkpointer::restore(const ResumePoint& point, std::int64_t steps, StartPoint& start) {
  const Checkpoint& c = point.checkpoint;
  const TrainOptions& o = config_.options;
  if (!(c.spec == state_.spec))
    throw CheckpointError(point.path + ": the checkpoint holds model " + c.spec.describe() +
                          "; this run builds " + state_.spec.describe() +
                          " (other --model, data width or classes)");
  if (c.data_rows != state_.rows)
    throw CheckpointError(point.path + ": the checkpoint was trained on " + std::to_string(c.data_rows) +
                          " rows; --data has " + std::to_string(state_.rows));
  if (c.optimizer != o.optimizer.name)
    throw CheckpointError(point.path + ": the checkpoint used --optimizer " + c.optimizer +
                          "; this run asks for " + o.optimizer.name);
  state_.params.assign(c.params);
  for (auto& [name, values] : state_.optimizer->state()) {
    auto it = std::find_if(c.optimizer_state.begin(), c.optimizer_state.end(),
                           [&](const auto& entry) { return entry.first == name; });
    if (it == c.optimizer_state.end() || it->second.size() != values->size())
      throw CheckpointError(point.path + ": optimizer state '" + name + "' missing or wrong size");
    *values = it->second;
  }
  state_.optimizer->steps = c.optimizer_steps;
  if (o.early_stopping > 0 || o.keep_best) state_.early_stopping = c.early_stopping;
  const ResumeCursor cursor =
      resume_cursor(point.path, c, o.seed, state_.global_batch, steps, o.resume_reset_cursor, state_.data_order);
  if (!cursor.note.empty()) log_info(cursor.note);
  state_.seed = cursor.seed;
  state_.global_step = c.global_step;
  start = {cursor.start_epoch, cursor.start_step};
}

StartPoint Checkpointer::resume(std::int64_t steps) {
  StartPoint start;
  run_agreed(comm_, [&] {
    if (config_.resume == ResumeMode::none) return;
    const bool latest = config_.resume == ResumeMode::latest_in_dir;
    const auto point = find_resume_point(config_.resume_path(), latest, 
                                         // on stdout, as ever: scripts read it with the resume line
                                         [](const std::string& w) { log_info("warning: " + w); });
    if (!point) {
      log_info("no checkpoint in " + config_.options.checkpoint_dir + "; starting fresh");
      return;
    }
    restore(*point, steps, start);
    log_info("resumed from " + point->path + " at epoch " + std::to_string(start.epoch) + ", step " +
             std::to_string(start.step) + " (global step " + std::to_string(state_.global_step) + ")");
  });
  last_saved_step_ = state_.global_step;
  return start;
}

void Checkpointer::after_step(bool synced, int epoch, std::int64_t steps_done, std::int64_t steps) {
  const CheckpointSchedule& every = config_.checkpoint_every;
  if (synced && every.in_steps && every.every > 0 && state_.global_step - last_saved_step_ >= every.every &&
      steps_done < steps)
    save(epoch - 1, steps_done);
}

void Checkpointer::on_stop(int epoch, std::int64_t steps_done) {
  save(epoch - 1, steps_done);
}

void Checkpointer::at_epoch_end(int epoch, bool stopping) {
  const CheckpointSchedule& every = config_.checkpoint_every;
  const bool scheduled = !every.in_steps && every.every > 0 && epoch % every.every == 0;
  if (!config_.options.checkpoint_dir.empty() && (epoch == config_.options.epochs || stopping || scheduled))
    save(epoch, 0);
}

void Checkpointer::save_final() {
  const std::string& path = config_.options.checkpoint;
  if (before_save_ && !path.empty()) before_save_();
  run_agreed(comm_, [&] {
    if (comm_.rank() != 0 || path.empty()) return;
    Checkpoint model = snapshot(config_.options.epochs, 0);
    // The model file needs no second copy of the weights (with --keep-best they are its params).
    if (model.early_stopping) model.early_stopping->best_params.clear();
    try {
      save_checkpoint(path, model);
    } catch (const std::exception& e) {
      // The run's result is not lost with its file: it goes next to the metrics instead.
      const TrainOptions& o = config_.options;
      std::vector<std::string> folders;
      for (const auto& file : {o.metrics, o.metrics_csv, o.timeline})
        if (!file.empty()) folders.push_back(std::filesystem::path(file).parent_path().string());
      if (!o.checkpoint_dir.empty()) folders.push_back(o.checkpoint_dir);
      folders.push_back(".");
      throw Error(keep_model_elsewhere(e.what(), path, model, folders));
    }
    log_info("saved model to " + path);
  });
}

}  // namespace dptrain
