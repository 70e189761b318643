#include "node_shared_sync.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "dptrain/clock.hpp"
#include "dptrain/error.hpp"
#include "dptrain/log.hpp"
#include "dptrain/node_shared_reduce.hpp"
#include "deterministic_blocks.hpp"
#include "parallel_gradient.hpp"
#include "sharded_update.hpp"

namespace dptrain {
namespace {

// auto picks the node exchange: on 2 ranks of this 2-core node it beat the MPI allreduce
// 1.12-1.32x on mlp:256,128 and 1.01-1.40x on mlp:4096,4096 when quiet; beside a busy process
// with ranks bound to cores it ranged 0.80-1.29x (BENCHMARKS.md, "Node shared-memory exchange"
// and the bench.sh runs since 20:13).
constexpr bool kNodeExchangeByDefault = true;

// From how many parameters they live once for the node (DPTRAIN_SHARED_PARAMETERS_FROM, 2^20
// unset). Large models gain: no rank publishes its part or copies the others' (mlp:4096,4096
// 2x1: the 2.5-2.9 ms copy of a ~105 ms step gone, more where neighbours contend for memory
// bandwidth; mlp:1024,1024 1.02x). Small ones do not: their parameters stay in the cores'
// caches, and an update in place takes every line back from the other core that read it
// (mlp:256,128, 235,146 parameters: 0.93-1.05x in interleaved runs; mlp:512,512 even).
// BENCHMARKS.md, "The parameters once per node".
std::size_t shared_parameters_from() {
  const char* count = std::getenv("DPTRAIN_SHARED_PARAMETERS_FROM");
  return count ? static_cast<std::size_t>(std::max(0.0, std::atof(count))) : std::size_t{1} << 20;
}

// What both node exchanges share: rank r owns part r of the parameters (and of the optimizer
// state, as --shard-update does). With `params_memory` the parameters live once for the node,
// in rank 0's region of a second window, and rank r updates its part in place between two
// barriers, which order every rank's reads of the old values before the writes and the writes
// before the next step's reads: nothing is copied. Without it every rank keeps its own copy,
// publishes its updated part and copies the others'.
class NodeSharedParts : public GradientSync {
 public:
  NodeSharedParts(Communicator& comm, std::size_t n, Timeline& timeline, std::vector<std::size_t> parts,
                  std::unique_ptr<NodeSharedMemory> memory, std::size_t shared_values,
                  std::unique_ptr<NodeSharedMemory> params_memory)
      : GradientSync(comm, n, timeline, false),
        parts_(std::move(parts)),
        begin_(parts_[comm.rank()]),
        end_(parts_[comm.rank() + 1]),
        node_(std::move(memory), shared_values, largest_part(parts_)),
        params_memory_(std::move(params_memory)),
        params_(params_memory_ ? std::span<float>(reinterpret_cast<float*>(params_memory_->region(0)), n)
                               : std::span<float>()) {}

  static std::size_t largest_part(const std::vector<std::size_t>& parts) {
    std::size_t m = 0;
    for (std::size_t r = 0; r + 1 < parts.size(); ++r) m = std::max(m, parts[r + 1] - parts[r]);
    return m;
  }

  // Each rank writes its part (the values are the same on every rank), then all wait for all.
  std::span<float> place_parameters(std::span<const float> params) override {
    if (!params_memory_) return {};
    std::copy(params.begin() + begin_, params.begin() + end_, params_.begin() + begin_);
    node_.barrier("parameter placement");
    return params_;
  }

  // Every rank has updated its part (in place, or shared here): once all have, the next step
  // may read them.
  SyncPoint after_update(std::span<float> params, std::int64_t, bool, RankFlags,
                         const std::optional<std::string>&) override {
    const double t0 = now_seconds();
    if (params_memory_)
      node_.barrier("parameter exchange");
    else
      share_parts(params);
    communicated("parameter exchange", t0, now_seconds());
    return {true, false};
  }

  void gather_state(Optimizer& optimizer) override {
    for (auto& [name, values] : optimizer.state()) {
      if (values->size() != n_) continue;
      node_.barrier("optimizer state exchange");  // every rank has read the last published parts
      share_parts(*values);
    }
  }

 protected:
  // This rank's part of `data` to every rank, and theirs into `data`.
  void share_parts(std::span<float> data) {
    std::copy(data.begin() + begin_, data.begin() + end_, node_.published(node_.rank()).begin());
    node_.barrier("parameter exchange");
    copy_others_parts(data);
  }

  // The other ranks' published parts into `data` (after the barrier that follows their writes).
  void copy_others_parts(std::span<float> data) const {
    for (int q = 0; q < node_.size(); ++q) {
      if (q == node_.rank()) continue;
      const std::span<const float> theirs = node_.published(q);
      std::copy(theirs.begin(), theirs.begin() + (parts_[q + 1] - parts_[q]), data.begin() + parts_[q]);
    }
  }

  // The step reads the parameters where place_parameters() put them.
  const float* placed(const float* params) const {
    if (params_memory_ && params != params_.data())
      throw InternalError("node exchange: the parameters are not in its shared memory (place_parameters)");
    return params;
  }

  std::vector<std::size_t> parts_;
  std::size_t begin_, end_;
  NodeSharedReduce node_;
  std::unique_ptr<NodeSharedMemory> params_memory_;
  std::span<float> params_;
};

// fused: the update follows the sums block by block (fused_update), with two barriers a step;
// otherwise (--clip-norm needs the global norm first, --on-nan skip-step a finite gradient on
// every rank first) the part is summed in place, checked, then updated by the caller, and
// shared after the update, with three.
class NodeSharedExchange final : public NodeSharedParts {
 public:
  NodeSharedExchange(Communicator& comm, std::size_t n, Timeline& timeline, bool clipping, bool fused, int threads,
                     std::vector<std::size_t> parts, std::unique_ptr<NodeSharedMemory> memory,
                     std::unique_ptr<NodeSharedMemory> params_memory)
      : NodeSharedParts(comm, n, timeline, std::move(parts), std::move(memory), n + kTotalsSlots,
                        std::move(params_memory)),
        clipping_(clipping),
        fused_(fused && !clipping),
        threads_(std::max(1, threads)) {}

  // The shared bytes per rank: the gradient and its totals, and the largest part to publish.
  static std::size_t shared_bytes(std::size_t n, const std::vector<std::size_t>& parts) {
    return NodeSharedReduce::bytes_per_rank(n + kTotalsSlots, largest_part(parts));
  }

  // Backprop writes into this rank's shared buffer: nothing to copy before the exchange.
  BatchStats compute(ParallelGradient& gradient, const float* params, const Batch& batch) override {
    return gradient.compute(placed(params), batch.features, batch.labels, batch.rows, mine().data());
  }

  // Barrier; this rank's part summed in place and every rank's totals summed (in rank order);
  // barrier again to share the part's sum of squares: a non-finite part makes the step's loss
  // NaN on every rank (all skip it or stop together), and it is the global norm for --clip-norm.
  StepTotals exchange(const LocalStep& step, const std::optional<std::string>& local_error) override {
    const double t0 = now_seconds();
    const std::span<float> g = mine();
    if (step.flags.failed) std::fill(g.begin(), g.end(), 0.0f);
    write_totals(step, g);
    node_.barrier("gradient exchange");
    const double t1 = now_seconds();
    communicated("node wait", t0, t1);  // for the other ranks' gradients
    node_.sum(n_, n_ + kTotalsSlots, totals_);
    squares_ = 0;
    if (!fused_) {  // the fused update sums the part itself, and shares its check after
      node_.scalars(node_.rank())[0] = node_.sum(begin_, end_, g.data() + begin_, clipping_);
      node_.barrier("gradient norm");
      for (int q = 0; q < node_.size(); ++q) squares_ += node_.scalars(q)[0];
    }
    communicated("node sum", t1, now_seconds());
    const RankFlags flags = read_flags(std::span<const float>(totals_));
    if (flags.failed) agree_and_throw(comm_, local_error);
    const bool finite = std::isfinite(squares_);
    return {totals_[0], finite ? totals_[1] : NAN, totals_[2], flags.stop};
  }

  // Each block of this rank's part summed and updated while it is in L1 (in place, or
  // published for the others); one barrier shares the new parts and whether each was finite.
  std::optional<bool> fused_update(Optimizer& optimizer, std::span<float> params, double lr, float scale) override {
    if (!fused_) return std::nullopt;
    const std::int64_t step = optimizer.steps + 1;  // every block is a piece of this step
    const std::span<float> published = node_.published(node_.rank());
    const bool in_place = params_memory_ != nullptr;
    const auto update_block = [&](std::size_t lo, std::span<float> sums) {
      // In place: the other ranks read these parameters in their forward pass, and a write must
      // first take each line back from their caches. Asking for the next block's lines now
      // overlaps that with this block's update (the update of mlp:256,128's 2x1 part, all in
      // place: 0.27 -> 0.22 ms).
      const std::size_t next = std::min(end_, lo + sums.size()), stop = std::min(end_, next + sums.size());
      if (in_place)
        for (std::size_t i = next; i < stop; i += 16) __builtin_prefetch(params.data() + i, 1, 3);
      const std::span<float> p = params.subspan(lo, sums.size());
      optimizer.update_piece(p, sums, lo, lr, scale, step);
      if (!in_place) std::copy(p.begin(), p.end(), published.begin() + (lo - begin_));
    };
    // On the rank's threads, each its share of the part (parallel_update.hpp says why).
    double finite_check = 0;  // NaN if some sum is not finite
#pragma omp parallel num_threads(threads_) reduction(+ : finite_check) if (threads_ > 1)
    {
      const auto [lo, hi] = thread_part(begin_, end_, omp_get_thread_num(), omp_get_num_threads());
      finite_check += node_.sum_blocks(lo, hi, false, update_block);
    }
    node_.scalars(node_.rank())[0] = finite_check;
    optimizer.steps = step;
    const double t0 = now_seconds();
    node_.barrier("parameter exchange");
    bool finite = true;
    for (int q = 0; q < node_.size(); ++q) finite = finite && std::isfinite(node_.scalars(q)[0]);
    if (!in_place) copy_others_parts(params);
    communicated("parameter exchange", t0, now_seconds());
    return finite;
  }

  // The fused update has shared the parts already (and a step without one changed nothing).
  SyncPoint after_update(std::span<float> params, std::int64_t step, bool epoch_end, RankFlags flags,
                         const std::optional<std::string>& local_error) override {
    if (fused_) return {true, false};
    return NodeSharedParts::after_update(params, step, epoch_end, flags, local_error);
  }

  GradientView view() override {
    return {mine().subspan(begin_, end_ - begin_), {}, 0, begin_, clipping_ ? std::sqrt(squares_) : -1.0};
  }
  std::span<float> local_gradient() override { return mine().first(n_); }

 private:
  std::span<float> mine() const { return node_.buffer(node_.rank()); }

  bool clipping_, fused_;
  int threads_;  // the rank's threads, which share the fused update
  float totals_[kTotalsSlots] = {};  // rows, loss, correct, non-finite, failed, stop
  double squares_ = 0;
};

// --deterministic: the fixed-point gradient of the step's blocks (as FixedPointAllreduce's)
// summed as integers, which is exact in any order: each rank converts and updates its part, and
// the result is bitwise the MPI path's. One barrier before the update (the integer sums cannot
// hold a non-finite value: the loss flags it), one after. Not with --clip-norm: a norm summed
// by parts would depend on the rank count.
class NodeSharedFixedExchange final : public NodeSharedParts {
 public:
  NodeSharedFixedExchange(Communicator& comm, const ModelSpec& spec, Timeline& timeline, std::int64_t block_rows,
                          std::vector<std::size_t> parts, std::unique_ptr<NodeSharedMemory> memory,
                          std::unique_ptr<NodeSharedMemory> params_memory)
      : NodeSharedParts(comm, spec.num_params(), timeline, std::move(parts), std::move(memory),
                        2 * (spec.num_params() + kTotalsSlots), std::move(params_memory)),
        blocks_(spec.inputs(), spec.label_cols(), block_rows),
        part_(end_ - begin_) {}

  // The shared bytes per rank: the integer gradient and its totals, and the largest part.
  static std::size_t shared_bytes(std::size_t n, const std::vector<std::size_t>& parts) {
    return NodeSharedReduce::bytes_per_rank(2 * (n + kTotalsSlots), largest_part(parts));
  }

  BatchStats compute(ParallelGradient& gradient, const float* params, const Batch& batch) override {
    return compute_fixed(blocks_, gradient, placed(params), batch, mine().data());
  }

  StepTotals exchange(const LocalStep& step, const std::optional<std::string>& local_error) override {
    blocks_.finish_step(comm_);
    const double t0 = now_seconds();
    write_fixed_totals(step, mine());
    node_.barrier("gradient exchange");
    const double t1 = now_seconds();
    communicated("node wait", t0, t1);  // for the other ranks' gradients
    std::int64_t totals[kTotalsSlots] = {};
    for (int q = 0; q < node_.size(); ++q)
      for (std::size_t i = 0; i < kTotalsSlots; ++i) totals[i] += node_.fixed_buffer(q)[n_ + i];
    if (read_flags(std::span<const std::int64_t>(totals)).failed) agree_and_throw(comm_, local_error);
    node_.sum_fixed(begin_, end_, 1.0 / ParallelGradient::kFixedOne, part_.data());
    communicated("node sum", t1, now_seconds());
    return read_fixed_totals(totals);
  }

  GradientView view() override { return {std::span<float>(part_), {}, 0, begin_, -1.0}; }

 private:
  std::span<std::int64_t> mine() const { return node_.fixed_buffer(node_.rank()); }

  DeterministicBlocks blocks_;
  AlignedVector<float> part_;  // this rank's part of the summed gradient
};

}  // namespace

bool node_exchange_wanted(const TrainConfig& config, int ranks) {
  const TrainOptions& o = config.options;
  if (ranks < 2 || !config.gradient_sync() || o.shard_update == "on" || (o.deterministic && o.clip_norm > 0))
    return false;
  return o.exchange == "node-shm" || (o.exchange == "auto" && kNodeExchangeByDefault);
}

std::unique_ptr<GradientSync> make_node_shared_sync(const TrainConfig& config, Communicator& comm,
                                                    const ModelSpec& spec, Timeline& timeline, bool block_order) {
  if (!node_exchange_wanted(config, comm.size())) return nullptr;
  const std::size_t n = spec.num_params();
  const bool fixed = config.options.deterministic;
  std::vector<std::size_t> parts = rank_parts(n, comm.size());
  std::string why_not;
  auto memory = comm.allocate_node_shared(
      fixed ? NodeSharedFixedExchange::shared_bytes(n, parts) : NodeSharedExchange::shared_bytes(n, parts), why_not);
  // Large models: the parameters once for the node, all in rank 0's region.
  const bool params_once = n >= shared_parameters_from();
  std::unique_ptr<NodeSharedMemory> params_memory;
  if (memory && params_once)
    params_memory = comm.allocate_node_shared(comm.rank() == 0 ? n * sizeof(float) : 0, why_not);
  if (!memory || (params_once && !params_memory)) {
    if (config.options.exchange == "node-shm")
      log_warn("--exchange node-shm: " + why_not + "; the gradient goes through MPI instead");
    else
      log_info("gradient exchange: MPI (no node shared memory: " + why_not + ")");
    return nullptr;
  }
  log_info("gradient exchange: node shared memory (" + std::to_string(comm.size()) +
           " ranks on one node; each sums and updates its part of the parameters" +
           (params_once ? ", kept once for the node" : "") +
           (fixed ? ", in fixed point)" : ")"));
  if (fixed)
    return std::make_unique<NodeSharedFixedExchange>(comm, spec, timeline, deterministic_block_rows(block_order),
                                                     std::move(parts), std::move(memory), std::move(params_memory));
  return std::make_unique<NodeSharedExchange>(comm, n, timeline, config.options.clip_norm > 0,
                                              config.on_nan == NanPolicy::stop, config.options.threads, std::move(parts),
                                              std::move(memory),
                                              std::move(params_memory));
}

}  // namespace dptrain
