// The progress rule: a live line only when the user's terminal shows the output; under a
// launcher the launcher's stdout decides, not the rank's own (often a pseudo-terminal).
#include "util/terminal.hpp"

#include <gtest/gtest.h>

namespace dptrain {
namespace {

TerminalFacts interactive() {
  TerminalFacts f;
  f.stdout_tty = true;
  f.term = "xterm";
  return f;
}

TEST(TerminalTest, PlainProcessFollowsItsOwnStdout) {
  TerminalFacts f = interactive();
  EXPECT_TRUE(decide_terminal(f));
  f.stdout_tty = false;
  EXPECT_FALSE(decide_terminal(f));
}

TEST(TerminalTest, UnderMpirunTheLauncherStdoutDecides) {
  TerminalFacts f = interactive();  // the rank's stdout is a pty, as mpirun makes it
  f.under_launcher = true;
  f.launcher_stdout = "/tmp/log.txt";  // mpirun ... > log.txt
  EXPECT_FALSE(decide_terminal(f));
  f.launcher_stdout = "pipe:[1234]";  // mpirun ... | tee
  EXPECT_FALSE(decide_terminal(f));
  f.launcher_stdout = "";  // cannot tell (remote host, other user)
  EXPECT_FALSE(decide_terminal(f));
  f.launcher_stdout = "/dev/pts/3";
  EXPECT_TRUE(decide_terminal(f));
  f.stdout_tty = false;  // ranks on a pipe, mpirun on the terminal: mpirun relays the line
  EXPECT_TRUE(decide_terminal(f));
}

TEST(TerminalTest, CiBatchJobsAndDumbTerminalsNever) {
  for (int which = 0; which < 4; ++which) {
    TerminalFacts f = interactive();
    if (which == 0) f.ci = true;
    if (which == 1) f.batch_job = true;
    if (which == 2) f.term = "dumb";
    if (which == 3) f.term = "";
    EXPECT_FALSE(decide_terminal(f)) << which;
  }
}

}  // namespace
}  // namespace dptrain
