#include "eval_gates.hpp"

#include <cstdio>
#include <iostream>

#include "commands.hpp"

namespace dptrain::cli {

void EvalGates::add_options(CLI::App& cmd) {
  cmd.add_option("--fail-under", fail_under_,
                 "Exit 1 when a metric is below its limit: accuracy=0.85,f1_macro=0.8,recall.3=0.7");
  cmd.add_option("--fail-over", fail_over_, "Exit 1 when a metric is above its limit: loss=0.4,mse=0.1");
  cmd.add_option("--junit", junit_,
                 "Write a JUnit XML report (one case per threshold and per class or target) to this file");
}

int EvalGates::parse(const MpiCommunicator& comm) {
  try {
    thresholds_.clear();
    for (const auto& [text, bound] : {std::pair{fail_under_, Bound::Under}, std::pair{fail_over_, Bound::Over}}) {
      if (text.empty()) continue;
      const auto parsed = parse_thresholds(text, bound);
      thresholds_.insert(thresholds_.end(), parsed.begin(), parsed.end());
    }
  } catch (const ThresholdUsageError& e) {
    if (comm.rank() == 0) std::fprintf(stderr, "dptrain eval: usage error: %s\n", e.what());
    return 2;
  }
  return 0;
}

EvalGateOutcome EvalGates::check(MpiCommunicator& comm, const EvalResult& result, const EvalRun& run) const {
  EvalGateOutcome g;
  std::string code = "0";
  if (comm.rank() == 0) {
    try {
      g.results = check_thresholds(result.metrics, thresholds_);
      for (const auto& r : g.results) g.exit_code = r.passed ? g.exit_code : 1;
    } catch (const ThresholdUsageError& e) {
      g.usage_error = e.what();
      g.exit_code = 2;
    }
    code = std::to_string(g.exit_code);
  }
  // The metrics are the same on every rank, but rank 0 alone decides, so all exit alike.
  comm.broadcast(code, 0);
  g.exit_code = std::stoi(code);
  if (!junit_.empty() && g.exit_code != 2) {
    run_on_rank0(comm, [&] { write_junit_file(junit_, eval_junit_suite(result, run, g.results)); });
  }
  return g;
}

int EvalGateOutcome::report(bool to_stderr) const {
  std::FILE* out = to_stderr ? stderr : stdout;
  std::cout.flush();
  if (!usage_error.empty()) std::fprintf(stderr, "dptrain eval: usage error: %s\n", usage_error.c_str());
  for (const auto& r : results)
    std::fprintf(out, "dptrain: %s %s\n", r.passed ? "PASS:" : "FAIL:", r.message().c_str());
  std::fflush(out);
  return exit_code;
}

}  // namespace dptrain::cli
