#pragma once
// The training loop: data shard -> model -> gradient -> communicator -> update -> metrics.
// Its single seam between "gradient" and "update" is where the allreduce goes.
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "dptrain/communicator.hpp"
#include "dptrain/dataset.hpp"
#include "dptrain/model.hpp"
#include "dptrain/optimizer.hpp"

namespace dptrain {

struct TrainOptions {
  DataOptions data;
  std::vector<std::string> val_files;  // evaluated after each epoch (same dataset names)
  double val_fraction = 0;             // or hold out this fraction of the rows (by seed)
  std::string model = "softmax";       // linear | logistic | softmax | mlp:H1,H2,...
  std::string activation = "relu";
  std::string loss = "auto";           // mlp: auto (ce for integer labels, else mse) | ce | mse | bce
  std::int64_t classes = 0;            // 0: max label + 1
  int epochs = 10;
  std::int64_t batch = 256;            // global batch
  ScheduleOptions schedule;
  OptimizerOptions optimizer;
  double clip_norm = 0;                // 0: no clipping
  std::string sync = "grad";           // grad | params
  int average_every = 1;               // params: average every K local steps
  int threads = 1;
  std::uint64_t seed = 42;
  std::string on_nan = "stop";         // stop | skip-step
  bool overlap = true;                 // send gradient buckets while backprop runs
  std::string timeline;                // Chrome-trace file ("" = none)
  bool deterministic = false;          // bitwise-identical results for any ranks x threads
  std::string shard_update = "auto";   // auto | on | off: each rank updates its part of the parameters
  std::string exchange = "auto";       // auto | mpi | node-shm: how the ranks of one node combine a step
  std::string sparse_exchange = "auto"; // CSR input: auto | sparse (union of touched columns) | dense
  std::string checkpoint;              // final model file ("" = none)
  std::string checkpoint_dir;          // periodic checkpoints (training state) go here
  std::string checkpoint_every;        // "N", "Nepochs" or "Nsteps" ("" = only on stop/end)
  int keep_last = 3;                   // checkpoints kept in checkpoint_dir
  std::string resume;                  // "" | auto | DIR | FILE
  bool resume_reset_cursor = false;    // resume with another --seed or --batch: restart the epoch
  std::string metrics;                 // metrics file ("" = none): JSONL, or CSV if it ends in .csv
  std::string metrics_csv;             // CSV metrics file ("" = none)
  std::string tensorboard;             // folder for a TensorBoard event file ("" = none)
  bool progress = false;               // live progress line on rank 0
  std::int64_t log_every = 0;          // a plain progress line every N steps (0: none)
  int early_stopping = 0;              // stop after N epochs without validation improvement (0: off)
  std::string early_stopping_metric = "val_loss";  // val_loss | val_acc
  bool keep_best = false;              // the final model is the best validation epoch's
  std::string class_weight;            // "" | balanced | w0,w1,... (scikit-learn's meaning)
  double memory_budget = 0;            // MiB of data per rank; 0: half the node's RAM / ranks on it
  std::string stream = "auto";         // auto (when the shard exceeds the budget) | on | off
  std::string order = "auto";          // auto (block when streaming, else stratified) | stratified | block
  std::int64_t shuffle_window = 64;    // blocks the block order mixes at once
  std::string config_text;             // effective options, stored in checkpoints
};

struct EpochReport {
  int epoch = 0;
  double train_loss = 0;
  std::optional<double> train_accuracy;
  std::optional<double> val_loss;
  std::optional<double> val_accuracy;
  double samples_per_s = 0;
  double epoch_s = 0, compute_s = 0, comm_s = 0, io_s = 0;
  double val_s = 0;  // validation time, part of epoch_s and compute_s but not of samples_per_s
  double lr = 0;
  double peak_rss_mb = 0;  // the largest peak resident memory of any rank so far
  std::int64_t skipped_steps = 0;
  int ranks = 1, threads = 1;
  // CSR input: gradient bytes each rank sent per step, and what the dense allreduce would send.
  std::optional<double> exchange_bytes, dense_exchange_bytes;
  std::int64_t sparse_exchange_steps = 0;
};

struct TrainResult {
  ModelSpec spec;
  AlignedVector<float> params;
  std::vector<EpochReport> epochs;
  int stop_signal = 0;          // non-zero: stopped early by this signal (agreed by all ranks)
  std::string stop_checkpoint;  // the checkpoint written when stopping ("" = none: no --checkpoint-dir)
};

// Validates the options (train_config.hpp), then runs the training loop on every rank. Any
// error on any rank ends every rank with the same CollectiveFailure. `log` (the logger's
// line stream, or null) receives the per-epoch lines.
TrainResult train(const TrainOptions& options, Communicator& comm, std::ostream* log);

}  // namespace dptrain
