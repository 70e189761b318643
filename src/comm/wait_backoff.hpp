#pragma once
// How a rank waits for its peers, written once for the MPI waits (mpi_communicator.cpp) and the
// node barrier (node_shared_reduce.cpp). A peer that is running arrives within microseconds, so
// a wait first spins; but on a shared core a rank that only spins takes the time slice its late
// peer needs. So: spin for `spin_s` (DPTRAIN_WAIT_SPIN_US), then yield the core between polls
// until max(20 ms, spin_s) (DPTRAIN_WAIT_YIELD_US), then sleep between polls, doubling the sleep
// up to 250 us. Yielding keeps the rank runnable: a rank whose wait sleeps leaves its core idle,
// and the scheduler moves a busy competitor onto it, so that both ranks then share a core with
// it (beside one busy process, side by side, 2x1 ran 44-53k samples/s with a 1 ms yield phase
// and 90-98k with 20 ms; 4 ranks on 2 cores ran as fast either way: BENCHMARKS.md). Past 20 ms (a peer writing a
// checkpoint, say) sleeping costs nothing measurable and frees the core.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "dptrain/clock.hpp"

namespace dptrain {

// DPTRAIN_WAIT_YIELD_US in seconds: how long a wait yields before it sleeps (20 ms unset).
inline double wait_yield_seconds() {
  static const double s = [] {
    const char* us = std::getenv("DPTRAIN_WAIT_YIELD_US");
    return us ? std::max(0.0, std::atof(us)) * 1e-6 : 20e-3;
  }();
  return s;
}

class WaitBackoff {
 public:
  explicit WaitBackoff(double spin_s)
      : spin_s_(spin_s), yield_s_(std::max(wait_yield_seconds(), spin_s)), start_(now_seconds()) {}
  // Called after each poll that found nothing. Returns the seconds waited so far, or a negative
  // number on the polls that skipped the clock (it costs more than a poll).
  double pause() {
    if (++polls_ % 32 != 0) return -1;
    const double waited = now_seconds() - start_;
    if (waited < spin_s_) return waited;
    if (waited < yield_s_) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::duration<double>(sleep_s_));
      sleep_s_ = std::min(2 * sleep_s_, kMaxSleepSeconds);
    }
    return waited;
  }

 private:
  static constexpr double kMaxSleepSeconds = 250e-6;
  double spin_s_, yield_s_, start_;
  double sleep_s_ = 10e-6;
  long polls_ = 0;
};

// DPTRAIN_WAIT_SPIN_US in seconds: 50 us unset; 0 yields at once, a huge value only spins
// (for measuring waits on shared cores: BENCHMARKS.md).
inline double wait_spin_seconds() {
  const char* us = std::getenv("DPTRAIN_WAIT_SPIN_US");
  return us ? std::max(0.0, std::atof(us)) * 1e-6 : 50e-6;
}

}  // namespace dptrain
