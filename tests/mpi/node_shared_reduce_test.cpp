// NodeSharedReduce on MpiCommunicator's node shared memory under real mpiexec with 1-4 ranks:
// sums equal MPI_Allreduce's where float sums are exact, run in rank order otherwise, and every
// rank ends with the same bits.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "dptrain/mpi_communicator.hpp"
#include "dptrain/node_shared_reduce.hpp"

using namespace dptrain;

namespace {

constexpr std::size_t kValues = 10'007;  // not a multiple of the sum's 1024-value blocks

NodeSharedReduce make_reduce(MpiCommunicator& comm, std::size_t published) {
  std::string why_not;
  auto memory = comm.allocate_node_shared(NodeSharedReduce::bytes_per_rank(kValues, published), why_not);
  if (!memory) {  // every rank agrees on this (a collective), so every rank ends here
    std::fprintf(stderr, "no node shared memory under mpiexec on one host: %s\n", why_not.c_str());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return NodeSharedReduce(std::move(memory), kValues, published);
}

// Rank q's values: random, reproducible on every rank from (q, round).
std::vector<float> values_of(int q, int round) {
  std::mt19937 gen(static_cast<unsigned>(1000 * q + round));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(kValues);
  for (float& x : v) x = dist(gen) * static_cast<float>(1 + q * 1000);  // very different scales
  return v;
}

// [begin, end) of rank r's part.
std::pair<std::size_t, std::size_t> part_of(int r, int n) { return {kValues * r / n, kValues * (r + 1) / n}; }

}  // namespace

TEST(NodeSharedReduce, SumsEqualMpiAllreduceOnExactValues) {
  MpiCommunicator comm(30);
  NodeSharedReduce node = make_reduce(comm, kValues);
  ASSERT_EQ(node.rank(), comm.rank());
  ASSERT_EQ(node.size(), comm.size());
  std::vector<float> mine(kValues);
  for (std::size_t i = 0; i < kValues; ++i) mine[i] = static_cast<float>((comm.rank() + 1) * 3 + i % 977);
  std::copy(mine.begin(), mine.end(), node.buffer(node.rank()).begin());
  node.barrier("test");
  std::vector<float> sum(kValues);
  node.sum(0, kValues, sum.data());
  std::vector<float> expected = mine;
  MPI_Allreduce(MPI_IN_PLACE, expected.data(), static_cast<int>(kValues), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(0, std::memcmp(sum.data(), expected.data(), kValues * sizeof(float)));
  node.barrier("test");
}

// Each rank sums its part in place, publishes it, and copies the others' parts: every rank
// holds the rank-order sum of every part, bitwise, over many rounds (the barriers keep a fast
// rank's next round from overwriting what a slow one still reads).
TEST(NodeSharedReduce, PartsSummedInRankOrderAreBitwiseTheSameOnEveryRank) {
  MpiCommunicator comm(30);
  const int n = comm.size(), r = comm.rank();
  NodeSharedReduce node = make_reduce(comm, kValues / n + 1);
  for (int round = 0; round < 50; ++round) {
    const std::vector<float> mine = values_of(r, round);
    std::copy(mine.begin(), mine.end(), node.buffer(r).begin());
    node.barrier("test");
    const auto [begin, end] = part_of(r, n);
    node.sum(begin, end, node.buffer(r).data() + begin);  // in place
    std::copy(node.buffer(r).begin() + begin, node.buffer(r).begin() + end, node.published(r).begin());
    node.barrier("test");
    std::vector<float> all(kValues);
    for (int q = 0; q < n; ++q) {
      const auto [b, e] = part_of(q, n);
      std::copy(node.published(q).begin(), node.published(q).begin() + (e - b), all.begin() + b);
    }
    std::vector<float> expected = values_of(0, round);
    for (int q = 1; q < n; ++q) {
      const std::vector<float> v = values_of(q, round);
      for (std::size_t i = 0; i < kValues; ++i) expected[i] += v[i];
    }
    ASSERT_EQ(0, std::memcmp(all.data(), expected.data(), kValues * sizeof(float))) << "round " << round;
    node.barrier("test");  // everyone has read the published parts
  }
}

TEST(NodeSharedReduce, ScalarsAreSharedAfterABarrier) {
  MpiCommunicator comm(30);
  NodeSharedReduce node = make_reduce(comm, 16);
  for (int round = 1; round <= 100; ++round) {
    node.scalars(node.rank())[round % 2] = round * 10.0 + node.rank();
    node.barrier("test");
    for (int q = 0; q < node.size(); ++q) ASSERT_EQ(node.scalars(q)[round % 2], round * 10.0 + q);
  }
  node.barrier("test");
}

// --deterministic's fixed point: the integer sums (values far beyond float's exact range) equal
// MPI_Allreduce's int64 sums, converted to float as sum * unit.
TEST(NodeSharedReduce, FixedPointSumsEqualMpiInt64Allreduce) {
  MpiCommunicator comm(30);
  NodeSharedReduce node = make_reduce(comm, 16);
  const std::size_t n = node.fixed_buffer(node.rank()).size();
  ASSERT_EQ(n, kValues / 2);
  std::vector<std::int64_t> mine(n);
  std::mt19937_64 gen(static_cast<unsigned>(7 + comm.rank()));
  for (auto& v : mine) v = static_cast<std::int64_t>(gen() >> 8) - (std::int64_t{1} << 55);
  std::copy(mine.begin(), mine.end(), node.fixed_buffer(node.rank()).begin());
  node.barrier("test");
  const double unit = 1.0 / 4294967296.0;
  const auto r = static_cast<std::size_t>(comm.rank()), p = static_cast<std::size_t>(comm.size());
  const std::size_t begin = n * r / p, end = n * (r + 1) / p;
  std::vector<float> part(end - begin);
  node.sum_fixed(begin, end, unit, part.data());
  std::vector<std::int64_t> expected = mine;
  MPI_Allreduce(MPI_IN_PLACE, expected.data(), static_cast<int>(n), MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  for (std::size_t i = begin; i < end; ++i)
    ASSERT_EQ(part[i - begin], static_cast<float>(static_cast<double>(expected[i]) * unit)) << "value " << i;
  node.barrier("test");
}

// sum_blocks hands the node exchange's update the sums of its part block by block, in order,
// covering the part exactly, with the same values as sum(); a non-finite sum in any block (an
// infinity on the last rank only) makes it return NaN, which is how the fused update learns
// that the step must not be kept.
TEST(NodeSharedReduce, SumBlocksCoverThePartInOrderAndFlagNonFiniteSums) {
  MpiCommunicator comm(30);
  const int n = comm.size(), r = comm.rank();
  NodeSharedReduce node = make_reduce(comm, 1);
  for (int round = 0; round < 2; ++round) {
    std::vector<float> mine = values_of(r, round);
    if (round == 1 && r == n - 1) mine[kValues - 3] = INFINITY;  // in the last rank's part
    std::copy(mine.begin(), mine.end(), node.buffer(r).begin());
    node.barrier("test");
    const auto [begin, end] = part_of(r, n);
    std::vector<float> expected(end - begin), seen;
    node.sum(begin, end, expected.data());
    std::size_t next = begin;
    const double check = node.sum_blocks(begin, end, false, [&](std::size_t lo, std::span<float> sums) {
      EXPECT_EQ(lo, next);
      next += sums.size();
      seen.insert(seen.end(), sums.begin(), sums.end());
    });
    EXPECT_EQ(next, end);
    EXPECT_EQ(0, std::memcmp(seen.data(), expected.data(), expected.size() * sizeof(float)));
    const bool holds_infinity = round == 1 && r == n - 1;
    EXPECT_EQ(std::isnan(check), holds_infinity) << "round " << round << ", rank " << r;
    node.barrier("test");
  }
}
