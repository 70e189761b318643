#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "dptrain/error.hpp"

namespace dptrain {
namespace {

std::string host_name() {
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0) return "host";
  return name;
}

// ".<target name>.tmp.<host>.<pid>": the host and process that write it, so a later run can
// tell a dead writer's leftover from a live writer's file.
std::string temp_suffix() { return ".tmp." + host_name() + "." + std::to_string(::getpid()); }

}  // namespace

std::string errno_text(int error) {
  if (error == 0) return "unknown cause";
  const char* name = error == ENOSPC   ? "ENOSPC"
                     : error == EROFS  ? "EROFS"
                     : error == EACCES ? "EACCES"
                     : error == ENOENT ? "ENOENT"
                     : error == EDQUOT ? "EDQUOT"
                     : error == EIO    ? "EIO"
                     : error == ENOTDIR ? "ENOTDIR"
                     : error == EISDIR ? "EISDIR"
                                       : nullptr;
  return std::string(std::strerror(error)) + (name ? std::string(" (") + name + ")" : std::string());
}

void remove_stale_temp_files(const std::string& folder, const std::string& name_prefix) {
  namespace fs = std::filesystem;
  const std::string mine = ".tmp." + host_name() + ".";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder.empty() ? "." : folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("." + name_prefix, 0) != 0) continue;
    const auto at = name.rfind(mine);
    if (at == std::string::npos) continue;
    const std::string pid_text = name.substr(at + mine.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stoll(pid_text));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // a live writer
    std::error_code ignored;
    fs::remove(entry.path(), ignored);
  }
}

void replace_file_atomically(const std::string& path,
                             const std::function<void(const std::string& temp_path)>& write) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string name = target.filename().string();
  remove_stale_temp_files(folder.string(), name + ".tmp.");
  const fs::path temp = folder / ("." + name + temp_suffix());
  try {
    write(temp.string());
    const int fd = ::open(temp.c_str(), O_RDONLY);
    if (fd < 0 || ::fsync(fd) != 0) {
      const int error = errno;
      if (fd >= 0) ::close(fd);
      throw DataError(path + ": cannot flush the new file to disk: " + errno_text(error));
    }
    ::close(fd);
    if (::rename(temp.c_str(), target.c_str()) != 0)
      throw DataError(path + ": cannot move the new file into place: " + errno_text(errno));
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
    errno = 0;
    std::ofstream out(temp, std::ios::trunc | std::ios::binary);
    if (!out) throw DataError(path + ": cannot create the file: " + errno_text(errno));
    write(out);  // a failed write(2) inside leaves its errno (ENOSPC...) for the check below
    out.flush();
    if (!out) throw DataError(path + ": writing failed: " + errno_text(errno));
    out.close();
    if (!out) throw DataError(path + ": writing failed: " + errno_text(errno));
  });
}

}  // namespace dptrain
