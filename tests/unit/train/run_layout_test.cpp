// The run layout report: CPU lists, the placement record, the report lines and the
// oversubscription/binding warnings, and the gather over ranks (ranks as threads).
#include "dptrain/run_layout.hpp"

#include <gtest/gtest.h>

#include <mutex>

namespace dptrain {
namespace {

RankPlacement placement(int rank, const std::string& host, std::vector<int> cpus, int host_cpus,
                        int threads, std::int64_t begin, std::int64_t end) {
  RankPlacement p;
  p.rank = rank;
  p.host = host;
  p.cpus = std::move(cpus);
  p.host_cpus = host_cpus;
  p.threads = threads;
  p.shard = {begin, end};
  return p;
}

TEST(RunLayoutTest, FormatsCpuListsAsRanges) {
  EXPECT_EQ(format_cpu_list({}), "");
  EXPECT_EQ(format_cpu_list({3}), "3");
  EXPECT_EQ(format_cpu_list({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  EXPECT_EQ(format_cpu_list({8, 7, 0, 0, 1}), "0-1,7-8");
}

TEST(RunLayoutTest, PlacementRecordRoundTrips) {
  const RankPlacement p = placement(2, "node-17", {0, 1, 2, 3, 8}, 16, 4, 500, 750);
  const RankPlacement q = decode_placement(encode_placement(p));
  EXPECT_EQ(q.rank, 2);
  EXPECT_EQ(q.host, "node-17");
  EXPECT_EQ(q.cpus, (std::vector<int>{0, 1, 2, 3, 8}));
  EXPECT_EQ(q.host_cpus, 16);
  EXPECT_EQ(q.threads, 4);
  EXPECT_EQ(q.shard.begin, 500);
  EXPECT_EQ(q.shard.end, 750);
}

TEST(RunLayoutTest, ThisRankHasAHostAndAtLeastOneCpu) {
  const RankPlacement p = describe_this_rank(0, 2, {0, 10});
  EXPECT_FALSE(p.host.empty());
  EXPECT_GE(p.cpus.size(), 1u);
  EXPECT_GE(p.host_cpus, static_cast<int>(p.cpus.size()));
  EXPECT_EQ(p.threads, 2);
}

TEST(RunLayoutTest, ReportListsEveryRankWithItsShareOfTheBatch) {
  RunLayout layout;
  layout.rows = 1001;
  layout.global_batch = 100;
  layout.ranks = {placement(0, "a", {0, 1}, 4, 2, 0, 501), placement(1, "b", {2, 3}, 4, 2, 501, 1001)};
  const auto lines = format_run_layout(layout);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "run layout: 2 rank(s) on 2 host(s), 2 thread(s) per rank, global batch 100, local batch ~50 "
            "rows per rank and step");
  EXPECT_EQ(lines[1],
            "  rank 0: host a, cpus 0-1 (2 of 4), 2 thread(s), shard rows [0, 501) (501), local batch ~50");
  EXPECT_EQ(lines[2],
            "  rank 1: host b, cpus 2-3 (2 of 4), 2 thread(s), shard rows [501, 1001) (500), local batch ~50");
  EXPECT_TRUE(run_layout_warnings(layout).empty());

  layout.dealt_blocks = true;  // the block order: a rank's rows are not one range of the file
  EXPECT_EQ(format_run_layout(layout)[1],
            "  rank 0: host a, cpus 0-1 (2 of 4), 2 thread(s), ~501 rows in blocks dealt by position, local batch ~50");
  layout.dealt_blocks = false;

  layout.rows = 3;  // an uneven split shows a fraction: 2 of 3 rows x batch 2
  layout.global_batch = 2;
  layout.ranks = {placement(0, "a", {0}, 1, 1, 0, 2), placement(1, "a", {0}, 1, 1, 2, 3)};
  EXPECT_NE(format_run_layout(layout)[1].find("local batch ~1.33"), std::string::npos);
}

TEST(RunLayoutTest, WarnsWhenRanksTimesThreadsExceedTheHostsCpus) {
  RunLayout layout;
  layout.rows = 100;
  layout.global_batch = 10;
  // 4 ranks x 2 threads on a 2-CPU host, unbound (each may use both CPUs); one rank elsewhere.
  for (int r = 0; r < 4; ++r) layout.ranks.push_back(placement(r, "small", {0, 1}, 2, 2, r * 20, r * 20 + 20));
  layout.ranks.push_back(placement(4, "big", {0, 1, 2, 3}, 4, 2, 80, 100));
  const auto warnings = run_layout_warnings(layout);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("host small is oversubscribed: 4 rank(s) start 8 thread(s) in total on 2 available CPU(s)", 0), 0u)
      << warnings[0];
}

TEST(RunLayoutTest, WarnsWhenARanksThreadsShareFewerBoundCpus) {
  // mpirun's default: each rank bound to one core, yet 2 threads per rank.
  RunLayout layout;
  layout.rows = 10;
  layout.global_batch = 10;
  layout.ranks = {placement(0, "h", {0}, 4, 2, 0, 5), placement(1, "h", {1}, 4, 2, 5, 10)};
  const auto warnings = run_layout_warnings(layout);
  ASSERT_EQ(warnings.size(), 3u);  // the host (4 threads on CPUs 0-1) and each rank
  EXPECT_NE(warnings[0].find("4 thread(s) in total on 2 available CPU(s)"), std::string::npos);
  EXPECT_EQ(warnings[1],
            "rank 0 starts 2 threads but is bound to 1 CPU(s) (0): its threads share them; with mpirun "
            "use --bind-to none or --map-by slot:PE=2, with srun set --cpus-per-task=2");
  EXPECT_NE(warnings[2].find("rank 1 starts 2 threads but is bound to 1 CPU(s) (1)"), std::string::npos);
}

class RunLayoutGather : public ::testing::TestWithParam<int> {};

TEST_P(RunLayoutGather, EveryRankGetsEveryPlacementInRankOrder) {
  const int size = GetParam();
  std::mutex m;
  std::vector<RunLayout> seen(size);
  run_local_ranks(size, [&](Communicator& comm) {
    const RankPlacement mine =
        placement(comm.rank(), "host" + std::to_string(comm.rank() % 2), {comm.rank()}, 8, 1 + comm.rank(),
                  comm.rank() * 10, comm.rank() * 10 + 10);
    RunLayout layout = gather_run_layout(comm, mine, 10 * size, 4);
    std::lock_guard<std::mutex> lock(m);
    seen[comm.rank()] = std::move(layout);
  });
  for (int r = 0; r < size; ++r) {
    ASSERT_EQ(static_cast<int>(seen[r].ranks.size()), size);
    for (int q = 0; q < size; ++q) {
      EXPECT_EQ(seen[r].ranks[q].rank, q);
      EXPECT_EQ(seen[r].ranks[q].threads, 1 + q);
      EXPECT_EQ(seen[r].ranks[q].shard.begin, q * 10);
      EXPECT_EQ(seen[r].ranks[q].host, "host" + std::to_string(q % 2));
    }
    EXPECT_EQ(seen[r].rows, 10 * size);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, RunLayoutGather, ::testing::Values(1, 2, 3, 4));

}  // namespace
}  // namespace dptrain
