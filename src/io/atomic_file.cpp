#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dptrain/error.hpp"

namespace dptrain {

void replace_file_atomically(const std::string& path,
                             const std::function<void(const std::string& temp_path)>& write) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const fs::path temp =
      folder / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()));
  try {
    write(temp.string());
    const int fd = ::open(temp.c_str(), O_RDONLY);
    if (fd < 0 || ::fsync(fd) != 0) {
      if (fd >= 0) ::close(fd);
      throw DataError(path + ": cannot sync temporary file " + temp.string());
    }
    ::close(fd);
    std::error_code ec;
    fs::rename(temp, target, ec);
    if (ec) throw DataError(path + ": cannot rename temporary file into place: " + ec.message());
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
}

void write_stream_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  replace_file_atomically(path, [&](const std::string& temp) {
    std::ofstream out(temp, std::ios::trunc | std::ios::binary);
    if (!out) throw DataError(path + ": cannot create temporary file " + temp);
    write(out);
    out.flush();
    if (!out) throw DataError(path + ": cannot write temporary file " + temp);
  });
}

}  // namespace dptrain
