#pragma once
// The training options, validated once. TrainOptions holds what the command line and the
// config file set (both fill the same fields through the same option table); TrainConfig is
// the same options checked and turned into typed values. Nothing after validate_train_options
// checks, clamps or parses an option again.
#include <cstdint>
#include <optional>
#include <string>

#include "dptrain/checkpoint.hpp"
#include "dptrain/memory_budget.hpp"
#include "dptrain/trainer.hpp"

namespace dptrain {

enum class SyncMode { gradients, parameters };  // --sync grad | params
enum class NanPolicy { stop, skip_step };       // --on-nan stop | skip-step
enum class ResumeMode { none, latest_in_dir, from_path };  // --resume "" | auto | DIR/FILE

struct TrainConfig {
  TrainOptions options;                 // the validated raw values (numbers, paths, names)
  SyncMode sync = SyncMode::gradients;
  NanPolicy on_nan = NanPolicy::stop;
  ResumeMode resume = ResumeMode::none;
  std::optional<LossKind> loss;         // --loss; nothing for auto (chosen from the labels)
  Activation activation = Activation::ReLU;
  CheckpointSchedule checkpoint_every;  // --checkpoint-every
  StreamMode stream = StreamMode::automatic;  // --stream
  bool block_order = false;             // --order block (streaming always takes it)
  bool stratified_order = false;        // --order stratified given explicitly

  bool gradient_sync() const { return sync == SyncMode::gradients; }
  // What --resume names: the checkpoint folder for auto, else the given file or folder.
  const std::string& resume_path() const {
    return resume == ResumeMode::latest_in_dir ? options.checkpoint_dir : options.resume;
  }
};

// Checks every option and option combination (the rank count matters for --sync params) and
// returns the typed configuration; throws ConfigError naming the option.
TrainConfig validate_train_options(const TrainOptions& options, int ranks);

}  // namespace dptrain
