#include "sharded_update.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

#include "dptrain/clock.hpp"
#include "dptrain/error.hpp"
#include "util/finite.hpp"

namespace dptrain {

bool shard_update_enabled(const TrainConfig& config, int ranks, std::size_t /*num_params*/) {
  const TrainOptions& o = config.options;
  if (ranks < 2 || o.deterministic || !config.gradient_sync() || o.shard_update == "off") return false;
  // auto is off: on 2 ranks sharing a node it lost to the overlapped allreduce for both
  // mlp:256,128 and mlp:4096,4096 (BENCHMARKS.md, "Sharded update"). Worth measuring again on
  // nodes where memory for the optimizer state, not time, is the limit.
  return o.shard_update == "on";
}

bool sparse_shard_update_enabled(const TrainConfig& config, int ranks) {
  const TrainOptions& o = config.options;
  // Only an update that leaves the columns outside the batch's alone (or moves them alike on
  // every rank) can be split by column: momentum and Adam move every column by a state that
  // only the column's owner would keep current.
  const bool lazy = o.optimizer.name == "adagrad" || o.optimizer.name == "sgd";
  if (o.shard_update == "on" && !lazy)
    throw ConfigError("--shard-update on with CSR features needs --optimizer adagrad or sgd (--optimizer " +
                      o.optimizer.name + " moves every parameter at every step); use --shard-update auto or off");
  return ranks >= 2 && lazy && !o.deterministic && config.gradient_sync() && o.shard_update != "off";
}

std::vector<std::size_t> rank_parts(std::size_t n, int ranks) {
  constexpr std::size_t kAlign = 16;  // floats: 64 bytes
  std::vector<std::size_t> parts(static_cast<std::size_t>(ranks) + 1, n);
  for (int r = 0; r < ranks; ++r)
    parts[r] = std::min(n, n * static_cast<std::size_t>(r) / static_cast<std::size_t>(ranks) / kAlign * kAlign);
  return parts;
}

namespace {

class ShardedUpdate final : public GradientSync {
 public:
  ShardedUpdate(Communicator& comm, std::size_t n, Timeline& timeline, bool clipping)
      : GradientSync(comm, n, timeline),
        parts_(rank_parts(n, comm.size())),
        part_(parts_[comm.rank() + 1] - parts_[comm.rank()]),
        clipping_(clipping) {}

  // One reduce-scatter of the gradient, then one small sum of the totals, which carries the
  // part's sum of squares: non-finite on any rank makes the step's loss NaN on every rank (all
  // skip it or stop together), and it is the global norm for --clip-norm.
  StepTotals exchange(const LocalStep& mine, const std::optional<std::string>& local_error) override {
    const double t0 = now_seconds();
    if (mine.flags.failed) std::fill(grad_.begin(), grad_.end(), 0.0f);
    comm_.reduce_scatter_sum({grad_.data(), n_}, part_, parts_, "gradient reduce-scatter");
    const Eigen::Map<const Eigen::VectorXf> part(part_.data(), static_cast<Eigen::Index>(part_.size()));
    const double squares =
        clipping_ ? part.cast<double>().squaredNorm() : (all_finite(part_.data(), part_.size()) ? 0.0 : NAN);
    totals_ = {static_cast<double>(mine.rows), mine.flags.failed ? 0.0 : mine.stats.loss,
               mine.flags.failed ? 0.0 : mine.stats.correct, squares, 0, 0};
    const RankFlags flags = allreduce_flagged(comm_, std::span<double>(totals_), mine.flags, "step totals");
    communicated("allreduce wait", t0, now_seconds());
    if (flags.failed) agree_and_throw(comm_, local_error);
    const bool finite = std::isfinite(totals_[3]);
    return {totals_[0], finite ? totals_[1] : NAN, totals_[2], flags.stop};
  }
  GradientView view() override {
    const double norm = std::sqrt(totals_[3]);
    return {part_, {}, 0, parts_[comm_.rank()], clipping_ ? norm : -1.0};
  }
  // Every rank's updated part to every rank.
  SyncPoint after_update(std::span<float> params, std::int64_t, bool, RankFlags,
                         const std::optional<std::string>&) override {
    const double t0 = now_seconds();
    comm_.allgather_parts(params, parts_, "parameter allgather");
    communicated("parameter allgather", t0, now_seconds());
    return {true, false};
  }
  void gather_state(Optimizer& optimizer) override {
    for (auto& [name, values] : optimizer.state())
      if (values->size() == n_) comm_.allgather_parts(*values, parts_, "optimizer state allgather");
  }
  std::string update_split() const override { return "update sharded over the ranks (ZeRO-1)"; }

 private:
  std::vector<std::size_t> parts_;
  AlignedVector<float> part_;
  bool clipping_;
  std::vector<double> totals_ = std::vector<double>(4 + kFlagSlots, 0.0);  // rows, loss, correct, squares
};

}  // namespace

std::unique_ptr<GradientSync> make_sharded_update_sync(const TrainConfig& config, Communicator& comm,
                                                       std::size_t num_params, Timeline& timeline) {
  return std::make_unique<ShardedUpdate>(comm, num_params, timeline, config.options.clip_norm > 0);
}

}  // namespace dptrain
