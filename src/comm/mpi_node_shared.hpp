#pragma once
// The MPI side of NodeSharedMemory (mpi_node_shared.cpp, with mpi_communicator.cpp the only
// files that include <mpi.h>).
#include <mpi.h>

#include <functional>
#include <memory>
#include <string>

#include "dptrain/node_shared_memory.hpp"

namespace dptrain {

// A collective over `comm`: when all of its ranks share one node, one MPI_Win_allocate_shared
// window with `bytes` per rank; otherwise (or when the window cannot be made on some rank)
// nullptr and the reason in `why_not`. `wait` completes a request of the setup (the
// communicator's timed wait: a rank that never arrives ends the job instead of hanging it).
std::unique_ptr<NodeSharedMemory> allocate_mpi_node_shared(MPI_Comm comm, std::size_t bytes, double spin_s,
                                                           double stall_timeout_s, std::string& why_not,
                                                           const std::function<void(MPI_Request&)>& wait);

}  // namespace dptrain
