#pragma once
// The seam between "gradient" and "update": how the ranks combine a step. One implementation
// per mode, chosen once from the configuration:
//   --sync grad --overlap off     one allreduce of the whole gradient after backprop
//   --sync grad --overlap on      each gradient bucket's allreduce starts as soon as backprop
//                                 has finished it; the step's totals follow
//   --sync grad --deterministic   fixed-point integer sums (exact, order-free)
//   --exchange node-shm           ranks of one node: sums in shared memory (node_shared_sync.hpp)
//   --sync params                 local SGD: no exchange per step; the parameters are averaged
//                                 every --average-every steps and at the end of every epoch
// Every reduction carries the flags (failed, stop) in its last two slots (RankFlags).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "batch_source.hpp"
#include "dptrain/communicator.hpp"
#include "dptrain/model.hpp"
#include "dptrain/optimizer.hpp"
#include "train/timeline.hpp"
#include "dptrain/train_config.hpp"
#include "parallel_gradient.hpp"

namespace dptrain {

class DeterministicBlocks;

// What this rank brings to a step.
struct LocalStep {
  std::int64_t rows = 0;
  BatchStats stats;
  RankFlags flags;  // failed: this rank's work threw; stop: a stop signal reached it
};

// The step as every rank sees it after the exchange (local SGD: this rank's own step).
struct StepTotals {
  double rows = 0, loss = 0, correct = 0;
  bool stop = false;  // some rank was asked to stop (agreed)
};

// After the update: whether every rank now holds the same parameters (a point where a
// checkpoint may be written) and whether the ranks agreed to stop.
struct SyncPoint {
  bool synced = true;
  bool stop = false;
};

// The combined gradient as the optimizer takes it: dense (num_params values), or compact for
// CSR input: the first layer's `columns`, `width` values each, then the tail (sparse_model.hpp).
struct GradientView {
  std::span<float> values;
  std::span<const std::int32_t> columns;
  std::int64_t width = 0;  // 0: dense
  // --shard-update: `values` are the parameters [offset, offset + values.size()) only, and
  // `norm` is the whole gradient's L2 norm when clipping needs it (negative: from `values`).
  std::size_t offset = 0;
  double norm = -1;
};

// Gradient bytes a rank sends per step (its allgather part taken as the mean over ranks),
// averaged since the last take, and what the dense allreduce of the whole gradient would send.
struct ExchangeVolume {
  double bytes = 0, dense_bytes = 0;
  std::int64_t steps = 0, sparse_steps = 0;
};

class GradientSync {
 public:
  // own_buffer false: the subclass keeps the gradient elsewhere (grad_ stays empty).
  GradientSync(Communicator& comm, std::size_t num_params, Timeline& timeline, bool own_buffer = true)
      : comm_(comm), n_(num_params), grad_(own_buffer ? num_params + kTotalsSlots : 0, 0.0f), timeline_(timeline) {}
  virtual ~GradientSync() = default;
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // This rank's gradient of `batch`, summed over its rows, into this sync's buffer.
  virtual BatchStats compute(ParallelGradient& gradient, const float* params, const Batch& batch);
  // Combines the step over ranks; afterwards gradient() holds the sum to apply. If any rank
  // failed, every rank throws the agreed CollectiveFailure (local SGD: at the next averaging).
  virtual StepTotals exchange(const LocalStep& mine, const std::optional<std::string>& local_error) = 0;
  // After the update (local SGD averages the parameters here).
  // `flags`: this rank's flags now (a failure may have come from the update itself).
  virtual SyncPoint after_update(std::span<float> params, std::int64_t global_step, bool epoch_end,
                                 RankFlags flags, const std::optional<std::string>& local_error);
  // Turns this rank's epoch sums (loss, correct, rows) into global ones; a failure on any
  // rank throws the agreed failure.
  virtual void epoch_sums(std::vector<double>& sums, const std::optional<std::string>& local_error);

  // For a sync that finishes its sums and the update in one pass over this rank's part (the
  // node exchange): the optimizer step with the sums times `scale`, then every rank's new part
  // shared. Returns false when some sum was not finite (the parameters are then spoilt: such a
  // sync is chosen only with --on-nan stop); nullopt when the sync leaves the update to the
  // caller, who applies view().
  virtual std::optional<bool> fused_update(Optimizer&, std::span<float> /*params*/, double /*lr*/, float /*scale*/) {
    return std::nullopt;
  }
  // Where the parameters live while training: empty when in the trainer's own memory (every
  // sync but the node exchange); else memory of the sync's, one copy for the node's ranks, which
  // it has filled with `params` (the same on every rank; a collective) and which its update
  // changes part by part. It lives as long as the sync.
  virtual std::span<float> place_parameters(std::span<const float> /*params*/) { return {}; }
  float* gradient() { return grad_.data(); }
  // This rank's own float gradient of the step before the exchange (empty when the sync keeps
  // none: fixed point, CSR), for fault injection.
  virtual std::span<float> local_gradient() { return std::span<float>(grad_).first(grad_.empty() ? 0 : n_); }
  virtual GradientView view() { return {{grad_.data(), n_}, {}, 0}; }
  virtual ExchangeVolume take_volume() { return {}; }
  // How the update is split over the ranks, for the run's header ("" when every rank updates
  // every parameter, or when the exchange reports its own way, as the node exchange does).
  virtual std::string update_split() const { return {}; }
  // Brings the optimizer state that other ranks updated into this rank's copy (a collective;
  // before a checkpoint; only a sharded update leaves it stale).
  virtual void gather_state(Optimizer&) {}
  // Seconds spent communicating since the last call.
  double take_comm_seconds();

 protected:
  // The gradient buffer holds num_params sums, then [rows, loss, correct, non-finite] and the
  // two flag slots.
  static constexpr std::size_t kTotalsSlots = 4 + kFlagSlots;
  // Writes this rank's totals and flags behind the gradient (of grad_, or of `buffer`: n_ values
  // and the totals slots).
  void write_totals(const LocalStep& mine) { write_totals(mine, grad_); }
  void write_totals(const LocalStep& mine, std::span<float> buffer) const;
  StepTotals read_totals() const;
  // --deterministic: `blocks` planned for `batch` (a collective) and their gradient in fixed
  // point into `fixed` (n_ sums, the loss in slot n_); empty stats when some rank failed.
  BatchStats compute_fixed(DeterministicBlocks& blocks, ParallelGradient& gradient, const float* params,
                           const Batch& batch, std::int64_t* fixed);
  // The totals and flags behind a fixed-point gradient (n_ sums, then kTotalsSlots), and the
  // step's totals from those slots summed over the ranks.
  void write_fixed_totals(const LocalStep& mine, std::span<std::int64_t> buffer) const;
  static StepTotals read_fixed_totals(std::span<const std::int64_t, kTotalsSlots> totals);
  // Records a span of communication.
  void communicated(const char* name, double start, double end);

  Communicator& comm_;
  std::size_t n_;
  AlignedVector<float> grad_;
  Timeline& timeline_;
  double comm_seconds_ = 0;
};

// block_order: the step's rows come in the block order (streamed or --order block).
std::unique_ptr<GradientSync> make_gradient_sync(const TrainConfig& config, Communicator& comm,
                                                 const ModelSpec& spec, Timeline& timeline, bool block_order);
// For CSR input (sparse_gradient_sync.cpp): the compact gradient, exchanged as the union of
// the touched columns or by the dense allreduce, whichever moves fewer bytes (--sparse-exchange).
std::unique_ptr<GradientSync> make_sparse_gradient_sync(const TrainConfig& config, Communicator& comm,
                                                        const ModelSpec& spec, Timeline& timeline,
                                                        std::int64_t max_rows);

}  // namespace dptrain
