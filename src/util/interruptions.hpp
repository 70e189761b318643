#pragma once
// How much of its core the machine takes from a running thread. A loop that only reads the clock
// sees every timer tick, hypervisor exit or other task as a gap between two reads; their sum over
// the time measured is the share of the core nothing running there can use. On this project's
// 2-core VM: a gap of 44-53 us on every 1 kHz tick, on both cores at the same instant, and one of
// 60-160 us about every 4 ms, so 5.5-8.7% of each core (BENCHMARKS.md, "The machine's own share of
// each core").
// A roof taken as a GEMM's best repetition is a window that no gap fell into; a long run pays them.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "dptrain/clock.hpp"

namespace dptrain {

struct Interruptions {
  double seconds = 0;      // measured
  double share = 0;        // of those seconds, inside gaps
  double per_second = 0;   // gaps
  double median_gap_s = 0;
};

// Reads `now()` (seconds) for `seconds`; a step between two reads of at least `min_gap_s` is a gap.
template <class Now>
Interruptions count_interruptions(Now&& now, double seconds, double min_gap_s = 10e-6) {
  std::vector<double> gaps;
  const double start = now();
  double last = start;
  while (last - start < seconds) {
    const double t = now();
    if (t - last >= min_gap_s) gaps.push_back(t - last);
    last = t;
  }
  Interruptions r;
  r.seconds = last - start;
  if (r.seconds <= 0) return r;
  double lost = 0;
  for (const double g : gaps) lost += g;
  r.share = lost / r.seconds;
  r.per_second = static_cast<double>(gaps.size()) / r.seconds;
  if (!gaps.empty()) {
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
    r.median_gap_s = gaps[gaps.size() / 2];
  }
  return r;
}

inline Interruptions count_interruptions(double seconds) {
  return count_interruptions([] { return now_seconds(); }, seconds);
}

}  // namespace dptrain
