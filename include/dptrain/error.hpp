#pragma once
// One error model: exceptions with precise messages inside a rank; the rank boundary
// (see communicator.hpp: agree_on_failure) turns them into one agreed collective failure.
#include <stdexcept>
#include <string>

#include "dptrain/exit_codes.hpp"

namespace dptrain {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad option or option combination; the message names the option.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Bad input data; the message names the file, dataset, row and what was expected.
class DataError : public Error {
 public:
  using Error::Error;
};

class CheckpointError : public Error {
 public:
  using Error::Error;
};

// A collective or transfer failed (an MPI call, or a peer of the in-process communicator);
// the message names the call or phase.
class CommunicationError : public Error {
 public:
  using Error::Error;
};

// A broken internal precondition (a bug in dptrain, not bad input).
class InternalError : public Error {
 public:
  using Error::Error;
};

// A failure that every rank has already agreed on; carries the failing rank's message and
// the exit code every rank ends with. Throwing it needs no further communication.
class CollectiveFailure : public Error {
 public:
  CollectiveFailure(int failed_rank, const std::string& message, int exit_code = kExitRuntimeError)
      : Error(message), failed_rank_(failed_rank), exit_code_(exit_code) {}
  int failed_rank() const { return failed_rank_; }
  int exit_code() const { return exit_code_; }

 private:
  int failed_rank_;
  int exit_code_;
};

// The exit code an error ends the process with: usage (2) for a ConfigError, the agreed code
// of a CollectiveFailure, otherwise a runtime error (1).
inline int exit_code_for(const std::exception& e) {
  if (const auto* agreed = dynamic_cast<const CollectiveFailure*>(&e)) return agreed->exit_code();
  if (dynamic_cast<const ConfigError*>(&e)) return kExitUsage;
  return kExitRuntimeError;
}

}  // namespace dptrain
