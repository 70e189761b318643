#pragma once
// Graceful stops. SIGTERM, SIGINT and SIGUSR1 (what Slurm sends before a time limit or a
// preemption) only set a flag; the trainer agrees on it across ranks at the next step
// boundary, writes a checkpoint and exits with kInterruptedExitCode. A second SIGINT exits
// at once with 130.
#include "dptrain/exit_codes.hpp"

namespace dptrain {

constexpr int kInterruptedExitCode = kExitStopped;  // EX_TEMPFAIL: interrupted, checkpoint saved

class StopSignal {
 public:
  static void install();
  // Starts the OpenMP threads (at least `threads`) with the stop signals blocked, which they
  // inherit: a signal sent to the process then lands on the main thread, whose handler has a
  // stack of its own, never on a worker thread inside a matrix product.
  static void keep_off_worker_threads(int threads);
  static bool requested();
  static int signal_number();  // the first signal received, 0 if none
  static void clear();         // for tests
};

}  // namespace dptrain
