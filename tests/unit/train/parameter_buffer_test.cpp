// ParameterBuffer: the trainer's parameters in memory of their own, or placed elsewhere (the node
// exchange's shared window): values follow every move, writes go to where they live, and the
// end of a run gets them back in memory of their own.
#include <gtest/gtest.h>

#include <vector>

#include "dptrain/error.hpp"
#include "train/parameter_buffer.hpp"

namespace dptrain {
namespace {

TEST(ParameterBuffer, OwnsWhatItIsGiven) {
  ParameterBuffer p;
  p = AlignedVector<float>{1, 2, 3};
  ASSERT_EQ(p.size(), 3u);
  p.span()[1] = 5;
  const float values[] = {7, 8, 9};
  p.assign(values);
  EXPECT_EQ(std::vector<float>(p.span().begin(), p.span().end()), (std::vector<float>{7, 8, 9}));
  EXPECT_THROW(p.assign(std::span<const float>(values, 2)), InternalError);
}

TEST(ParameterBuffer, PlacedElsewhereItReadsAndWritesThere) {
  ParameterBuffer p;
  p = AlignedVector<float>{1, 2, 3};
  std::vector<float> shared = {1, 2, 3};  // the placement copied the values
  p.live_in(shared);
  EXPECT_EQ(p.data(), shared.data());
  p.span()[0] = 10;  // an update in place
  const float loaded[] = {4, 5, 6};
  p.assign(loaded);
  EXPECT_EQ(shared, (std::vector<float>{4, 5, 6}));
  std::vector<float> too_small(2);
  EXPECT_THROW(p.live_in(too_small), InternalError);
}

TEST(ParameterBuffer, BringHomeCopiesTheSharedValuesBackAndLeavesTheSharedMemoryAlone) {
  ParameterBuffer p;
  p = AlignedVector<float>{1, 2, 3};
  std::vector<float> shared = {1, 2, 3};
  p.live_in(shared);
  shared[2] = 30;  // another rank's update
  p.bring_home();
  EXPECT_NE(p.data(), shared.data());
  p.span()[0] = -1;  // e.g. restoring the best epoch's parameters
  EXPECT_EQ(shared, (std::vector<float>{1, 2, 30}));
  const AlignedVector<float> taken = p.take();
  EXPECT_EQ(std::vector<float>(taken.begin(), taken.end()), (std::vector<float>{-1, 2, 30}));
  EXPECT_EQ(p.size(), 0u);
}

TEST(ParameterBuffer, TakeFromSharedMemoryCopies) {
  ParameterBuffer p;
  p = AlignedVector<float>{1, 2};
  std::vector<float> shared = {3, 4};
  p.live_in(shared);
  const AlignedVector<float> taken = p.take();
  EXPECT_EQ(std::vector<float>(taken.begin(), taken.end()), (std::vector<float>{3, 4}));
  EXPECT_EQ(shared, (std::vector<float>{3, 4}));
}

}  // namespace
}  // namespace dptrain
