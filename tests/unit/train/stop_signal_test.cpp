// StopSignal: a stop signal sent to the process sets the flag, and once the worker threads are
// started with the stop signals blocked only the main thread (whose handler has its own stack)
// can take one, never an OpenMP worker inside a product.
#include "dptrain/stop_signal.hpp"

#include <gtest/gtest.h>
#include <omp.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <vector>

namespace dptrain {
namespace {

bool stops_blocked_here() {
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  return sigismember(&now, SIGTERM) == 1 && sigismember(&now, SIGINT) == 1 && sigismember(&now, SIGUSR1) == 1;
}

TEST(StopSignal, WorkerThreadsLeaveTheStopSignalsToTheMainThread) {
  StopSignal::install();
  StopSignal::keep_off_worker_threads(3);
  std::vector<int> blocked(3, -1);
#pragma omp parallel num_threads(3)
  blocked[static_cast<std::size_t>(omp_get_thread_num())] = stops_blocked_here() ? 1 : 0;
  EXPECT_EQ(blocked, (std::vector<int>{0, 1, 1})) << "thread 0 (main) takes the signals; the workers block them";

  StopSignal::clear();
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);  // taken by the main thread before kill returns
  EXPECT_TRUE(StopSignal::requested());
  EXPECT_EQ(StopSignal::signal_number(), SIGUSR1);
  StopSignal::clear();
}

}  // namespace
}  // namespace dptrain
