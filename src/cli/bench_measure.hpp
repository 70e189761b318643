#pragma once
// What `dptrain bench` measures, on one rank: the GEMM roof of a training step's real products,
// and the step itself (normal and --deterministic). Every timing is the best and the median of
// many repetitions after a warm-up, so a loaded machine shifts the median but rarely the best.
#include <cstdint>

#include "dptrain/model.hpp"

namespace dptrain::cli {

struct Timing {
  double best = 0, median = 0;  // seconds per repetition
  double mean = 0;              // all repetitions' time over their count: what a long run sustains
  long reps = 0;
};

// Floating-point operations of one training step per sample, counted exactly: forward
// (2 x in x out + out per layer), weight and bias gradient (2 x in x out + out per layer) and
// the input gradient of every layer but the first (2 x in x out), which nothing needs.
double step_flops_per_sample(const ModelSpec& spec);

// The products of one step at `rows` rows (the ones step_flops_per_sample counts, without the
// bias terms) on warm, reused matrices; `minor_faults` receives the page faults taken while
// timing (0 when nothing is allocated and returned to the system per product). `eigen`: with
// Eigen's GEMM; otherwise with the one the model uses (detail::gemm: oneDNN's when built in).
Timing step_gemm(const ModelSpec& spec, std::int64_t rows, double min_s, long& minor_faults, bool eigen = false);
double step_gemm_flops(const ModelSpec& spec, std::int64_t rows);

// One rank's gradient of `rows` rows on `threads` threads: the normal step (ParallelGradient)
// and the --deterministic one (micro-block plan, fixed-point block gradients, conversion back).
Timing gradient_step(const ModelSpec& spec, std::int64_t rows, int threads, bool deterministic, double min_s);

// Seconds per forward pass of `spec` at `rows` rows on one thread, as predict and serve run it.
Timing forward_pass(const ModelSpec& spec, std::int64_t rows, double min_s);

}  // namespace dptrain::cli
