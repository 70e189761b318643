// `dptrain bench gemm`: the roofline the benchmarks compare against — Eigen's single-thread
// float GEMM on the shapes of one MLP training step, or (--forward) one forward pass.
#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "dptrain/clock.hpp"
#include "dptrain/error.hpp"
#include "dptrain/json.hpp"
#include "dptrain/evaluation.hpp"
#include "dptrain/model.hpp"

namespace dptrain::cli {
namespace {

using Mat = Eigen::MatrixXf;

// GFLOP/s of the three products of a dense layer's step (forward, weight gradient, input
// gradient) for every layer of `spec` at `rows` rows, measured over at least `min_s`.
double step_gemm_gflops(const ModelSpec& spec, std::int64_t rows, double min_s) {
  std::vector<Mat> w, a, z, d, gw;
  for (std::size_t l = 0; l < spec.layers(); ++l) {
    w.push_back(Mat::Random(spec.widths[l + 1], spec.widths[l]));
    gw.push_back(Mat::Zero(spec.widths[l + 1], spec.widths[l]));
    a.push_back(Mat::Random(spec.widths[l], rows));
    z.push_back(Mat::Zero(spec.widths[l + 1], rows));
    d.push_back(Mat::Zero(spec.widths[l], rows));
  }
  double flops = 0;
  long reps = 0;
  const double start = now_seconds();
  while (now_seconds() - start < min_s || reps < 3) {
    for (std::size_t l = 0; l < spec.layers(); ++l) {
      z[l].noalias() = w[l] * a[l];
      gw[l].noalias() = z[l] * a[l].transpose();
      d[l].noalias() = w[l].transpose() * z[l];
      flops += 6.0 * static_cast<double>(spec.widths[l] * spec.widths[l + 1] * rows);
    }
    ++reps;
  }
  return flops / (now_seconds() - start) / 1e9;
}

// Seconds per forward pass of `spec` at `rows` rows on one thread, as predict and serve run it
// (Scorer::score): the floor under one batch's answer, whatever the protocol around it.
double forward_seconds(const ModelSpec& spec, std::int64_t rows, double min_s) {
  Scorer scorer(spec, initial_parameters(spec, 1), 1, rows);
  std::vector<float> x(static_cast<std::size_t>(rows * spec.inputs()), 0.5f);
  std::vector<float> out(static_cast<std::size_t>(rows * spec.outputs()));
  long reps = 0;
  const double start = now_seconds();
  while (now_seconds() - start < min_s || reps < 3) {
    scorer.score(x.data(), rows, out.data());
    ++reps;
  }
  return (now_seconds() - start) / static_cast<double>(reps);
}

}  // namespace

void add_bench_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("bench", "Measure the single-core Eigen GEMM roofline for a model's step");
  auto model = std::make_shared<std::string>("mlp:256,128");
  auto features = std::make_shared<std::int64_t>(784);
  auto classes = std::make_shared<std::int64_t>(10);
  auto rows = std::make_shared<std::int64_t>(128);
  auto seconds = std::make_shared<double>(2.0);
  cmd->add_option("--model", *model, "Model whose layer shapes are measured")->capture_default_str();
  cmd->add_option("--features", *features, "Input width")->capture_default_str();
  cmd->add_option("--classes", *classes, "Output width")->capture_default_str();
  cmd->add_option("--rows", *rows, "Rows per product (a rank's share of the batch)")->capture_default_str();
  cmd->add_option("--seconds", *seconds, "Measuring time")->capture_default_str();
  auto forward = std::make_shared<bool>(false);
  cmd->add_flag("--forward", *forward,
                "Time one forward pass (as predict and serve score a batch) instead of a training step's GEMMs");
  cmd->callback([=, &run] {
    run = [=](MpiCommunicator& comm) {
      return run_on_rank0(comm, [=] {
        Eigen::setNbThreads(1);
        const ModelSpec spec = make_model_spec(*model, *features, *classes,
                                               LossKind::SoftmaxCrossEntropy, Activation::ReLU);
        if (*forward) {
          const double s = forward_seconds(spec, *rows, *seconds);
          std::cout << to_json_line({{"model", spec.describe()}, {"rows", *rows}, {"forward_seconds", s},
                                     {"rows_per_second", std::round(static_cast<double>(*rows) / s)}})
                    << std::endl;
          return;
        }
        const double gflops = step_gemm_gflops(spec, *rows, *seconds);
        const double rounded = std::round(gflops * 100) / 100;  // 2 decimals, as ever
        std::cout << to_json_line({{"model", spec.describe()}, {"rows", *rows}, {"gemm_gflops_per_core", rounded}})
                  << std::endl;
      });
    };
  });
}

}  // namespace dptrain::cli
