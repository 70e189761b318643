#include "gradient_sync.hpp"

#include <algorithm>
#include <cmath>

#include "deterministic_blocks.hpp"
#include "node_shared_sync.hpp"
#include "sharded_update.hpp"
#include "dptrain/clock.hpp"

namespace dptrain {

BatchStats GradientSync::compute(ParallelGradient& gradient, const float* params, const Batch& batch) {
  return gradient.compute(params, batch.features, batch.labels, batch.rows, grad_.data());
}

SyncPoint GradientSync::after_update(std::span<float>, std::int64_t, bool, RankFlags,
                                     const std::optional<std::string>&) {
  return {true, false};  // per-step sync: every rank applied the same update
}

void GradientSync::epoch_sums(std::vector<double>&, const std::optional<std::string>&) {}

double GradientSync::take_comm_seconds() {
  const double s = comm_seconds_;
  comm_seconds_ = 0;
  return s;
}

void GradientSync::write_totals(const LocalStep& mine, std::span<float> buffer) const {
  const bool failed = mine.flags.failed;
  buffer[n_] = static_cast<float>(mine.rows);
  buffer[n_ + 1] = static_cast<float>(failed ? 0.0 : mine.stats.loss);
  buffer[n_ + 2] = static_cast<float>(failed ? 0.0 : mine.stats.correct);
  buffer[n_ + 3] = 0;
  write_flags(buffer.first(n_ + kTotalsSlots), mine.flags);
}

StepTotals GradientSync::read_totals() const {
  return {grad_[n_], grad_[n_ + 1], grad_[n_ + 2], read_flags(std::span<const float>(grad_)).stop};
}

BatchStats GradientSync::compute_fixed(DeterministicBlocks& blocks, ParallelGradient& gradient, const float* params,
                                       const Batch& batch, std::int64_t* fixed) {
  const double t0 = now_seconds();
  const bool ok = blocks.plan(comm_, batch, false);
  communicated("row exchange", t0, now_seconds());
  if (!ok) return {};  // another rank failed: the exchange carries its failure
  return gradient.compute_fixed(params, blocks.blocks(), fixed);
}

// compute_fixed left the loss in slot n_ (fixed point); the totals follow the gradient.
void GradientSync::write_fixed_totals(const LocalStep& mine, std::span<std::int64_t> buffer) const {
  const bool failed = mine.flags.failed;
  const std::int64_t loss = failed ? 0 : buffer[n_];
  if (failed) std::fill(buffer.begin(), buffer.end(), 0);
  buffer[n_] = mine.rows;
  buffer[n_ + 1] = loss;
  buffer[n_ + 2] = static_cast<std::int64_t>(mine.stats.correct);
  buffer[n_ + 3] = !failed && std::isnan(mine.stats.loss);
  write_flags(buffer.first(n_ + kTotalsSlots), mine.flags);
}

StepTotals GradientSync::read_fixed_totals(std::span<const std::int64_t, kTotalsSlots> totals) {
  constexpr double kUnit = 1.0 / ParallelGradient::kFixedOne;
  return {static_cast<double>(totals[0]), totals[3] > 0 ? NAN : static_cast<double>(totals[1]) * kUnit,
          static_cast<double>(totals[2]), read_flags(std::span<const std::int64_t>(totals)).stop};
}

void GradientSync::communicated(const char* name, double start, double end) {
  comm_seconds_ += end - start;
  timeline_.add(name, start, end);
}

namespace {

// --overlap off (or one rank): the whole buffer in one allreduce after backprop.
class WholeAllreduce final : public GradientSync {
 public:
  using GradientSync::GradientSync;
  StepTotals exchange(const LocalStep& mine, const std::optional<std::string>& local_error) override {
    const double t0 = now_seconds();
    if (mine.flags.failed) std::fill(grad_.begin(), grad_.end(), 0.0f);
    write_totals(mine);
    comm_.allreduce_sum(std::span<float>(grad_), "gradient allreduce");
    communicated("allreduce wait", t0, now_seconds());
    if (read_flags(std::span<const float>(grad_)).failed) agree_and_throw(comm_, local_error);
    return read_totals();
  }
};

// --overlap on: each bucket's allreduce starts as soon as backprop has finished it.
class BucketedOverlap final : public GradientSync {
 public:
  BucketedOverlap(Communicator& comm, const ModelSpec& spec, Timeline& timeline)
      : GradientSync(comm, spec.num_params(), timeline), buckets_(gradient_buckets(spec)) {
    sender_.sync = this;
  }
  BatchStats compute(ParallelGradient& gradient, const float* params, const Batch& batch) override {
    return gradient.compute(params, batch.features, batch.labels, batch.rows, grad_.data(), &sender_);
  }
  StepTotals exchange(const LocalStep& mine, const std::optional<std::string>& local_error) override {
    const double t0 = now_seconds();
    // A rank that failed before backprop still starts every bucket, in order.
    for (std::size_t b = sender_.started; b < buckets_.size(); ++b) sender_(buckets_[b].first, buckets_[b].second);
    sender_.started = 0;
    write_totals(mine);
    comm_.start_allreduce_sum(std::span<float>(grad_).subspan(n_), "gradient allreduce");
    comm_.finish_pending();
    communicated("allreduce wait", t0, now_seconds());
    if (read_flags(std::span<const float>(grad_)).failed) agree_and_throw(comm_, local_error);
    return read_totals();
  }

 private:
  struct BucketSender final : GradientReady {
    BucketedOverlap* sync = nullptr;
    std::size_t started = 0;
    void operator()(std::size_t begin, std::size_t end) override {
      sync->comm_.start_allreduce_sum({sync->grad_.data() + begin, end - begin}, "gradient allreduce");
      sync->comm_.progress();
      ++started;
    }
  };
  std::vector<std::pair<std::size_t, std::size_t>> buckets_;
  BucketSender sender_;
};

// --deterministic: the gradient of fixed micro-blocks of rows (DeterministicBlocks) in fixed
// point, summed as integers (exact), so the result is bitwise the same for any ranks x threads.
class FixedPointAllreduce final : public GradientSync {
 public:
  FixedPointAllreduce(Communicator& comm, const ModelSpec& spec, Timeline& timeline, std::int64_t block_rows)
      : GradientSync(comm, spec.num_params(), timeline),
        fixed_(spec.num_params() + kTotalsSlots, 0),
        blocks_(spec.inputs(), spec.label_cols(), block_rows) {}
  BatchStats compute(ParallelGradient& gradient, const float* params, const Batch& batch) override {
    return compute_fixed(blocks_, gradient, params, batch, fixed_.data());
  }
  StepTotals exchange(const LocalStep& mine, const std::optional<std::string>& local_error) override {
    blocks_.finish_step(comm_);
    const double t0 = now_seconds();
    write_fixed_totals(mine, fixed_);
    const RankFlags flags = allreduce_flagged(comm_, std::span<std::int64_t>(fixed_), mine.flags, "gradient allreduce");
    communicated("allreduce wait", t0, now_seconds());
    if (flags.failed) agree_and_throw(comm_, local_error);
    constexpr double kUnit = 1.0 / ParallelGradient::kFixedOne;
    for (std::size_t i = 0; i < n_; ++i) grad_[i] = static_cast<float>(fixed_[i] * kUnit);
    return read_fixed_totals(std::span<const std::int64_t>(fixed_).subspan(n_).first<kTotalsSlots>());
  }
  std::span<float> local_gradient() override { return {}; }  // fixed point until the exchange

 private:
  std::vector<std::int64_t> fixed_;
  DeterministicBlocks blocks_;
};

// --sync params: local SGD. Each rank steps on its own; the parameters are averaged every
// --average-every steps and at every epoch end, and the flags travel with that average.
class LocalSgdAveraging final : public GradientSync {
 public:
  LocalSgdAveraging(Communicator& comm, std::size_t num_params, Timeline& timeline, int average_every)
      : GradientSync(comm, num_params, timeline), every_(average_every), average_(num_params + kFlagSlots) {}
  StepTotals exchange(const LocalStep& mine, const std::optional<std::string>&) override {
    if (mine.flags.failed) std::fill(grad_.begin(), grad_.end(), 0.0f);
    write_totals(mine);
    return {grad_[n_], grad_[n_ + 1], grad_[n_ + 2], false};
  }
  SyncPoint after_update(std::span<float> params, std::int64_t global_step, bool epoch_end, RankFlags mine,
                         const std::optional<std::string>& local_error) override {
    if (global_step % every_ != 0 && !epoch_end) return {false, false};
    const double t0 = now_seconds();
    std::copy(params.begin(), params.end(), average_.begin());
    const RankFlags flags = allreduce_flagged(comm_, std::span<float>(average_), mine, "parameter averaging");
    if (flags.failed) agree_and_throw(comm_, local_error);
    const float inv = 1.0f / static_cast<float>(comm_.size());
    for (std::size_t i = 0; i < n_; ++i) params[i] = average_[i] * inv;
    communicated("parameter averaging", t0, now_seconds());
    return {true, flags.stop};
  }
  void epoch_sums(std::vector<double>& sums, const std::optional<std::string>& local_error) override {
    allreduce_or_throw(comm_, sums, local_error, "epoch statistics");
  }

 private:
  int every_;
  AlignedVector<float> average_;
};

}  // namespace

std::unique_ptr<GradientSync> make_gradient_sync(const TrainConfig& config, Communicator& comm,
                                                 const ModelSpec& spec, Timeline& timeline, bool block_order) {
  const TrainOptions& o = config.options;
  const std::size_t n = spec.num_params();
  if (!config.gradient_sync()) return std::make_unique<LocalSgdAveraging>(comm, n, timeline, o.average_every);
  if (auto node = make_node_shared_sync(config, comm, spec, timeline, block_order)) return node;
  if (o.deterministic)
    return std::make_unique<FixedPointAllreduce>(comm, spec, timeline, deterministic_block_rows(block_order));
  // Overlap needs float sums; with one rank there is nothing to overlap. Below
  // kOverlapMinValues the whole gradient is one message: a step of a small model is short, and
  // every extra (nonblocking) collective costs it tens of microseconds of latency.
  if (shard_update_enabled(config, comm.size(), n)) return make_sharded_update_sync(config, comm, n, timeline);
  constexpr std::size_t kOverlapMinValues = 65536;
  if (o.overlap && comm.size() > 1 && n >= kOverlapMinValues)
    return std::make_unique<BucketedOverlap>(comm, spec, timeline);
  return std::make_unique<WholeAllreduce>(comm, n, timeline);
}

}  // namespace dptrain
