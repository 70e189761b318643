#include <iomanip>
#include <iostream>

#include "commands.hpp"
#include "eval_gates.hpp"
#include "dptrain/error.hpp"
#include "dptrain/evaluation.hpp"
#include "dptrain/json.hpp"

namespace dptrain::cli {
namespace {

struct EvalCommandOptions {
  EvalOptions eval;
  std::string data;
  bool json = false;
  double stall_timeout = 300;
  EvalGates gates;  // --fail-under, --fail-over, --junit
};

}  // namespace

void add_eval_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand(
      "eval", "Score a trained model on labelled HDF5 data: loss, accuracy, per-class precision/"
              "recall/F1 and confusion matrix, or MSE/MAE/R^2 (run under mpirun)");
  auto c = std::make_shared<EvalCommandOptions>();
  EvalOptions& o = c->eval;
  cmd->add_option("--model,-m", o.model, "Checkpoint (model) file written by dptrain train")
      ->required();
  cmd->add_option("--data,-d", c->data, "Labelled HDF5 file(s): a.h5,b.h5 or a glob")->required();
  cmd->add_option("--features-name", o.data.features_name, "Features dataset [N, D], or a CSR group (anndata layout)")
      ->capture_default_str();
  cmd->add_option("--labels-name", o.data.labels_name, "Labels dataset [N] or [N, K]")
      ->capture_default_str();
  add_threads_option(cmd, o.threads);
  cmd->add_option("--block-rows", o.block_rows, "Rows each rank reads and scores at a time")
      ->capture_default_str();
  cmd->add_option("--val-fraction", o.val_fraction,
                  "Score only the rows `train --val-fraction F --seed S` held out (with the same --seed)")
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "With --val-fraction: the training run's --seed")->capture_default_str();
  cmd->add_option("--memory-budget", o.memory_budget,
                  "MiB of data a rank reads at a time (caps --block-rows); 0: half the node's RAM / ranks on it")
      ->capture_default_str();
  cmd->add_flag("--json", c->json, "Print one JSON object instead of the table");
  cmd->add_option("--stall-timeout", c->stall_timeout,
                  "Seconds to wait for a rank in a collective before aborting the job (0: forever)")
      ->check(stall_timeout_seconds())
      ->capture_default_str();
  c->gates.add_options(*cmd);
  cmd->callback([&run, c] {
    run = [c](MpiCommunicator& comm) {
      EvalOptions o = c->eval;
      comm.set_stall_timeout(c->stall_timeout);
      if (const int usage = c->gates.parse(comm)) return usage;
      run_agreed(comm, [&] { o.data.files = expand_file_list(c->data); });
      const EvalResult r = evaluate(o, comm);
      const EvalGateOutcome gates = c->gates.check(comm, r, {o.model, o.data.files, comm.size(), o.threads});
      if (comm.rank() != 0) return gates.exit_code;
      if (c->json) {
        Json report = {{"model", o.model}, {"model_description", r.spec.describe()}, {"data", o.data.files},
                       {"ranks", comm.size()}, {"threads", o.threads}, {"seconds", r.seconds}};
        report.update(to_json_value(r.metrics));
        std::cout << to_json_line(report) << std::endl;
        return gates.report(true);
      }
      std::cout << "model     " << o.model << " (" << r.spec.describe() << ")\n";
      std::cout << "data      ";
      for (std::size_t i = 0; i < o.data.files.size(); ++i) std::cout << (i ? "," : "") << o.data.files[i];
      std::cout << "  (" << comm.size() << " rank(s) x " << o.threads << " thread(s), " << std::fixed
                << std::setprecision(3) << r.seconds << " s)\n"
                << format_table(r.metrics) << std::flush;
      return gates.report(false);
    };
  });
}

}  // namespace dptrain::cli
