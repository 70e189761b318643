// MpiCommunicator under real mpiexec with 1-4 ranks: results from formulas.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>

#include "dptrain/error.hpp"
#include "dptrain/mpi_communicator.hpp"
#include "dptrain/node_shared_memory.hpp"

using namespace dptrain;

TEST(MpiCommunicator, AllreduceSumsAndMaxes) {
  MpiCommunicator comm(30);
  const int n = comm.size(), r = comm.rank();
  std::vector<float> v(1000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(r + i);
  comm.allreduce_sum(v, "test");
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], n * (n - 1) / 2.0f + n * static_cast<float>(i));
  std::vector<double> d = {static_cast<double>(r), -static_cast<double>(r)};
  comm.allreduce_max(d, "test");
  EXPECT_EQ(d[0], n - 1);
  EXPECT_EQ(d[1], 0);
}

TEST(MpiCommunicator, LargeReductionsAreSplitIntoPieces) {
  MpiCommunicator comm(30);
  std::vector<float> v(5'000'000, 1.0f);  // 20 MB: more than one 16 MB piece
  comm.allreduce_sum(v, "test");
  EXPECT_EQ(v.front(), static_cast<float>(comm.size()));
  EXPECT_EQ(v.back(), static_cast<float>(comm.size()));
}

TEST(MpiCommunicator, ReduceScattersAndAllgathersParts) {
  MpiCommunicator comm(30);
  const int n = comm.size(), r = comm.rank();
  const std::size_t len = 1001;  // uneven parts; rank 0's is empty
  std::vector<std::size_t> parts(n + 1, len);
  parts[0] = 0;
  for (int q = 1; q < n; ++q) parts[q] = len * q / n;
  if (n > 1) parts[1] = 0;
  std::vector<float> data(len);
  for (std::size_t i = 0; i < len; ++i) data[i] = static_cast<float>(r * 1000 + i);
  std::vector<float> part(parts[r + 1] - parts[r]);
  comm.reduce_scatter_sum(data, part, parts, "test");
  for (std::size_t i = 0; i < part.size(); ++i)
    ASSERT_EQ(part[i], 1000.0f * n * (n - 1) / 2 + n * static_cast<float>(parts[r] + i));
  std::vector<float> all(len, -1.0f);
  for (std::size_t i = parts[r]; i < parts[r + 1]; ++i) all[i] = static_cast<float>(i) + 0.5f;
  comm.allgather_parts(all, parts, "test");
  for (std::size_t i = 0; i < len; ++i) ASSERT_EQ(all[i], static_cast<float>(i) + 0.5f);
}

TEST(MpiCommunicator, LargeReduceScattersAndAllgathers) {
  MpiCommunicator comm(30);
  const int n = comm.size(), r = comm.rank();
  const std::size_t len = 9'000'001;  // 36 MB: beyond the 32 MB malloc mmap threshold
  std::vector<std::size_t> parts(n + 1, len);
  for (int q = 0; q < n; ++q) parts[q] = len * q / n;
  std::vector<float> data(len, static_cast<float>(r + 1));
  std::vector<float> part(parts[r + 1] - parts[r]);
  comm.reduce_scatter_sum(data, part, parts, "test");
  for (float v : part) ASSERT_EQ(v, n * (n + 1) / 2.0f);
  std::fill(data.begin() + static_cast<std::ptrdiff_t>(parts[r]), data.begin() + static_cast<std::ptrdiff_t>(parts[r + 1]),
            -static_cast<float>(r));
  comm.allgather_parts(data, parts, "test");
  for (int q = 0; q < n; ++q) {
    ASSERT_EQ(data[parts[q]], -static_cast<float>(q));
    ASSERT_EQ(data[parts[q + 1] - 1], -static_cast<float>(q));
  }
}

TEST(MpiCommunicator, BroadcastsAndGathers) {
  MpiCommunicator comm(30);
  std::string text = comm.rank() == 0 ? "hello from rank 0" : "";
  comm.broadcast(text, 0);
  EXPECT_EQ(text, "hello from rank 0");
  std::vector<float> v(3, static_cast<float>(comm.rank()));
  comm.broadcast(v, comm.size() - 1);
  EXPECT_EQ(v[2], static_cast<float>(comm.size() - 1));
  const auto all = comm.allgather(std::string(static_cast<std::size_t>(comm.rank()), 'x'));
  ASSERT_EQ(static_cast<int>(all.size()), comm.size());
  for (int r = 0; r < comm.size(); ++r) EXPECT_EQ(all[r].size(), static_cast<std::size_t>(r));
  comm.barrier();
}

TEST(MpiCommunicator, RunAgreedGivesEveryRankTheFailingRanksMessage) {
  MpiCommunicator comm(30);
  const int last = comm.size() - 1;
  try {
    run_agreed(comm, [&] {
      if (comm.rank() == last) throw DataError("rank " + std::to_string(last) + " saw a bad row");
    });
    FAIL() << "no failure";
  } catch (const CollectiveFailure& e) {
    EXPECT_EQ(e.failed_rank(), last);
    EXPECT_EQ(std::string(e.what()), "rank " + std::to_string(last) + " saw a bad row");
  }
  EXPECT_NO_THROW(run_agreed(comm, [] {}));
}

// The node exchange keeps the parameters once for the node: rank 0 asks for all of the bytes,
// the others for none, and every rank reads and writes rank 0's region.
TEST(MpiCommunicator, NodeSharedRegionsMayDifferInSizeAndEveryRankSeesRankZeros) {
  MpiCommunicator comm(30);
  const int n = comm.size(), r = comm.rank();
  constexpr std::size_t kFloats = 100'003;
  std::string why_not;
  auto memory = comm.allocate_node_shared(r == 0 ? kFloats * sizeof(float) : 0, why_not);
  ASSERT_NE(memory, nullptr) << why_not;
  float* shared = reinterpret_cast<float*>(memory->region(0));
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(shared) % 64, 0u);
  for (std::size_t i = kFloats * r / n; i < kFloats * (r + 1) / n; ++i) {
    ASSERT_EQ(shared[i], 0.0f) << "not zero when allocated, at " << i;
    shared[i] = static_cast<float>(i) + 0.5f;
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  comm.barrier();  // every rank's writes are done (and visible: the fence, then MPI's barrier)
  for (std::size_t i = 0; i < kFloats; ++i) ASSERT_EQ(shared[i], static_cast<float>(i) + 0.5f) << i;
}
