#pragma once
// One exit-code table for every command and every rank. README "Failures, guarantees and exit
// codes" lists it with the tests that prove each line; RELIABILITY.md lists the cases tried.
namespace dptrain {

constexpr int kExitOk = 0;
constexpr int kExitRuntimeError = 1;      // bad data, I/O error, divergence, a failed rank
constexpr int kExitUsage = 2;             // bad option, option combination or config file
constexpr int kExitStall = 3;             // a rank stalled or died inside a collective
constexpr int kExitStopped = 75;          // stopped by a signal after writing a checkpoint
constexpr int kExitSecondInterrupt = 130;  // a second SIGINT: stopped at once, nothing written

// A run stopped by `signal`: 75 when a checkpoint lets the job resume, else the shell's
// 128 + signal (130 SIGINT, 143 SIGTERM, 138 SIGUSR1), agreed by every rank.
constexpr int stopped_exit_code(int signal, bool checkpoint_written) {
  return checkpoint_written ? kExitStopped : 128 + signal;
}

}  // namespace dptrain
