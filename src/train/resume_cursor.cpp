#include "train/resume_cursor.hpp"

#include "dptrain/error.hpp"

namespace dptrain {

ResumeCursor resume_cursor(const std::string& path, const Checkpoint& c, std::uint64_t seed,
                           std::int64_t global_batch, std::int64_t steps_per_epoch, bool reset_cursor,
                           const std::string& data_order) {
  ResumeCursor cursor;
  // Version 1 checkpoints did not store the batch (0): only the seed can be compared.
  const bool same_batch = c.global_batch == 0 || c.global_batch == global_batch;
  const bool same_order = c.data_order.empty() || data_order.empty() || c.data_order == data_order;
  const bool same = c.seed == seed && same_batch && same_order;
  if (same) {
    cursor.seed = c.seed;
    cursor.start_epoch = static_cast<int>(c.epoch) + 1;
    cursor.start_step = c.epoch_step;
    if (cursor.start_step >= steps_per_epoch) {
      ++cursor.start_epoch;
      cursor.start_step = 0;
    }
    return cursor;
  }
  const auto order = [&](const std::string& o) { return same_order ? std::string() : " and data order " + o; };
  const std::string theirs = "--seed " + std::to_string(c.seed) +
                             (c.global_batch ? " and --batch " + std::to_string(c.global_batch) : "") +
                             order(c.data_order);
  const std::string ours =
      "--seed " + std::to_string(seed) + " and --batch " + std::to_string(global_batch) + order(data_order);
  if (!reset_cursor)
    throw ConfigError(path + ": the checkpoint was written with " + theirs + "; this run has " + ours +
                      ". Its data cursor (step " + std::to_string(c.epoch_step) + " of epoch " +
                      std::to_string(c.epoch + 1) + ") names other rows under other settings: resume with " +
                      theirs + ", or add --resume-reset-cursor to keep the model and optimizer state "
                      "and restart epoch " + std::to_string(c.epoch + 1) + " from its first step");
  cursor.seed = seed;
  cursor.start_epoch = static_cast<int>(c.epoch) + 1;
  cursor.start_step = 0;
  cursor.note = "--resume-reset-cursor: the checkpoint had " + theirs + "; epoch " +
                std::to_string(cursor.start_epoch) + " restarts from its first step with " + ours;
  return cursor;
}

}  // namespace dptrain
