// count_interruptions: the gaps a clock-reading loop sees, on a clock that jumps as told.
#include "util/interruptions.hpp"

#include <gtest/gtest.h>

namespace dptrain {
namespace {

// Reads advance 100 ns; every `every`-th read the clock jumps `gap` more.
struct JumpingClock {
  long every;
  double gap;
  long reads = 0;
  double t = 0;
  double operator()() {
    t += 100e-9;
    if (++reads % every == 0) t += gap;
    return t;
  }
};

TEST(InterruptionsTest, A48UsGapEachMillisecondIsAboutFivePercent) {
  JumpingClock clock{9520, 48e-6};  // 9,520 reads of 100 ns + 48 us: one gap per ~1 ms
  const Interruptions r = count_interruptions(clock, 0.5);
  EXPECT_NEAR(r.share, 48e-6 / (9520 * 100e-9 + 48e-6), 0.002);
  EXPECT_NEAR(r.per_second, 1.0 / (9520 * 100e-9 + 48e-6), 5.0);
  EXPECT_NEAR(r.median_gap_s, 48.1e-6, 0.2e-6);
  EXPECT_GE(r.seconds, 0.5);
}

TEST(InterruptionsTest, StepsBelowTheThresholdAreNotGaps) {
  JumpingClock clock{1000, 5e-6};  // 5 us: under the 10 us default
  const Interruptions r = count_interruptions(clock, 0.1);
  EXPECT_EQ(r.per_second, 0.0);
  EXPECT_EQ(r.share, 0.0);
  const Interruptions low = count_interruptions(JumpingClock{1000, 5e-6}, 0.1, 4e-6);
  EXPECT_GT(low.per_second, 0.0);
  EXPECT_NEAR(low.share, 5e-6 / (1000 * 100e-9 + 5e-6), 0.002);
}

TEST(InterruptionsTest, TheRealClockGivesAShareBetweenZeroAndOne) {
  const Interruptions r = count_interruptions(0.05);
  EXPECT_GE(r.seconds, 0.05);
  EXPECT_GE(r.share, 0.0);
  EXPECT_LT(r.share, 1.0);
}

}  // namespace
}  // namespace dptrain
