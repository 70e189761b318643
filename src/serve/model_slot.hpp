#pragma once
// The model `dptrain serve` answers with, replaceable while requests run: batches take the
// current model when they start, SIGHUP loads the file again and swaps the new model in only
// if it loaded and fits (same input width), so a bad file keeps the old model serving.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "dptrain/checkpoint.hpp"
#include "dptrain/evaluation.hpp"
#include "dptrain/model.hpp"

namespace dptrain::serve {

struct ServedModel {
  ServedModel(const std::string& path, std::int64_t version, int score_threads);
  std::string path;
  std::int64_t version;  // 1 at start, +1 per successful reload
  ModelSpec spec;
  Scorer scorer;         // used by the batch thread only

 private:
  ServedModel(const std::string& path, std::int64_t version, int score_threads, Checkpoint checkpoint);
};

class ModelSlot {
 public:
  // Loads `path` (a checkpoint written by dptrain train); throws CheckpointError naming it.
  ModelSlot(std::string path, int score_threads);
  std::shared_ptr<ServedModel> current() const;
  // Loads the file again. On success the new model serves every batch that starts from now
  // on and is returned; otherwise the current model stays and the error (naming the file and
  // the reason) is thrown.
  std::shared_ptr<ServedModel> reload();

 private:
  std::string path_;
  int score_threads_;
  mutable std::mutex mutex_;
  std::shared_ptr<ServedModel> current_;
};

}  // namespace dptrain::serve
