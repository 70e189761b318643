#pragma once
// Memory that every rank of one node maps (MPI_Win_allocate_shared under MPI): each rank owns
// one region, which every rank of the node can read and write with plain loads and stores.
// What the ranks exchange through it, and when, is up to the user (node_shared_reduce.hpp).
#include <cstddef>
#include <string>

namespace dptrain {

class NodeSharedMemory {
 public:
  NodeSharedMemory() = default;
  NodeSharedMemory(const NodeSharedMemory&) = delete;
  NodeSharedMemory& operator=(const NodeSharedMemory&) = delete;
  virtual ~NodeSharedMemory() = default;

  // This rank and the ranks of the node (the same numbers as the communicator's).
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank r's region: 64-byte aligned, of the size rank r asked for, zero when allocated.
  virtual std::byte* region(int r) = 0;
  // How a waiting rank backs off (seconds of spinning, DPTRAIN_WAIT_SPIN_US) and after how many
  // seconds a peer that has not arrived counts as stalled (--stall-timeout; <= 0: never).
  virtual double spin_seconds() const = 0;
  virtual double stall_timeout_seconds() const = 0;
  // A peer stalled or died: prints `message` (when not empty) and ends the whole job with the
  // stall exit code, as a stalled MPI collective does.
  [[noreturn]] virtual void abort_stalled(const std::string& message) = 0;
};

}  // namespace dptrain
