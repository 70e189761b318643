// MpiCommunicator::send/recv under real mpiexec (1-4 ranks): an ordered gather to rank 0,
// block by block, as predict uses it; a length mismatch is an error, not a silent truncation.
#include <gtest/gtest.h>

#include "dptrain/mpi_communicator.hpp"

namespace dptrain {
namespace {

TEST(PointToPoint, OrderedGatherToRankZero) {
  MpiCommunicator comm(60.0);
  const int p = comm.size(), rank = comm.rank();
  // Rank r sends r + 1 blocks; block b holds b + 1 copies of 100 r + b.
  if (rank == 0) {
    for (int r = 1; r < p; ++r)
      for (int b = 0; b <= r; ++b) {
        std::vector<float> got(static_cast<std::size_t>(b + 1), -1.0f);
        comm.recv(got, r, "test gather");
        for (float v : got) EXPECT_EQ(v, static_cast<float>(100 * r + b));
      }
  } else {
    for (int b = 0; b <= rank; ++b)
      comm.send(std::vector<float>(static_cast<std::size_t>(b + 1), static_cast<float>(100 * rank + b)),
                0, "test gather");
  }
  comm.barrier();
}

TEST(PointToPoint, LongerMessageThanBufferIsAnError) {
  MpiCommunicator comm(60.0);
  if (comm.size() < 2) GTEST_SKIP() << "needs 2 ranks";
  if (comm.rank() == 1) comm.send(std::vector<float>(8, 1.0f), 0, "test");
  if (comm.rank() == 0) {
    std::vector<float> small(4);
    EXPECT_THROW(comm.recv(small, 1, "test"), std::exception);
  }
  comm.barrier();
}

TEST(PointToPoint, ShorterMessageThanBufferIsAnError) {
  MpiCommunicator comm(60.0);
  if (comm.size() < 2) GTEST_SKIP() << "needs 2 ranks";
  if (comm.rank() == 1) comm.send(std::vector<float>(3, 1.0f), 0, "test");
  if (comm.rank() == 0) {
    std::vector<float> big(8);
    EXPECT_THROW(comm.recv(big, 1, "test"), std::exception);
  }
  comm.barrier();
}

}  // namespace
}  // namespace dptrain
