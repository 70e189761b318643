// The CRC-32C of TensorBoard's record framing, against the standard check value.
#include <gtest/gtest.h>

#include <cstring>

#include "train/tensorboard.hpp"

using namespace dptrain;

TEST(TensorBoard, Crc32cMatchesTheStandardCheckValue) {
  const char* text = "123456789";
  EXPECT_EQ(crc32c(text, std::strlen(text)), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  const std::uint32_t c = 0xE3069283u;
  EXPECT_EQ(masked_crc32c(text, std::strlen(text)), ((c >> 15) | (c << 17)) + 0xA282EAD8u);
}
