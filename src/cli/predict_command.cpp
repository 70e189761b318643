#include <unistd.h>

#include <iomanip>
#include <iostream>

#include "commands.hpp"
#include "dptrain/checkpoint.hpp"
#include "dptrain/error.hpp"
#include "dptrain/evaluation.hpp"
#include "dptrain/hdf5.hpp"
#include "dptrain/prediction.hpp"

namespace dptrain::cli {
namespace {

struct PredictCommandOptions {
  PredictOptions predict;
  std::string data;
  bool stdin_mode = false;
  StreamOptions stream;
  std::string text_data;  // --text: the text converter's output the model was trained on
  double stall_timeout = 300;
};

// predict --stdin: one process reads standard input; stdout carries only predictions.
int run_stream(MpiCommunicator& comm, const PredictCommandOptions& c) {
  run_agreed(comm, [&] {
    if (comm.size() != 1)
      throw ConfigError("predict --stdin runs on one process; start it without mpirun or with "
                        "mpirun -np 1 (this run has " + std::to_string(comm.size()) + " ranks)");
    const Checkpoint model = load_checkpoint(c.predict.model);
    StreamOptions stream = c.stream;
    if (!c.text_data.empty())
      stream.text = read_text_settings(H5Reader(c.text_data), c.predict.data.features_name);
    else if (model.text)
      stream.text = model.text;  // trained on text: lines are raw text
    predict_stream(model.spec, model.params, STDIN_FILENO, std::cout, stream);
  });
  return 0;
}

int run_to_file(MpiCommunicator& comm, const PredictCommandOptions& c) {
  PredictOptions o = c.predict;
  comm.set_stall_timeout(c.stall_timeout);
  run_agreed(comm, [&] {
    if (c.data.empty()) throw ConfigError("predict needs --data (or --stdin)");
    if (o.out.empty()) throw ConfigError("predict needs --out (or --stdin)");
    o.data.files = expand_file_list(c.data);
  });
  const PredictReport r = predict_to_file(o, comm);
  if (comm.rank() == 0)
    std::cout << "dptrain: wrote " << r.rows << " predictions (" << r.spec.describe() << ") to "
              << o.out << " [" << r.format << "] in " << std::fixed << std::setprecision(3)
              << r.seconds << " s: " << std::setprecision(0)
              << static_cast<double>(r.rows) / std::max(r.seconds, 1e-9) << " predictions/s on "
              << comm.size() << " rank(s) x " << o.threads << " thread(s) (read "
              << std::setprecision(3) << r.read_seconds << " s, score " << r.score_seconds
              << " s, gather+write " << r.write_seconds << " s)" << std::endl;
  return 0;
}

}  // namespace

void add_predict_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand(
      "predict", "Write a trained model's predictions for every row of HDF5 data (run under "
                 "mpirun), or answer CSV rows from standard input (--stdin)");
  auto c = std::make_shared<PredictCommandOptions>();
  PredictOptions& o = c->predict;
  cmd->add_option("--model,-m", o.model, "Checkpoint (model) file written by dptrain train")
      ->required();
  auto* data = cmd->add_option("--data,-d", c->data, "Input HDF5 file(s): a.h5,b.h5 or a glob (labels not needed)");
  auto* out = cmd->add_option("--out,-o", o.out, "Output file: HDF5, or CSV (--out-format csv, or a name ending in .csv)");
  auto* format = cmd->add_option("--out-format", o.out_format,
                                 "auto (csv when --out ends in .csv, else h5) | h5 | csv")
                     ->capture_default_str();
  cmd->add_option("--features-name", o.data.features_name, "Features dataset [N, D], or a CSR group (anndata layout)")
      ->capture_default_str();
  add_threads_option(cmd, o.threads);
  auto* block = cmd->add_option("--block-rows", o.block_rows,
                                "Rows each rank reads and scores, and sends to rank 0, at a time")
                    ->capture_default_str();
  cmd->add_option("--memory-budget", o.memory_budget,
                  "MiB of data a rank reads at a time (caps --block-rows); 0: half the node's RAM / ranks on it")
      ->capture_default_str();
  auto* stdin_flag = cmd->add_flag("--stdin", c->stdin_mode,
                                   "Read CSV feature rows (raw text lines for a model trained on convert --from text "
                                   "data) from standard input and write one prediction line per row to standard "
                                   "output (one process)");
  cmd->add_option("--batch-lines", c->stream.batch_lines,
                  "--stdin: score at most this many available lines together")
      ->capture_default_str();
  auto* text = cmd->add_option("--text", c->text_data,
                               "--stdin: lines are raw text (or label<TAB>text), featurised as convert --from text "
                               "did for this file (the training data); not needed for models that store the settings");
  cmd->add_option("--stall-timeout", c->stall_timeout,
                  "Seconds to wait for a rank in a collective or transfer before aborting the "
                  "job (0: forever)")
      ->check(stall_timeout_seconds())
      ->capture_default_str();
  stdin_flag->excludes(data)->excludes(out)->excludes(format)->excludes(block);
  text->needs(stdin_flag);
  cmd->callback([&run, c] {
    c->stream.threads = c->predict.threads;
    run = [c](MpiCommunicator& comm) {
      return c->stdin_mode ? run_stream(comm, *c) : run_to_file(comm, *c);
    };
  });
}

}  // namespace dptrain::cli
