#pragma once
// Fault injection for tests of the failure paths under real mpirun. Set
//   DPTRAIN_FAULT="rank=R,step=S,kind=throw|nan|nan-gradient|stall|kill|sigterm|sigusr1|sigint|sigint2"
// and rank R misbehaves at global training step S (0-based): throws, poisons its batch with
// NaN (so its loss is NaN too), puts one NaN into its gradient after backprop (its loss stays
// finite), sleeps forever, SIGKILLs itself, or sends itself real signals (sigint2: SIGINT twice).
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
  enum class Poison { none, batch, gradient };
  // Called at the start of each step's computation; returns what to poison with NaN.
  Poison fire(int rank, std::int64_t step) const;
};

}  // namespace dptrain
