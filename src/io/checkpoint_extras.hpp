#pragma once
// The optional parts of a checkpoint (Checkpoint::column_names, class_names, early_stopping):
// written only when present, so files without them read and hash as before.
#include <cstdint>
#include <string>

#include "dptrain/checkpoint.hpp"
#include "dptrain/hdf5.hpp"

namespace dptrain {

void save_checkpoint_extras(H5Writer& w, const Checkpoint& c);
// Reads them into `c` (whose params are already read); throws CheckpointError when damaged.
void load_checkpoint_extras(const H5Reader& r, Checkpoint& c);
// Adds them to the checksum `h` (nothing when absent).
void hash_checkpoint_extras(std::uint64_t& h, const Checkpoint& c);

// A dataset of a checkpoint as the loader expects it: 1-D, floating point, `expected` values
// (when >= 0); throws CheckpointError naming its type and shape otherwise (checkpoint.cpp).
std::int64_t checked_vector_length(const H5Reader& r, const std::string& name, std::int64_t expected);

}  // namespace dptrain
