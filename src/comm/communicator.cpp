// Defaults of the optional operations of Communicator: point-to-point, the sharded exchange by
// allreduce, and no node shared memory.
#include "dptrain/communicator.hpp"

#include <algorithm>
#include <vector>

#include "dptrain/error.hpp"
#include "dptrain/node_shared_memory.hpp"

namespace dptrain {

void Communicator::send(std::span<const float>, int, const char* phase) {
  throw CommunicationError(std::string(phase) + ": this communicator has no point-to-point send");
}

void Communicator::recv(std::span<float>, int, const char* phase) {
  throw CommunicationError(std::string(phase) + ": this communicator has no point-to-point recv");
}

void Communicator::reduce_scatter_sum(std::span<const float> data, std::span<float> part,
                                      std::span<const std::size_t> parts, const char* phase) {
  std::vector<float> sum(data.begin(), data.end());
  allreduce_sum(std::span<float>(sum), phase);
  const auto begin = sum.begin() + static_cast<std::ptrdiff_t>(parts[rank()]);
  std::copy(begin, begin + static_cast<std::ptrdiff_t>(part.size()), part.begin());
}

void Communicator::allgather_parts(std::span<float> data, std::span<const std::size_t> parts, const char* phase) {
  const std::size_t lo = parts[rank()], hi = parts[rank() + 1];
  std::fill(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(lo), 0.0f);
  std::fill(data.begin() + static_cast<std::ptrdiff_t>(hi), data.end(), 0.0f);
  allreduce_sum(data, phase);  // x + 0 is x: exact
}

std::unique_ptr<NodeSharedMemory> Communicator::allocate_node_shared(std::size_t, std::string& why_not) {
  why_not = "this communicator has no shared memory";
  return nullptr;
}

}  // namespace dptrain
