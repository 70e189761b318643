// --log-every: which steps print, the numbers on the line (global step, samples/s since the
// previous line, ETA at the run's pace) and its exact text.
#include "train/log_every.hpp"

#include <gtest/gtest.h>

namespace dptrain {
namespace {

TEST(LogEveryTest, PrintsEveryNthGlobalStepWithPaceAndEta) {
  StepLogger log(4, 10, 3, 32);  // every 4 steps; 10 steps/epoch, 3 epochs, batch 32
  log.begin(100.0);
  int lines = 0;
  std::optional<StepLogLine> last;
  for (int epoch = 1; epoch <= 2; ++epoch)
    for (int s = 1; s <= 10; ++s) {
      // One step every 0.5 s.
      auto line = log.after_step(epoch, s, 0.25, 100.0 + 0.5 * ((epoch - 1) * 10 + s));
      if (line) {
        ++lines;
        EXPECT_EQ(line->step % 4, 0);
        last = line;
      }
    }
  EXPECT_EQ(lines, 5);  // global steps 4, 8, 12, 16, 20
  ASSERT_TRUE(last);
  EXPECT_EQ(last->step, 20);
  EXPECT_EQ(last->total_steps, 30);
  EXPECT_EQ(last->epoch, 2);
  EXPECT_DOUBLE_EQ(last->samples_per_s, 4 * 32 / 2.0);  // 4 steps of 32 rows in 2 s
  EXPECT_DOUBLE_EQ(last->eta_s, 10 * 0.5);              // 10 steps left at 0.5 s each
}

TEST(LogEveryTest, AResumedRunCountsItsPaceFromItsFirstStep) {
  StepLogger log(5, 10, 2, 8);
  log.begin(0.0);
  std::optional<StepLogLine> line;
  for (int s = 3; s <= 5; ++s) line = log.after_step(2, s, 1.0, 1.0 * (s - 2));  // resumed at epoch 2, step 3
  ASSERT_TRUE(line);
  EXPECT_EQ(line->step, 15);
  EXPECT_DOUBLE_EQ(line->samples_per_s, 3 * 8 / 3.0);
  EXPECT_DOUBLE_EQ(line->eta_s, 5.0);
}

TEST(LogEveryTest, ZeroMeansNoLines) {
  StepLogger log(0, 10, 1, 8);
  log.begin(0);
  for (int s = 1; s <= 10; ++s) EXPECT_FALSE(log.after_step(1, s, 1.0, s));
}

TEST(LogEveryTest, LineFormat) {
  StepLogLine l{120, 600, 2, 5, 0.43121, 18250.4, 3723};
  EXPECT_EQ(format_step_line(l), "step 120/600 epoch 2/5 loss 0.4312 samples/s 18250 eta 1:02:03");
  EXPECT_EQ(format_duration(41), "0:00:41");
}

}  // namespace
}  // namespace dptrain
