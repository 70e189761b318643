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

// Removes the temporary files ".<name>.tmp.<host>.<pid>" in `folder` whose name starts with
// `name_prefix` and whose writer, a process of this host, is gone (killed while writing).
// Temporary files of live writers and of other hosts are left alone.
void remove_stale_temp_files(const std::string& folder, const std::string& name_prefix);

// strerror text with the errno name for the common I/O failures, e.g.
// "No space left on device (ENOSPC)", for messages about files.
std::string errno_text(int error);

}  // namespace dptrain
