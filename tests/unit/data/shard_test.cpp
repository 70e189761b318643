#include <gtest/gtest.h>

#include <set>

#include "dptrain/shard.hpp"

using namespace dptrain;

TEST(ShardRange, CoversAllRowsContiguouslyWithSizesDifferingByAtMostOne) {
  for (std::int64_t rows : {0, 1, 5, 1001, 60000}) {
    for (int ranks : {1, 2, 3, 4, 7}) {
      std::int64_t next = 0, smallest = rows, largest = 0;
      for (int r = 0; r < ranks; ++r) {
        const ShardRange s = shard_range(rows, ranks, r);
        EXPECT_EQ(s.begin, next);
        next = s.end;
        smallest = std::min(smallest, s.size());
        largest = std::max(largest, s.size());
        for (std::int64_t row = s.begin; row < s.end; row += std::max<std::int64_t>(1, s.size() / 7))
          EXPECT_EQ(shard_owner(rows, ranks, row), r) << "row " << row;
        if (s.size() > 0) EXPECT_EQ(shard_owner(rows, ranks, s.end - 1), r);
      }
      EXPECT_EQ(next, rows);
      EXPECT_LE(largest - smallest, 1);
    }
  }
}

TEST(ShardRange, MoreRanksThanRowsLeavesSomeEmpty) {
  EXPECT_EQ(shard_range(2, 4, 0).size(), 1);
  EXPECT_EQ(shard_range(2, 4, 1).size(), 1);
  EXPECT_EQ(shard_range(2, 4, 2).size(), 0);
  EXPECT_EQ(shard_range(2, 4, 3).size(), 0);
}

TEST(GlobalPermutation, IsABijectionForAnySize) {
  for (std::uint64_t n : {1u, 2u, 3u, 17u, 1000u, 1001u, 65536u, 70001u}) {
    GlobalPermutation perm(n, 42, 1);
    std::vector<bool> seen(n, false);
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t v = perm(i);
      ASSERT_LT(v, n);
      ASSERT_FALSE(seen[v]) << "value " << v << " repeated (n=" << n << ")";
      seen[v] = true;
    }
  }
}

TEST(GlobalPermutation, DependsOnSeedAndEpochOnly) {
  GlobalPermutation a(1000, 1, 1), b(1000, 1, 1), c(1000, 1, 2), d(1000, 2, 1);
  int same_epoch = 0, same_seed = 0, fixed_points = 0;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(a(i), b(i));
    same_epoch += a(i) == c(i);
    same_seed += a(i) == d(i);
    fixed_points += a(i) == i;
  }
  // A random permutation agrees with another in about 1 place in expectation.
  EXPECT_LT(same_epoch, 20);
  EXPECT_LT(same_seed, 20);
  EXPECT_LT(fixed_points, 20);
}

TEST(Random, IsReproducibleAndRoughlyNormal) {
  Random a(5), b(5);
  double sum = 0, sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double x = a.normal();
    EXPECT_EQ(x, b.normal());
    sum += x;
    sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.03);
  EXPECT_NEAR(sq / n, 1.0, 0.05);
}
