#include "serve/model_slot.hpp"

#include "dptrain/error.hpp"

namespace dptrain::serve {
namespace {

// Small fixed blocks, so that even a modest batch spreads over the scoring threads (as in
// predict --stdin).
constexpr std::int64_t kScoreBlockRows = 64;

}  // namespace

ServedModel::ServedModel(const std::string& file, std::int64_t v, int score_threads)
    : ServedModel(file, v, score_threads, load_checkpoint(file)) {}

ServedModel::ServedModel(const std::string& file, std::int64_t v, int score_threads, Checkpoint c)
    : path(file), version(v), spec(c.spec), scorer(c.spec, c.params, score_threads, kScoreBlockRows) {}

ModelSlot::ModelSlot(std::string path, int score_threads)
    : path_(std::move(path)), score_threads_(score_threads),
      current_(std::make_shared<ServedModel>(path_, 1, score_threads)) {}

std::shared_ptr<ServedModel> ModelSlot::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::shared_ptr<ServedModel> ModelSlot::reload() {
  const std::shared_ptr<ServedModel> old = current();
  auto fresh = std::make_shared<ServedModel>(path_, old->version + 1, score_threads_);
  if (fresh->spec.inputs() != old->spec.inputs())
    throw CheckpointError(path_ + ": the new model takes " + std::to_string(fresh->spec.inputs()) +
                          " features per row, the served one " + std::to_string(old->spec.inputs()) +
                          "; clients send rows of the served width, so a reload must keep it");
  std::lock_guard lock(mutex_);
  current_ = fresh;
  return fresh;
}

}  // namespace dptrain::serve
