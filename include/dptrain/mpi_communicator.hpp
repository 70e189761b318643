#pragma once
// The production communicator. This header does not include <mpi.h>: every MPI call lives
// in src/comm/mpi_communicator.cpp (and the node's shared memory in mpi_node_shared.cpp).
#include <memory>

#include "dptrain/communicator.hpp"

namespace dptrain {

// RAII for MPI_Init_thread(FUNNELED) / MPI_Finalize.
class MpiEnvironment {
 public:
  MpiEnvironment(int* argc, char*** argv);
  ~MpiEnvironment();
  MpiEnvironment(const MpiEnvironment&) = delete;
  MpiEnvironment& operator=(const MpiEnvironment&) = delete;
};

// A duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN. Every collective is nonblocking
// with a timed wait: a rank that does not arrive within `stall_timeout_s` seconds is
// reported (with the phase) and the job is aborted, so a dead or stalled rank never hangs
// the others. stall_timeout_s <= 0 waits forever.
class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(double stall_timeout_s = 300.0);
  ~MpiCommunicator() override;

  int rank() const override;
  int size() const override;
  void allreduce_sum(std::span<float> data, const char* phase) override;
  void allreduce_sum(std::span<double> data, const char* phase) override;
  void allreduce_sum(std::span<std::int64_t> data, const char* phase) override;
  void allreduce_max(std::span<double> data, const char* phase) override;
  void start_allreduce_sum(std::span<float> data, const char* phase) override;
  void progress() override;
  void finish_pending() override;
  void reduce_scatter_sum(std::span<const float> data, std::span<float> part, std::span<const std::size_t> parts,
                          const char* phase) override;
  void allgather_parts(std::span<float> data, std::span<const std::size_t> parts, const char* phase) override;
  void broadcast(std::span<float> data, int root) override;
  void broadcast(std::string& text, int root) override;
  std::vector<std::string> allgather(const std::string& text) override;
  void barrier() override;
  void send(std::span<const float> data, int dest, const char* phase) override;
  void recv(std::span<float> data, int source, const char* phase) override;
  std::unique_ptr<NodeSharedMemory> allocate_node_shared(std::size_t bytes, std::string& why_not) override;

  void set_stall_timeout(double seconds);
  std::string processor_name() const;
  // "3", or "3 on host node07" when the ranks run on more than one host.
  std::string rank_on_host(int rank) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dptrain
