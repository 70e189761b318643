// Defaults of the optional point-to-point operations of Communicator.
#include "dptrain/communicator.hpp"

#include "dptrain/error.hpp"

namespace dptrain {

void Communicator::send(std::span<const float>, int, const char* phase) {
  throw CommunicationError(std::string(phase) + ": this communicator has no point-to-point send");
}

void Communicator::recv(std::span<float>, int, const char* phase) {
  throw CommunicationError(std::string(phase) + ": this communicator has no point-to-point recv");
}

}  // namespace dptrain
