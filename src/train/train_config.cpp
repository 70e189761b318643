#include "dptrain/train_config.hpp"

#include "dptrain/error.hpp"
#include "dptrain/optimizer.hpp"
#include "train/class_weights.hpp"
#include "util/threads.hpp"

namespace dptrain {

namespace {

SyncMode parse_sync(const std::string& text) {
  if (text == "grad") return SyncMode::gradients;
  if (text == "params") return SyncMode::parameters;
  throw ConfigError("--sync '" + text + "': expected grad or params");
}

NanPolicy parse_nan_policy(const std::string& text) {
  if (text == "stop") return NanPolicy::stop;
  if (text == "skip-step") return NanPolicy::skip_step;
  throw ConfigError("--on-nan '" + text + "': expected stop or skip-step");
}

ResumeMode parse_resume(const std::string& text) {
  if (text.empty()) return ResumeMode::none;
  return text == "auto" ? ResumeMode::latest_in_dir : ResumeMode::from_path;
}

void check_parallelism(const TrainConfig& c, int ranks) {
  const TrainOptions& o = c.options;
  if (o.deterministic && !c.gradient_sync())
    throw ConfigError("--deterministic needs --sync grad (local SGD depends on the rank count)");
  if (o.shard_update != "auto" && o.shard_update != "on" && o.shard_update != "off")
    throw ConfigError("--shard-update '" + o.shard_update + "': expected auto, on or off");
  if (o.shard_update == "on" && (o.deterministic || !c.gradient_sync()))
    throw ConfigError("--shard-update on needs --sync grad without --deterministic (it sums floats)");
  if (o.exchange != "auto" && o.exchange != "mpi" && o.exchange != "node-shm")
    throw ConfigError("--exchange '" + o.exchange + "': expected auto, mpi or node-shm");
  if (o.exchange == "node-shm" && (!c.gradient_sync() || o.shard_update == "on"))
    throw ConfigError("--exchange node-shm needs --sync grad without --shard-update on");
  if (o.exchange == "node-shm" && o.deterministic && o.clip_norm > 0)
    throw ConfigError("--exchange node-shm with --deterministic cannot take --clip-norm (the norm would be summed "
                      "by parts, in an order that depends on the rank count); use --exchange auto or mpi");
  if (o.deterministic && o.batch > 2048)
    throw ConfigError("--deterministic supports --batch up to 2048 (fixed-point range)");
  if (!c.gradient_sync() && o.batch < ranks)
    throw ConfigError("--sync params with --batch " + std::to_string(o.batch) + " on " +
                      std::to_string(ranks) + " ranks: every rank takes at least one row per local "
                      "step; use --batch " + std::to_string(ranks) + " or more, or --sync grad");
}

void check_checkpointing(const TrainConfig& c) {
  const TrainOptions& o = c.options;
  if (c.checkpoint_every.every > 0 && o.checkpoint_dir.empty())
    throw ConfigError("--checkpoint-every needs --checkpoint-dir");
  if (c.resume == ResumeMode::latest_in_dir && o.checkpoint_dir.empty())
    throw ConfigError("--resume auto needs --checkpoint-dir");
  if (o.keep_last < 1) throw ConfigError("--keep-last must be at least 1");
  if (o.log_every < 0) throw ConfigError("--log-every must be >= 0 (0: no step lines)");
}

void check_early_stopping(const TrainOptions& o) {
  if (o.early_stopping < 0) throw ConfigError("--early-stopping must be >= 0 (epochs of patience; 0: off)");
  if (o.early_stopping_metric != "val_loss" && o.early_stopping_metric != "val_acc")
    throw ConfigError("--early-stopping-metric '" + o.early_stopping_metric + "': expected val_loss or val_acc");
  const std::string option = o.early_stopping > 0 ? "--early-stopping" : "--keep-best";
  if ((o.early_stopping > 0 || o.keep_best) && o.val_files.empty() && o.val_fraction == 0)
    throw ConfigError(option + " needs validation data: --val FILE or --val-fraction F");
}

// --memory-budget, --stream, --order, --shuffle-window.
void check_data_order(TrainConfig& c) {
  const TrainOptions& o = c.options;
  c.stream = parse_stream_mode(o.stream);
  if (o.order != "auto" && o.order != "stratified" && o.order != "block")
    throw ConfigError("--order '" + o.order + "': expected auto, stratified or block");
  c.block_order = o.order == "block";
  c.stratified_order = o.order == "stratified";
  if (!(o.memory_budget >= 0)) throw ConfigError("--memory-budget must be >= 0 MB (0: the default)");
  if (o.shuffle_window < 1) throw ConfigError("--shuffle-window must be at least 1 block");
  if (c.stream == StreamMode::on && c.stratified_order)
    throw ConfigError("--stream on reads blocks in the block order; --order stratified needs the data in memory "
                      "(--stream off)");
  if (!c.gradient_sync() && (c.block_order || c.stream == StreamMode::on))
    throw ConfigError("--sync params walks each rank's own shard in memory; --order block and --stream on "
                      "need --sync grad");
}

}  // namespace

TrainConfig validate_train_options(const TrainOptions& o, int ranks) {
  TrainConfig c;
  c.options = o;
  c.sync = parse_sync(o.sync);
  if (o.epochs < 1) throw ConfigError("--epochs must be at least 1");
  if (o.batch < 1) throw ConfigError("--batch must be at least 1");
  if (o.average_every < 1) throw ConfigError("--average-every must be at least 1");
  c.on_nan = parse_nan_policy(o.on_nan);
  check_thread_count(o.threads);
  c.checkpoint_every = CheckpointSchedule::parse(o.checkpoint_every);
  c.resume = parse_resume(o.resume);
  check_parallelism(c, ranks);
  check_checkpointing(c);
  if (!(o.clip_norm >= 0)) throw ConfigError("--clip-norm must be >= 0 (0: off)");
  validate(o.optimizer);
  validate(o.schedule);
  if (!(o.val_fraction >= 0 && o.val_fraction < 1)) throw ConfigError("--val-fraction must be in [0, 1)");
  if (o.val_fraction > 0 && !o.val_files.empty())
    throw ConfigError("--val and --val-fraction both given; use one");
  check_early_stopping(o);
  check_class_weight_option(o.class_weight);
  if (o.loss != "auto") c.loss = parse_loss(o.loss);
  c.activation = parse_activation(o.activation);
  if (o.sparse_exchange != "auto" && o.sparse_exchange != "sparse" && o.sparse_exchange != "dense")
    throw ConfigError("--sparse-exchange '" + o.sparse_exchange + "': expected auto, sparse or dense");
  check_data_order(c);
  return c;
}

}  // namespace dptrain
