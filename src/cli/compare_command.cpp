// `dptrain compare`: checkpoints, prediction files or metrics files against a reference.
// Exit codes as cmp/diff: 0 within tolerance, 1 beyond it (or describing different models),
// 2 trouble (a file cannot be read, bad options). Rank 0 compares; every rank exits alike.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "dptrain/compare.hpp"
#include "dptrain/error.hpp"
#include "dptrain/metrics_compare.hpp"

namespace dptrain::cli {
namespace {

struct CompareCommandOptions {
  std::vector<std::string> files;
  bool metrics = false;
  CompareOptions compare;
  std::vector<std::string> ignore;
};

int compare_on_rank0(const CompareCommandOptions& c) {
  const Tolerance& tol = c.compare.tolerance;
  try {
    if (!(tol.rtol >= 0) || !(tol.atol >= 0) || !std::isfinite(tol.rtol) || !std::isfinite(tol.atol))
      throw ConfigError("--rtol and --atol must be finite and >= 0");
    const std::string& a = c.files[0];
    const std::string& b = c.files[1];
    if (c.metrics) {
      MetricsCompareOptions o;
      o.tolerance = tol;
      o.top = c.compare.top;
      o.ignore.insert(o.ignore.end(), c.ignore.begin(), c.ignore.end());
      const MetricsComparison r = compare_metrics_files(a, b, o);
      std::cout << format_metrics_comparison(r, a, b, tol) << std::flush;
      return r.within_tolerance() ? 0 : 1;
    }
    if (!c.ignore.empty()) throw ConfigError("--ignore applies to --metrics comparisons only");
    const FileComparison r = compare_files(a, b, c.compare);
    std::cout << format_comparison(r, a, b, tol) << std::flush;
    return r.within_tolerance() ? 0 : 1;
  } catch (const Error& e) {
    std::cout.flush();
    std::fprintf(stderr, "dptrain compare: error: %s\n", e.what());
    return 2;
  }
}

}  // namespace

void add_compare_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand(
      "compare",
      "Compare two checkpoints or prediction files value by value (layer by layer, PyTorch names), or with "
      "--metrics two metrics JSONL files record by record; exit 0 within tolerance, 1 beyond it, 2 on errors");
  auto c = std::make_shared<CompareCommandOptions>();
  cmd->add_option("files", c->files, "A B: the reference first (A.h5 B.h5, or BASE.jsonl NEW.jsonl with --metrics)")
      ->required()
      ->expected(2);
  cmd->add_option("--rtol", c->compare.tolerance.rtol,
                  "Relative tolerance: |a-b| <= max(atol, rtol * max(|a|,|b|)); --rtol 0 --atol 0: bitwise")
      ->capture_default_str();
  cmd->add_option("--atol", c->compare.tolerance.atol, "Absolute tolerance")->capture_default_str();
  cmd->add_flag("--metrics", c->metrics, "Compare metrics files (JSON Lines from train --metrics or eval --json)");
  cmd->add_option("--ignore", c->ignore,
                  "--metrics: more fields not to compare, comma-separated (timings, throughput, memory and "
                  "rank/thread counts are never compared)")
      ->delimiter(',');
  cmd->add_option("--top", c->compare.top, "How many of the largest differences to list")->capture_default_str();
  cmd->add_flag("--params-only", c->compare.params_only,
                "Checkpoints: compare the model only, not the optimizer state and training counters");
  cmd->callback([&run, c] {
    run = [c](MpiCommunicator& comm) {
      std::string code = "2";
      if (comm.rank() == 0) code = std::to_string(compare_on_rank0(*c));
      comm.broadcast(code, 0);
      return std::stoi(code);
    };
  });
}

}  // namespace dptrain::cli
