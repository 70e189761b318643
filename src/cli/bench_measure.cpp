#include "bench_measure.hpp"

#include <sys/resource.h>

#include <Eigen/Core>
#include <algorithm>
#include <functional>
#include <vector>

#include "dptrain/clock.hpp"
#include "dptrain/communicator.hpp"
#include "dptrain/shard.hpp"
#include "dptrain/scorer.hpp"
#include "model/gemm.hpp"
#include "train/deterministic_blocks.hpp"
#include "train/parallel_gradient.hpp"

namespace dptrain::cli {
namespace {

using Mat = Eigen::MatrixXf;

// Runs `rep` once untimed, then repeatedly for at least `min_s` (and 5 times).
Timing time_reps(const std::function<void()>& rep, double min_s) {
  rep();
  std::vector<double> times;
  const double start = now_seconds();
  while (now_seconds() - start < min_s || times.size() < 5) {
    const double t0 = now_seconds();
    rep();
    times.push_back(now_seconds() - t0);
  }
  double total = 0;
  for (const double t : times) total += t;
  std::sort(times.begin(), times.end());
  return {times.front(), times[times.size() / 2], total / static_cast<double>(times.size()),
          static_cast<long>(times.size())};
}

long minor_faults_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

}  // namespace

double step_flops_per_sample(const ModelSpec& spec) {
  double flops = 0;
  for (std::size_t l = 0; l < spec.layers(); ++l) {
    const double in = static_cast<double>(spec.widths[l]), out = static_cast<double>(spec.widths[l + 1]);
    flops += 2 * (2 * in * out + out);     // forward with bias; weight and bias gradient
    if (l > 0) flops += 2 * in * out;      // input gradient (not for the first layer)
  }
  return flops;
}

double step_gemm_flops(const ModelSpec& spec, std::int64_t rows) {
  double flops = 0;
  for (std::size_t l = 0; l < spec.layers(); ++l)
    flops += (l > 0 ? 6.0 : 4.0) * static_cast<double>(spec.widths[l] * spec.widths[l + 1] * rows);
  return flops;
}

Timing step_gemm(const ModelSpec& spec, std::int64_t rows, double min_s, long& minor_faults, bool eigen) {
  std::vector<Mat> w, a, z, d, gw;
  for (std::size_t l = 0; l < spec.layers(); ++l) {
    w.push_back(Mat::Random(spec.widths[l + 1], spec.widths[l]));
    gw.push_back(Mat::Zero(spec.widths[l + 1], spec.widths[l]));
    a.push_back(Mat::Random(spec.widths[l], rows));
    z.push_back(Mat::Zero(spec.widths[l + 1], rows));
    d.push_back(Mat::Zero(spec.widths[l], rows));
  }
  auto rep = [&] {
    for (std::size_t l = 0; l < spec.layers(); ++l) {
      const Eigen::Index in = spec.widths[l], out = spec.widths[l + 1];
      if (eigen) {
        z[l].noalias() = w[l] * a[l];
        gw[l].noalias() = z[l] * a[l].transpose();
        if (l > 0) d[l].noalias() = w[l].transpose() * z[l];
        continue;
      }
      detail::gemm(false, false, out, rows, in, w[l].data(), out, a[l].data(), in, z[l].data(), out);
      detail::gemm(false, true, out, in, rows, z[l].data(), out, a[l].data(), in, gw[l].data(), out);
      if (l > 0) detail::gemm(true, false, in, rows, out, w[l].data(), out, z[l].data(), out, d[l].data(), in);
    }
  };
  rep();  // warm: the allocator now holds the packing blocks' sizes
  const long before = minor_faults_now();
  const Timing t = time_reps(rep, min_s);
  minor_faults = minor_faults_now() - before;
  return t;
}

Timing gradient_step(const ModelSpec& spec, std::int64_t rows, int threads, bool deterministic, double min_s) {
  Random rng(7);
  AlignedVector<float> x(static_cast<std::size_t>(rows * spec.inputs())), y(static_cast<std::size_t>(rows));
  for (auto& v : x) v = static_cast<float>(rng.uniform());
  for (auto& v : y) v = static_cast<float>(rng.below(static_cast<std::uint64_t>(spec.outputs())));
  std::vector<std::int64_t> ids(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) ids[static_cast<std::size_t>(i)] = (i * 7919) % rows;  // unsorted
  const AlignedVector<float> params = initial_parameters(spec, 1);
  const std::size_t n = spec.num_params();
  AlignedVector<float> grad(n);
  std::vector<std::int64_t> fixed(n + 1);
  ParallelGradient gradient(spec, threads, rows);
  auto group = make_local_group(1);
  DeterministicBlocks blocks(spec.inputs(), spec.label_cols());
  auto rep = [&] {
    if (!deterministic) {
      gradient.compute(params.data(), x.data(), y.data(), rows, grad.data());
      return;
    }
    blocks.plan(*group[0], {rows, x.data(), y.data(), ids.data()}, false);
    gradient.compute_fixed(params.data(), blocks.blocks(), fixed.data());
    for (std::size_t i = 0; i < n; ++i) grad[i] = static_cast<float>(fixed[i] * (1.0 / ParallelGradient::kFixedOne));
  };
  return time_reps(rep, min_s);
}

Timing forward_pass(const ModelSpec& spec, std::int64_t rows, double min_s) {
  Scorer scorer(spec, initial_parameters(spec, 1), 1, rows);
  std::vector<float> x(static_cast<std::size_t>(rows * spec.inputs()), 0.5f);
  std::vector<float> out(static_cast<std::size_t>(rows * spec.outputs()));
  return time_reps([&] { scorer.score(x.data(), rows, out.data()); }, min_s);
}

}  // namespace dptrain::cli
