#pragma once
// Fault injection for tests of the failure paths under real mpirun. Set
//   DPTRAIN_FAULT="rank=R,step=S,kind=throw|nan|stall|kill"
// and rank R misbehaves at global training step S (0-based). Unset: does nothing.
#include <cstdint>
#include <optional>
#include <string>

namespace dptrain {

struct FaultPlan {
  int rank = -1;
  std::int64_t step = -1;
  std::string kind;  // throw | nan | stall | kill

  // Reads DPTRAIN_FAULT; throws ConfigError if it is set but malformed.
  static std::optional<FaultPlan> from_environment();
  // Called at the start of each step's computation; returns true if the gradient should be
  // poisoned with NaN. Throws (throw), sleeps forever (stall) or SIGKILLs the process (kill).
  bool fire(int rank, std::int64_t step) const;
};

}  // namespace dptrain
