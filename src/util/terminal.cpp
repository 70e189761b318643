#include "util/terminal.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace dptrain {
namespace {

bool is_terminal_device(const std::string& path) {
  return path.rfind("/dev/pts/", 0) == 0 || path.rfind("/dev/tty", 0) == 0 || path == "/dev/console";
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The target of /proc/PID/fd/1 ("" when it cannot be read: another user, no /proc).
std::string stdout_of(pid_t pid) {
  char target[4096];
  const std::string link = "/proc/" + std::to_string(pid) + "/fd/1";
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "";
}

// The name of process `pid` (/proc/PID/comm, at most 15 characters), "" if unknown.
std::string name_of(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// Whether our parent is an MPI launcher or its per-host daemon (a singleton MPI_Init sets the
// same environment variables as mpirun, so they alone cannot tell).
bool parent_is_launcher() {
  static const char* const launchers[] = {"mpirun", "mpiexec", "orterun", "orted", "prterun", "prted",
                                          "mpiexec.hydra", "hydra_pmi_proxy", "slurmstepd"};
  const std::string parent = name_of(::getppid());
  for (const char* name : launchers)
    if (parent == name) return true;
  return false;
}

}  // namespace

bool decide_terminal(const TerminalFacts& f) {
  if (f.term.empty() || f.term == "dumb" || f.ci || f.batch_job) return false;
  if (f.under_launcher) return is_terminal_device(f.launcher_stdout);
  return f.stdout_tty;
}

TerminalFacts terminal_facts() {
  TerminalFacts f;
  f.stdout_tty = ::isatty(STDOUT_FILENO) != 0;
  f.under_launcher = parent_is_launcher();
  if (f.under_launcher) f.launcher_stdout = stdout_of(::getppid());
  f.term = env("TERM");
  f.ci = !env("CI").empty();
  f.batch_job = !env("SLURM_JOB_ID").empty();
  return f;
}

}  // namespace dptrain
