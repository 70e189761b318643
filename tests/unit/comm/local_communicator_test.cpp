#include <gtest/gtest.h>

#include <atomic>

#include "dptrain/communicator.hpp"
#include "dptrain/error.hpp"

using namespace dptrain;

class LocalGroup : public ::testing::TestWithParam<int> {};

TEST_P(LocalGroup, CollectivesGiveFormulaResults) {
  const int n = GetParam();
  run_local_ranks(n, [n](Communicator& comm) {
    std::vector<float> v = {static_cast<float>(comm.rank()), 1.0f};
    comm.allreduce_sum(v, "test");
    EXPECT_EQ(v[0], n * (n - 1) / 2.0f);
    EXPECT_EQ(v[1], static_cast<float>(n));
    std::vector<double> m = {static_cast<double>(comm.rank())};
    comm.allreduce_max(m, "test");
    EXPECT_EQ(m[0], n - 1);
    std::string text = comm.rank() == n - 1 ? "from the last rank" : "";
    comm.broadcast(text, n - 1);
    EXPECT_EQ(text, "from the last rank");
    const auto all = comm.allgather("r" + std::to_string(comm.rank()));
    ASSERT_EQ(static_cast<int>(all.size()), n);
    EXPECT_EQ(all.back(), "r" + std::to_string(n - 1));
  });
}

// --shard-update's exchange, by the local group and by the allreduce-based defaults.
void check_reduce_scatter_and_allgather(Communicator& comm, bool use_defaults) {
  const int n = comm.size(), r = comm.rank();
  const std::vector<std::size_t> parts = {0, 3, 3, 10, 11, 17};  // uneven, one empty part
  const std::size_t len = 17;
  std::vector<std::size_t> mine(parts.begin(), parts.begin() + n + 1);
  mine[n] = len;
  std::vector<float> data(len);
  for (std::size_t i = 0; i < len; ++i) data[i] = static_cast<float>(r * 100 + i);
  std::vector<float> part(mine[r + 1] - mine[r]);
  if (use_defaults)
    comm.Communicator::reduce_scatter_sum(data, part, mine, "test");
  else
    comm.reduce_scatter_sum(data, part, mine, "test");
  for (std::size_t i = 0; i < part.size(); ++i)
    EXPECT_EQ(part[i], 100.0f * n * (n - 1) / 2 + n * static_cast<float>(mine[r] + i));
  std::vector<float> all(len, -1.0f);
  for (std::size_t i = mine[r]; i < mine[r + 1]; ++i) all[i] = static_cast<float>(i) + 0.5f;
  if (use_defaults)
    comm.Communicator::allgather_parts(all, mine, "test");
  else
    comm.allgather_parts(all, mine, "test");
  for (std::size_t i = 0; i < len; ++i) EXPECT_EQ(all[i], static_cast<float>(i) + 0.5f);
}

TEST_P(LocalGroup, ReduceScattersAndAllgathersParts) {
  run_local_ranks(GetParam(), [](Communicator& comm) { check_reduce_scatter_and_allgather(comm, false); });
  run_local_ranks(GetParam(), [](Communicator& comm) { check_reduce_scatter_and_allgather(comm, true); });
}

TEST_P(LocalGroup, AgreesOnTheLowestFailingRank) {
  const int n = GetParam();
  run_local_ranks(n, [n](Communicator& comm) {
    std::optional<std::string> mine;
    if (comm.rank() >= n / 2) mine = "broken on rank " + std::to_string(comm.rank());
    const auto agreed = agree_on_failure(comm, mine);
    ASSERT_TRUE(agreed.has_value());
    EXPECT_EQ(agreed->rank, n / 2);
    EXPECT_EQ(agreed->message, "broken on rank " + std::to_string(n / 2));
    EXPECT_FALSE(agree_on_failure(comm, std::nullopt).has_value());
  });
}

TEST_P(LocalGroup, RunAgreedThrowsTheSameFailureEverywhere) {
  const int n = GetParam();
  std::atomic<int> caught{0};
  run_local_ranks(n, [&](Communicator& comm) {
    try {
      run_agreed(comm, [&] {
        if (comm.rank() == n - 1) throw DataError("bad row on the last rank");
      });
    } catch (const CollectiveFailure& e) {
      EXPECT_EQ(std::string(e.what()), "bad row on the last rank");
      EXPECT_EQ(e.failed_rank(), n - 1);
      ++caught;
    }
  });
  EXPECT_EQ(caught.load(), n);
}

INSTANTIATE_TEST_SUITE_P(Sizes, LocalGroup, ::testing::Values(1, 2, 3, 4));
