// all_finite: any NaN or Inf, wherever it sits in a vectorised pass, makes it false.
#include "util/finite.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace dptrain {
namespace {

TEST(FiniteTest, FiniteExtremesAreFinite) {
  const std::vector<float> v = {0.0f, -0.0f, std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                                std::numeric_limits<float>::min(), std::numeric_limits<float>::denorm_min(), 1e-40f};
  EXPECT_TRUE(all_finite(v.data(), v.size()));
  EXPECT_TRUE(all_finite(nullptr, 0));
}

TEST(FiniteTest, OneNonFiniteAnywhereIsFound) {
  for (const float bad : {std::nanf(""), -std::nanf(""), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()}) {
    for (const std::size_t n : {1u, 7u, 16u, 33u, 1000u}) {
      for (std::size_t at = 0; at < n; at += (n > 40 ? 97 : 1)) {
        std::vector<float> v(n, 1.5f);
        v[at] = bad;
        EXPECT_FALSE(all_finite(v.data(), n)) << "value " << bad << " at " << at << " of " << n;
      }
      std::vector<float> v(n, 1.5f);
      v[n - 1] = bad;
      EXPECT_FALSE(all_finite(v.data(), n)) << "value " << bad << " last of " << n;
      EXPECT_TRUE(all_finite(v.data(), n - 1));
    }
  }
}

}  // namespace
}  // namespace dptrain
