#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "commands.hpp"
#include "config_file.hpp"
#include "dptrain/error.hpp"
#include "dptrain/stop_signal.hpp"
#include "dptrain/log.hpp"
#include "dptrain/trainer.hpp"
#include "util/terminal.hpp"

namespace dptrain::cli {
namespace {

struct TrainCommandOptions {
  TrainOptions train;
  std::string data, val;
  std::string config_file;
  double stall_timeout = 300;
  std::string progress = "auto";
  bool print_config = false;
  std::string overlap = "on";
  std::string log_level = "info";
  bool log_all_ranks = false;
  bool log_timestamps = false;
};

}  // namespace

void add_train_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("train", "Train a model on HDF5 data (run under mpirun)");
  auto c = std::make_shared<TrainCommandOptions>();
  TrainOptions& o = c->train;
  // A repeated option takes its last value, so scripts can append overrides.
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("--config", c->config_file,
                  "Read options from a TOML file: keys are the long option names (epochs = 5); "
                  "the command line overrides the file")
      ->configurable(false);
  cmd->add_flag("--print-config", c->print_config, "Print the effective options as TOML and exit")
      ->configurable(false);

  auto data = cmd->add_option_group("Data");
  data->add_option("--data,-d", c->data, "Training HDF5 file(s): a.h5,b.h5 or a glob (required)");
  data->add_option("--val", c->val, "Validation HDF5 file(s), evaluated after every epoch");
  data->add_option("--val-fraction", o.val_fraction,
                   "Hold out this fraction of the --data rows for validation (chosen by --seed; "
                   "the same rows for any rank count)")
      ->capture_default_str();
  data->add_flag("--skip-bad-rows", o.data.skip_bad_rows,
                 "Drop rows with NaN/Inf values or invalid class ids (counted and reported) "
                 "instead of failing");
  data->add_option("--memory-budget", o.memory_budget,
                   "MiB of data each rank may hold (fractions allowed); 0: half the node's RAM / ranks on the node")
      ->capture_default_str();
  data->add_option("--stream", o.stream,
                   "auto (stream from disk when a rank's shard exceeds --memory-budget) | on | off")
      ->capture_default_str();
  data->add_option("--order", o.order,
                   "Data order: auto (block when streaming, else stratified) | stratified | block")
      ->capture_default_str();
  data->add_option("--shuffle-window", o.shuffle_window,
                   "Blocks (~256 KiB each) the block order mixes at once; more mixes better, costs memory")
      ->capture_default_str();
  data->add_option("--features-name", o.data.features_name, "Features dataset [N, D], or a CSR group (anndata layout)")
      ->capture_default_str();
  data->add_option("--labels-name", o.data.labels_name, "Labels dataset [N] or [N, K]")
      ->capture_default_str();

  auto model = cmd->add_option_group("Model");
  model->add_option("--model,-m", o.model, "linear | logistic | softmax | mlp:H1,H2,...")
      ->capture_default_str();
  model->add_option("--activation", o.activation, "Hidden activation: relu | tanh | sigmoid")
      ->capture_default_str();
  model->add_option("--loss", o.loss,
                    "mlp output: auto (ce for integer labels, else mse) | ce | bce | mse")
      ->capture_default_str();
  model->add_option("--classes", o.classes, "Number of classes (0: max label + 1)")
      ->capture_default_str();
  model->add_option("--class-weight", o.class_weight,
                    "Weigh each class's training loss: balanced (n / (classes * count), as scikit-learn) "
                    "| w0,w1,...");

  auto opt = cmd->add_option_group("Optimisation");
  opt->add_option("--epochs,-e", o.epochs, "Passes over the data")->capture_default_str();
  opt->add_option("--batch,-b", o.batch, "Global minibatch size (split over ranks and threads)")
      ->capture_default_str();
  opt->add_option("--lr", o.schedule.lr, "Learning rate")->capture_default_str();
  opt->add_option("--lr-schedule", o.schedule.name, "constant | step | cosine")
      ->capture_default_str();
  opt->add_option("--warmup-epochs", o.schedule.warmup_epochs,
                  "Linear learning-rate warmup (fractional epochs allowed)")
      ->capture_default_str();
  opt->add_option("--lr-step-epochs", o.schedule.step_epochs, "step: decay every N epochs")
      ->capture_default_str();
  opt->add_option("--lr-gamma", o.schedule.gamma, "step: decay factor")->capture_default_str();
  opt->add_option("--min-lr", o.schedule.min_lr, "cosine: final learning rate")
      ->capture_default_str();
  opt->add_option("--optimizer", o.optimizer.name, "sgd | momentum | nesterov | adam | adamw | adagrad")
      ->capture_default_str();
  opt->add_option("--momentum", o.optimizer.momentum, "momentum/nesterov coefficient")
      ->capture_default_str();
  opt->add_option("--beta1", o.optimizer.beta1, "adam/adamw")->capture_default_str();
  opt->add_option("--beta2", o.optimizer.beta2, "adam/adamw")->capture_default_str();
  opt->add_option("--eps", o.optimizer.eps, "adam/adamw/adagrad: added to the denominator")->capture_default_str();
  opt->add_option("--weight-decay", o.optimizer.weight_decay,
                  "L2 weight decay (decoupled for adamw)")
      ->capture_default_str();
  opt->add_option("--l1", o.optimizer.l1,
                  "adagrad: L1 penalty; after each update a weight moves lr * l1 / (sqrt(acc) + eps) towards 0, "
                  "and stops at 0 (on CSR input only at the steps that touch it, as --weight-decay)")
      ->capture_default_str();
  opt->add_option("--clip-norm", o.clip_norm, "Clip the global gradient norm (0: off)")
      ->capture_default_str();
  opt->add_option("--early-stopping", o.early_stopping,
                  "Stop after N epochs without improvement of --early-stopping-metric on the validation "
                  "data (0: off)")
      ->capture_default_str();
  opt->add_option("--early-stopping-metric", o.early_stopping_metric, "val_loss (lower is better) | val_acc")
      ->capture_default_str();
  opt->add_flag("--keep-best", o.keep_best,
                "The final --checkpoint holds the parameters of the best validation epoch, not the last");
  opt->add_option("--seed", o.seed, "Seed for initialisation and data order")
      ->capture_default_str();

  auto par = cmd->add_option_group("Parallelism");
  par->add_option("--sync", o.sync,
                  "grad: allreduce gradients every step (exact); params: local SGD, average "
                  "parameters every --average-every steps")
      ->capture_default_str();
  par->add_option("--average-every", o.average_every, "params: local steps between averages")
      ->capture_default_str();
  add_threads_option(par, o.threads);
  par->add_option("--overlap", c->overlap,
                  "on: start each gradient bucket's allreduce as soon as backprop finishes it (models "
                  "of 65536+ parameters); off: one allreduce after backprop")
      ->capture_default_str();
  par->add_option("--shard-update", o.shard_update,
                  "auto | on | off: reduce-scatter the gradient, each rank updates its part of the parameters and "
                  "optimizer state, allgather the parameters (ZeRO-1; auto: off for dense data, it lost on 2 shared cores; "
                  "on for CSR data with adagrad or sgd, each rank updating its range of input columns: BENCHMARKS.md)")
      ->capture_default_str();
  par->add_option("--exchange", o.exchange,
                  "auto | mpi | node-shm: how ranks on one node combine a step. node-shm: through shared memory "
                  "(each rank sums and updates its part of the parameters, no MPI call per step; only when all "
                  "ranks share one node); mpi: MPI allreduce; auto: node-shm where available (BENCHMARKS.md)")
      ->capture_default_str();
  par->add_flag("--deterministic", o.deterministic,
                "Bitwise-identical results for any ranks x threads (fixed-point sums of fixed row blocks; slower)");
  par->add_option("--sparse-exchange", o.sparse_exchange,
                  "CSR data: auto (the cheaper of the two, each step) | sparse (allreduce over the union of the "
                  "touched columns) | dense (allreduce of the whole gradient)")
      ->capture_default_str();
  par->add_option("--stall-timeout", c->stall_timeout,
                  "Seconds to wait for a rank in a collective before aborting the job (0: forever)")
      ->check(stall_timeout_seconds())
      ->capture_default_str();

  auto out = cmd->add_option_group("Output");
  out->add_option("--checkpoint", o.checkpoint, "Write the trained model to this HDF5 file");
  out->add_option("--checkpoint-dir", o.checkpoint_dir,
                  "Folder for training-state checkpoints (written at the end, on a stop signal, "
                  "and every --checkpoint-every)");
  out->add_option("--checkpoint-every", o.checkpoint_every,
                  "Checkpoint cadence: N or Nepochs (every N epochs) or Nsteps");
  out->add_option("--keep-last", o.keep_last, "Checkpoints kept in --checkpoint-dir (at least 1)")
      ->capture_default_str();
  out->add_option("--resume", o.resume,
                  "auto (newest valid checkpoint in --checkpoint-dir, or a fresh start) | DIR | FILE");
  out->add_flag("--resume-reset-cursor", o.resume_reset_cursor,
                "Resume although --seed or --batch differ from the checkpoint's: keep the model and "
                "optimizer state, restart the interrupted epoch from its first step");
  out->add_option("--timeline", o.timeline,
                  "Write a Chrome trace (chrome://tracing, Perfetto) of every rank's steps");
  out->add_option("--metrics", o.metrics,
                  "Write one JSON object per epoch to this file (CSV if it ends in .csv); the "
                  "effective config goes next to it as NAME.config.toml");
  out->add_option("--metrics-csv", o.metrics_csv, "Also write the per-epoch metrics as CSV");
  out->add_option("--tensorboard", o.tensorboard,
                  "Write the per-epoch metrics as a TensorBoard event file into this folder (rank 0)");
  out->add_option("--on-nan", o.on_nan, "stop | skip-step: what a non-finite loss or gradient does")
      ->capture_default_str();
  out->add_option("--progress", c->progress,
                  "Live progress line on rank 0: auto (when the user's terminal shows the output: "
                  "under mpirun, mpirun's own stdout) | on | off")
      ->capture_default_str();
  out->add_option("--log-every", o.log_every,
                  "Every N steps a plain line: UTC time, step, epoch, loss, samples/s, ETA (0: off)")
      ->capture_default_str();
  out->add_option("--log-level", c->log_level, "error | warn | info | debug")->capture_default_str();
  out->add_flag("--log-all-ranks", c->log_all_ranks,
                "Every rank logs, each line prefixed with [rank R] (default: rank 0 only)");
  out->add_flag("--log-timestamps", c->log_timestamps, "Start every log line with the UTC time (ISO 8601)");

  cmd->callback([&run, c, cmd] {
    run = [c, cmd](MpiCommunicator& comm) {
      // Also here for a `train` not first on the command line (main installs it before MPI
      // starts): a signal while options and data load is a pending stop.
      StopSignal::install();
      // Every rank reads the same file, so every rank fails alike; run_agreed prints it once.
      if (!c->config_file.empty()) run_agreed(comm, [&] { apply_config_file(*cmd, c->config_file, {"data", "val"}); });
      // Hyperparameters may be repeated (the last wins, so scripts append overrides); two
      // different output files for one run are a mistake, not an override.
      for (const char* name : {"--metrics", "--metrics-csv", "--checkpoint", "--checkpoint-dir", "--timeline", "--tensorboard"})
        if (cmd->get_option(name)->count() > 1)
          throw CollectiveFailure(0, std::string(name) + " given " + std::to_string(cmd->get_option(name)->count()) +
                                         " times; a run writes one such file", kExitUsage);
      TrainOptions o = c->train;
      o.config_text = cmd->config_to_str(true, false);
      if (c->print_config) {
        if (comm.rank() == 0) std::cout << o.config_text;
        return 0;
      }
      if (c->data.empty())
        throw CollectiveFailure(0, "--data is required (on the command line or as data = \"...\" in --config)", kExitUsage);
      comm.set_stall_timeout(c->stall_timeout);
      if (c->overlap != "on" && c->overlap != "off")
        throw CollectiveFailure(0, "--overlap '" + c->overlap + "': expected on or off", kExitUsage);
      o.overlap = c->overlap == "on";
      LogOptions log_options;
      run_agreed(comm, [&] { log_options.level = parse_log_level(c->log_level); });
      log_options.all_ranks = c->log_all_ranks;
      log_options.timestamps = c->log_timestamps;
      configure_logger(log_options, comm.rank());
      run_agreed(comm, [&] {
        o.data.files = expand_file_list(c->data);
        if (!c->val.empty()) o.val_files = expand_file_list(c->val);
      });
      if (c->progress != "auto" && c->progress != "on" && c->progress != "off")
        throw CollectiveFailure(0, "--progress '" + c->progress + "': expected auto, on or off", kExitUsage);
      // auto: not with --log-all-ranks, whose interleaved lines a live line would garble.
      o.progress = comm.rank() == 0 && (c->progress == "on" || (c->progress == "auto" && user_sees_terminal() &&
                                                                !c->log_all_ranks));
      const TrainResult result = train(o, comm, logger().lines(LogLevel::info));
      if (!result.stop_signal) return kExitOk;
      return stopped_exit_code(result.stop_signal, !result.stop_checkpoint.empty());
    };
  });
}

}  // namespace dptrain::cli
