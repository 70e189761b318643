#pragma once
// Where a resumed run continues. The data cursor of a checkpoint (step S of epoch E) names
// rows only under the seed and global batch that wrote it: with another --batch the same
// step number is other rows, with another --seed another order. So a resume with either
// changed is refused, unless --resume-reset-cursor asks to keep the model and optimizer state
// and restart the interrupted epoch from its first step under the new settings.
#include <cstdint>
#include <string>

#include "dptrain/checkpoint.hpp"

namespace dptrain {

struct ResumeCursor {
  int start_epoch = 1;          // the epoch to continue (1-based)
  std::int64_t start_step = 0;  // completed steps of that epoch
  std::uint64_t seed = 0;       // the data order's seed from here on
  std::string note;             // "" or what the reset did, for the log
};

// `checkpoint` was read from `path`; `seed` and `global_batch` are this run's, and
// `steps_per_epoch` follows from its batch. Throws ConfigError (naming both settings and the
// way out) when the seed, batch or data order (`data_order`, as Checkpoint::data_order; not
// compared when either is "") differ and `reset_cursor` is false. The rank count is never
// compared: the cursor names the same rows on any.
ResumeCursor resume_cursor(const std::string& path, const Checkpoint& checkpoint, std::uint64_t seed,
                           std::int64_t global_batch, std::int64_t steps_per_epoch, bool reset_cursor,
                           const std::string& data_order = "");

}  // namespace dptrain
