#pragma once
// The one clock for timings (epoch reports, timelines, eval/predict reports): monotonic seconds.
#include <chrono>

namespace dptrain {

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace dptrain
