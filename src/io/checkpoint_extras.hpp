#pragma once
// The optional parts of a checkpoint (Checkpoint::column_names, class_names, early_stopping):
// written only when present, so files without them read and hash as before.
#include <cstdint>

#include "dptrain/checkpoint.hpp"
#include "dptrain/hdf5.hpp"

namespace dptrain {

void save_checkpoint_extras(H5Writer& w, const Checkpoint& c);
// Reads them into `c` (whose params are already read); throws CheckpointError when damaged.
void load_checkpoint_extras(const H5Reader& r, Checkpoint& c);
// Adds them to the checksum `h` (nothing when absent).
void hash_checkpoint_extras(std::uint64_t& h, const Checkpoint& c);

}  // namespace dptrain
