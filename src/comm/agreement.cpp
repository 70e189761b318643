#include <limits>

#include "dptrain/communicator.hpp"
#include "dptrain/error.hpp"

namespace dptrain {

std::optional<AgreedFailure> agree_on_failure(Communicator& comm,
                                              const std::optional<std::string>& local_error) {
  // max of (-rank) over failing ranks picks the lowest failing rank; non-failing ranks
  // contribute -size, which loses to any failing rank.
  double lowest[1] = {local_error ? -static_cast<double>(comm.rank())
                                  : -static_cast<double>(comm.size())};
  comm.allreduce_max(lowest, "failure agreement");
  const int failed = static_cast<int>(-lowest[0]);
  if (failed >= comm.size()) return std::nullopt;
  std::string message = comm.rank() == failed ? *local_error : std::string();
  comm.broadcast(message, failed);
  return AgreedFailure{failed, message};
}

void run_agreed(Communicator& comm, const std::function<void()>& work) {
  std::optional<std::string> error;
  try {
    work();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (auto failure = agree_on_failure(comm, error)) {
    throw CollectiveFailure(failure->rank, failure->message);
  }
}

}  // namespace dptrain
