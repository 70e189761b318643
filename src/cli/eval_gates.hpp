#pragma once
// The CI side of `dptrain eval`: --fail-under / --fail-over thresholds and the --junit
// report. Usage errors exit 2, failed thresholds exit 1, on every rank alike.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dptrain/junit.hpp"
#include "dptrain/mpi_communicator.hpp"
#include "dptrain/thresholds.hpp"

namespace dptrain::cli {

struct EvalGateOutcome {
  int exit_code = 0;  // 0 passed, 1 a threshold failed, 2 a threshold does not apply
  std::string usage_error;
  std::vector<ThresholdResult> results;
  // Rank 0: prints one line per threshold ("dptrain: PASS: ..." or "dptrain: FAIL: ...") after
  // the table on stdout, or on stderr when stdout carries JSON; returns the exit code.
  int report(bool to_stderr) const;
};

class EvalGates {
 public:
  void add_options(CLI::App& cmd);
  // Before the evaluation: parses the thresholds. Returns 2 on every rank (rank 0 prints the
  // message) when they are malformed or name an unknown metric, else 0.
  int parse(const MpiCommunicator& comm);
  // After the evaluation, on every rank: checks the thresholds on rank 0, agrees on the exit
  // code, and writes the JUnit file atomically on rank 0 (a write error fails every rank).
  EvalGateOutcome check(MpiCommunicator& comm, const EvalResult& result, const EvalRun& run) const;

 private:
  std::string fail_under_, fail_over_, junit_;
  std::vector<Threshold> thresholds_;
};

}  // namespace dptrain::cli
