#pragma once
// Whether the person who started a run watches its output on a terminal: the rule for live
// progress lines (\r, ANSI codes), which must never end up in a log file.
#include <string>

namespace dptrain {

// What the decision looks at (gathered by user_sees_terminal; separate so tests can vary it).
struct TerminalFacts {
  bool stdout_tty = false;      // isatty(1) of this process
  bool under_launcher = false;  // started by mpirun/mpiexec, their daemons, or srun (the parent process)
  std::string launcher_stdout;  // where the launcher's stdout goes (/proc/PPID/fd/1), "" if unknown
  std::string term;             // $TERM
  bool ci = false;              // $CI set
  bool batch_job = false;       // $SLURM_JOB_ID set
};

// Under a launcher a rank's stdout may be a pseudo-terminal even when mpirun writes to a file,
// so a rank's own isatty says nothing: there, what counts is the launcher's stdout (a rank on a
// remote host, whose parent is a daemon, or one that cannot tell, says no).
bool decide_terminal(const TerminalFacts& facts);

// The facts of this process.
TerminalFacts terminal_facts();

inline bool user_sees_terminal() { return decide_terminal(terminal_facts()); }

}  // namespace dptrain
