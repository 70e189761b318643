#pragma once
// A trained model (and, for resuming, the training state) as one HDF5 file: the flat
// parameters in /params, the model description in attributes. Written atomically.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dptrain/model.hpp"
#include "dptrain/text_features.hpp"

namespace dptrain {

// Version 2: the checksum also covers the model description, optimizer name, seed, data rows
// and options. Version 1 files are still read (their checksum covers less).
constexpr std::int64_t kCheckpointFormatVersion = 2;

// --early-stopping's progress after the last completed epoch, so that a resumed run stops
// after the same epoch as an uninterrupted one (and --keep-best keeps the same model).
struct EarlyStoppingState {
  std::string metric;                  // "val_loss" or "val_acc"
  std::int64_t best_epoch = 0;         // 0: no epoch scored yet
  std::int64_t epochs_since_best = 0;  // the patience counter
  double best = 0;                     // the metric at best_epoch
  AlignedVector<float> best_params;    // --keep-best: the best epoch's parameters (else empty)
};

struct Checkpoint {
  ModelSpec spec;
  AlignedVector<float> params;
  // Training state; empty/zero in a model-only file.
  std::string optimizer;                                               // e.g. "adam"
  std::int64_t optimizer_steps = 0;
  std::vector<std::pair<std::string, std::vector<float>>> optimizer_state;  // /optimizer/<name>
  std::int64_t epoch = 0;        // completed epochs
  std::int64_t global_step = 0;  // completed optimizer steps
  std::int64_t epoch_step = 0;   // data cursor: completed steps of the current epoch
  std::uint64_t seed = 0;        // data order and initialisation seed
  std::int64_t data_rows = 0;    // rows of the training data the run used
  std::int64_t global_batch = 0;  // the global batch the cursor counts in (0: unknown, version 1)
  std::string config;            // the effective training options, as text
  std::string data_order;        // the order the cursor counts in: "stratified", "block/W" ("": not recorded)
  // Optional (absent in older files): names of the training data (names.hpp), and
  // --early-stopping's state (attributes early_stopping*, dataset /early_stopping/best_params).
  std::vector<std::string> column_names, class_names;
  std::optional<EarlyStoppingState> early_stopping;
  // The training data's text settings (convert --from text), as attributes of the file's root
  // (text_features.hpp): predict --stdin then featurises raw text lines as the data was.
  std::optional<TextFeatureOptions> text;
};

// Writes to a temporary file in the same folder, fsyncs it and renames it into place.
// The checksum (FNV-1a over everything that defines the run: params, optimizer state,
// counters, model description, optimizer name, seed, data rows, options) is an attribute.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// Reads and verifies format version, every dataset's rank, type and length (before sizing a
// buffer from it) and the checksum; throws CheckpointError naming the file.
Checkpoint load_checkpoint(const std::string& path);

// The checksum a file of `format_version` stores.
std::uint64_t checksum(const Checkpoint& checkpoint, std::int64_t format_version = kCheckpointFormatVersion);

}  // namespace dptrain

namespace dptrain {

// --checkpoint-every: "N" or "Nepochs" (every N epochs) or "Nsteps" (every N optimizer steps).
struct CheckpointSchedule {
  std::int64_t every = 0;  // 0: never
  bool in_steps = false;
  static CheckpointSchedule parse(const std::string& text);
};

// DIR/ckpt-e<epoch>-s<global step>.h5, zero-padded so names sort by step.
std::string checkpoint_path(const std::string& dir, std::int64_t epoch, std::int64_t global_step);

// The global step of a file named as checkpoint_path names it, or nothing for any other name.
std::optional<std::int64_t> checkpoint_step(const std::string& file_name);

// Checkpoint files in `dir` (only names checkpoint_path writes), newest (highest step) first.
std::vector<std::string> list_checkpoints(const std::string& dir);

// Removes all but the newest `keep` checkpoints in `dir`, and temporary files of checkpoint
// writers that were killed (see remove_stale_temp_files).
void prune_checkpoints(const std::string& dir, int keep);

// --resume: a file, or a folder (its newest valid checkpoint). A corrupt newer file in a
// folder is skipped with a call to `warn`. Returns nothing if the folder holds no
// checkpoint and `allow_empty` (for --resume auto).
struct ResumePoint {
  std::string path;
  Checkpoint checkpoint;
};
std::optional<ResumePoint> find_resume_point(const std::string& file_or_dir, bool allow_empty,
                                             const std::function<void(const std::string&)>& warn);

}  // namespace dptrain
