#pragma once
// Replacing a file so that a crash at any moment leaves either the old file or the new one:
// write a temporary file in the same folder, fsync it, rename it over the target, fsync the
// folder. HDF5 files are not crash-safe when updated in place, so every file dptrain writes
// (models, checkpoints, predictions, converted data) goes through here.
#include <functional>
#include <ostream>
#include <string>

namespace dptrain {

// `write` fills the temporary file whose path it is given; on any exception the temporary
// file is removed and the exception propagates, leaving `path` untouched.
void replace_file_atomically(const std::string& path,
                             const std::function<void(const std::string& temp_path)>& write);

// The same for a text or binary stream.
void write_stream_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace dptrain
