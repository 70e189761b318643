#pragma once
// Output paths are checked before the first training step, not after the last one: a run
// must not compute for hours and then find its folder missing or read-only. And a model that
// cannot be written where asked is written somewhere else rather than lost.
#include <string>
#include <vector>

#include "dptrain/checkpoint.hpp"
#include "dptrain/trainer.hpp"

namespace dptrain {

// Creates `folder` (and its parents, as common training tools do) and proves it writable by
// creating and removing a small probe file in it. Throws ConfigError naming `option`, the
// folder and the system's reason (e.g. "Read-only file system (EROFS)").
void prepare_output_folder(const std::string& folder, const std::string& option);

// The same for the folder of an output file; `path` itself is not created. A path that names
// an existing folder is an error.
void prepare_output_file(const std::string& path, const std::string& option);

// Every output of a training run: --checkpoint-dir, --checkpoint, --timeline, --metrics and
// --metrics-csv (rank 0 writes them all).
void prepare_run_outputs(const TrainOptions& options);

// After writing `model` to its file failed with `failure`: writes it as <name>.rescued.h5
// into the first of `folders` that takes it (e.g. the metrics folder, the checkpoint folder,
// the working folder) and returns `failure` plus where the model went (or that it could not
// be kept anywhere).
std::string keep_model_elsewhere(const std::string& failure, const std::string& path,
                                 const Checkpoint& model, const std::vector<std::string>& folders);

}  // namespace dptrain
