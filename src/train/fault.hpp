#pragma once
// Fault injection for tests of the failure paths under real mpirun. Set
//   DPTRAIN_FAULT="rank=R,step=S,kind=throw|nan|stall|kill|sigterm|sigusr1|sigint|sigint2"
// and rank R misbehaves at global training step S (0-based): throws, poisons its batch with
// NaN, sleeps forever, SIGKILLs itself, or sends itself real signals (sigint2: SIGINT twice).
// step=load fires while the training data loads, before the first step.
// Unset: does nothing.
#include <cstdint>
#include <optional>
#include <string>

namespace dptrain {

struct FaultPlan {
  static constexpr std::int64_t kDuringLoad = -2;  // step=load
  int rank = -1;
  std::int64_t step = -1;
  std::string kind;

  // Reads DPTRAIN_FAULT; throws ConfigError if it is set but malformed.
  static std::optional<FaultPlan> from_environment();
  // Called at the start of each step's computation; returns true if the gradient should be
  // poisoned with NaN.
  bool fire(int rank, std::int64_t step) const;
};

}  // namespace dptrain
