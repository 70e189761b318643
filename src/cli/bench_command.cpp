// `dptrain bench`: the roofline the benchmarks compare against — the single-thread float GEMM
// the model uses (oneDNN's when built in; Eigen's is reported beside it) on the real products of
// one training step, warm and without per-product page faults —
// or (--step) one rank's gradient step, normal and --deterministic, or (--forward) one forward
// pass. See bench_measure.hpp for what each counts.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "bench_measure.hpp"
#include "commands.hpp"
#include "dptrain/json.hpp"
#include "dptrain/model.hpp"
#include "model/gemm.hpp"
#include "util/interruptions.hpp"

namespace dptrain::cli {

void add_bench_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand(
      "bench", "Measure the single-core GEMM roofline for a model's step (the model's GEMM and Eigen's)");
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
  auto step = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(1);
  cmd->add_flag("--forward", *forward,
                "Time one forward pass (as predict and serve score a batch) instead of a training step's GEMMs");
  cmd->add_flag("--step", *step,
                "Time one rank's gradient step at --rows rows, normal and --deterministic, instead of the GEMMs");
  cmd->add_option("--threads", *threads, "Threads for --step")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->callback([=, &run] {
    run = [=](MpiCommunicator& comm) {
      return run_on_rank0(comm, [=] {
        Eigen::setNbThreads(1);
        const ModelSpec spec = make_model_spec(*model, *features, *classes,
                                               LossKind::SoftmaxCrossEntropy, Activation::ReLU);
        auto ms = [](double s) { return std::round(s * 1e6) / 1e3; };
        if (*forward) {
          const Timing t = forward_pass(spec, *rows, *seconds);
          std::cout << to_json_line({{"model", spec.describe()}, {"rows", *rows}, {"forward_seconds", t.median},
                                     {"rows_per_second", std::round(static_cast<double>(*rows) / t.median)}})
                    << std::endl;
          return;
        }
        if (*step) {
          const Timing normal = gradient_step(spec, *rows, *threads, false, *seconds / 2);
          const Timing fixed = gradient_step(spec, *rows, *threads, true, *seconds / 2);
          std::cout << to_json_line({{"model", spec.describe()}, {"rows", *rows}, {"threads", *threads},
                                     {"step_ms", ms(normal.best)}, {"step_ms_median", ms(normal.median)},
                                     {"deterministic_step_ms", ms(fixed.best)},
                                     {"deterministic_step_ms_median", ms(fixed.median)},
                                     {"deterministic_ratio", std::round(fixed.best / normal.best * 100) / 100}})
                    << std::endl;
          return;
        }
        const Interruptions lost = count_interruptions(std::min(1.0, *seconds / 2));
        long faults = 0, eigen_faults = 0;
        const Timing t = step_gemm(spec, *rows, *seconds * 2 / 3, faults);
        const Timing eigen = step_gemm(spec, *rows, *seconds / 3, eigen_faults, true);
        const double flops = step_gemm_flops(spec, *rows);
        auto gflops = [&](double s) { return std::round(flops / s / 1e7) / 100; };  // 2 decimals
        std::cout << to_json_line({{"model", spec.describe()}, {"rows", *rows}, {"gemm", detail::gemm_backend()},
                                   {"gemm_gflops_per_core", gflops(t.best)}, {"gemm_gflops_median", gflops(t.median)},
                                   {"gemm_gflops_sustained", gflops(t.mean)},
                                   {"interrupted_share", std::round(lost.share * 1e4) / 1e4},
                                   {"interruptions_per_second", std::round(lost.per_second)},
                                   {"interruption_median_us", std::round(lost.median_gap_s * 1e7) / 10},
                                   {"eigen_gemm_gflops_per_core", gflops(eigen.best)},
                                   {"step_flops_per_sample", step_flops_per_sample(spec)},
                                   {"page_faults_per_rep", static_cast<double>(faults) / static_cast<double>(t.reps)}})
                  << std::endl;
      });
    };
  });
}

}  // namespace dptrain::cli
