#include <limits>

#include "dptrain/communicator.hpp"
#include "dptrain/error.hpp"

namespace dptrain {

std::optional<AgreedFailure> agree_on_failure(Communicator& comm,
                                              const std::optional<std::string>& local_error,
                                              int local_exit_code) {
  // max of (-rank) over failing ranks picks the lowest failing rank; non-failing ranks
  // contribute -size, which loses to any failing rank.
  double lowest[1] = {local_error ? -static_cast<double>(comm.rank())
                                  : -static_cast<double>(comm.size())};
  comm.allreduce_max(lowest, "failure agreement");
  const int failed = static_cast<int>(-lowest[0]);
  if (failed >= comm.size()) return std::nullopt;
  // The failing rank sends "<exit code> <message>" in one broadcast.
  std::string text = comm.rank() == failed ? std::to_string(local_exit_code) + " " + *local_error
                                           : std::string();
  comm.broadcast(text, failed);
  const std::size_t space = text.find(' ');
  return AgreedFailure{failed, text.substr(space + 1), std::stoi(text.substr(0, space))};
}

namespace {

[[noreturn]] void throw_agreed(const std::optional<AgreedFailure>& failure) {
  if (!failure) throw CollectiveFailure(0, "unknown failure");
  throw CollectiveFailure(failure->rank, failure->message, failure->exit_code);
}

}  // namespace

void agree_and_throw(Communicator& comm, const std::optional<std::string>& local_error) {
  throw_agreed(agree_on_failure(comm, local_error));
}

void run_agreed(Communicator& comm, const std::function<void()>& work) {
  std::optional<std::string> error;
  int code = kExitRuntimeError;
  try {
    work();
  } catch (const std::exception& e) {
    error = e.what();
    code = exit_code_for(e);
  }
  if (auto failure = agree_on_failure(comm, error, code)) throw_agreed(failure);
}

void throw_if_any_failed(Communicator& comm, const std::optional<std::string>& local_error) {
  if (auto failure = agree_on_failure(comm, local_error)) throw_agreed(failure);
}

void allreduce_or_throw(Communicator& comm, std::vector<double>& values,
                        const std::optional<std::string>& local_error, const char* phase) {
  values.resize(values.size() + kFlagSlots);
  const RankFlags flags = allreduce_flagged(comm, std::span<double>(values), {local_error.has_value(), false}, phase);
  values.resize(values.size() - kFlagSlots);
  if (flags.failed) agree_and_throw(comm, local_error);
}

}  // namespace dptrain
