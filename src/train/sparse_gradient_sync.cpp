// The gradient exchange for CSR input. Each rank's gradient is compact (sparse_gradient.hpp):
// the first-layer columns its rows touch, plus the tail. Per step:
//   1. allgather of every rank's touched columns (4 bytes each), merged into their union U,
//      the same on every rank;
//   2. sparse: one allreduce of |U| x width values + the tail + the totals, each rank placing
//      its values at their positions in U; dense: the allreduce of the whole gradient, from
//      which the union's columns are then read.
// --sparse-exchange auto takes the sparse reduction when it moves less than half the bytes
// of the dense one (measured each step from the union's size), dense otherwise. Both give the
// same sums (a rank adds exact zeros for columns it did not touch), so the optimizer always
// sees the union U and the same values; --deterministic sums fixed-point integers either way.
//
// Column-sharded update (--shard-update auto|on, 2+ ranks, not --deterministic): rank r owns
// the input columns [r C / p, (r + 1) C / p) and their optimizer state. U's part in that range
// is reduce-scattered to r (the tail and the totals travel in one small allreduce), r updates
// only those columns, and after the update every rank's updated columns are allgathered. The
// per-step update, which every rank otherwise repeats over all of U, is split p ways for the
// same bytes on the wire (a reduce-scatter and an allgather are the two halves of an allreduce).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "dptrain/clock.hpp"
#include "dptrain/error.hpp"
#include "gradient_sync.hpp"
#include "sharded_update.hpp"
#include "sparse_gradient.hpp"
#include "util/prefetch.hpp"

namespace dptrain {
namespace {

enum class Exchange { automatic, sparse, dense };

Exchange parse_exchange(const std::string& text) {
  if (text == "auto") return Exchange::automatic;
  if (text == "sparse") return Exchange::sparse;
  if (text == "dense") return Exchange::dense;
  throw ConfigError("--sparse-exchange '" + text + "': expected auto, sparse or dense");
}

// Sorted, distinct columns of every rank (each rank's list is sorted).
std::vector<std::int32_t> merge_columns(const std::vector<std::string>& lists) {
  std::vector<std::int32_t> all;
  for (const auto& bytes : lists) {
    const std::size_t n = bytes.size() / sizeof(std::int32_t), old = all.size();
    all.resize(old + n);
    if (n > 0) std::memcpy(all.data() + old, bytes.data(), n * sizeof(std::int32_t));
    std::inplace_merge(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(old), all.end());
  }
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

class SparseGradientSync final : public GradientSync {
 public:
  SparseGradientSync(const TrainConfig& config, Communicator& comm, const ModelSpec& spec, Timeline& timeline,
                     std::int64_t max_rows)
      // The base's dense buffer is not used: the dense exchange fills sums_ only when chosen.
      : GradientSync(comm, 0, timeline),
        params_(spec.num_params()),
        mode_(parse_exchange(config.options.sparse_exchange)),
        deterministic_(config.options.deterministic),
        width_(spec.widths[1]),
        tail_(sparse_tail_size(spec)),
        gradient_(spec, config.options.threads, max_rows),
        sharded_(sparse_shard_update_enabled(config, comm.size())) {
    for (int r = 0; r <= comm.size(); ++r)
      owned_.push_back(static_cast<std::int32_t>(spec.inputs() * r / comm.size()));
  }

  BatchStats compute(ParallelGradient&, const float* params, const Batch& batch) override {
    const CsrView x = batch.sparse->view();
    return deterministic_ ? gradient_.compute_fixed(params, x, batch.labels) : gradient_.compute(params, x, batch.labels);
  }

  StepTotals exchange(const LocalStep& mine, const std::optional<std::string>& local_error) override {
    const double t0 = now_seconds();
    const bool failed = mine.flags.failed;
    const std::vector<std::int32_t> none;
    const std::vector<std::int32_t>& cols = failed ? none : gradient_.columns();
    const std::string bytes(reinterpret_cast<const char*>(cols.data()), cols.size() * sizeof(std::int32_t));
    const std::vector<std::string> lists = comm_.allgather(bytes);
    union_ = merge_columns(lists);
    // The choice must be the same on every rank: it is made from what every rank received.
    double gathered = 0;
    for (const auto& list : lists) gathered += static_cast<double>(list.size());
    const std::size_t head = union_.size() * static_cast<std::size_t>(width_);
    const double sparse_bytes = gathered / comm_.size() + 4.0 * static_cast<double>(head + tail_ + kTotalsSlots);
    const double dense_bytes = 4.0 * static_cast<double>(params_ + kTotalsSlots);
    const bool sparse = mode_ == Exchange::sparse || (mode_ == Exchange::automatic && 2 * sparse_bytes < dense_bytes);
    volume_.bytes += sparse ? sparse_bytes : gathered / comm_.size() + dense_bytes;
    volume_.dense_bytes += dense_bytes;
    ++volume_.steps;
    volume_.sparse_steps += sparse ? 1 : 0;
    compact_.resize(head + tail_);
    cut_union();
    StepTotals totals = deterministic_        ? reduce(fixed_, sparse, mine, cols)
                              : sharded_ && sparse ? reduce_scatter(mine, cols)
                                                   : reduce(sums_, sparse, mine, cols);
    communicated(sparse ? "sparse allreduce wait" : "allreduce wait", t0, now_seconds());
    if (failed_) agree_and_throw(comm_, local_error);
    return sharded_ && !sparse ? keep_own_part(totals) : totals;
  }

  GradientView view() override {
    std::span<const std::int32_t> columns(union_);
    if (sharded_) columns = columns.subspan(cuts_[comm_.rank()], cuts_[comm_.rank() + 1] - cuts_[comm_.rank()]);
    return {std::span<float>(compact_), columns, width_, 0, sharded_ ? norm_ : -1.0};
  }

  // Sharded: every rank's updated columns to every rank.
  SyncPoint after_update(std::span<float> params, std::int64_t, bool, RankFlags,
                         const std::optional<std::string>&) override {
    if (!sharded_) return {true, false};
    const double t0 = now_seconds();
    const auto w = static_cast<std::size_t>(width_);
    gathered_.resize(union_.size() * w);
    const int me = comm_.rank();
    for (std::size_t u = cuts_[me]; u < cuts_[me + 1]; ++u)
      std::copy_n(params.data() + static_cast<std::size_t>(union_[u]) * w, w, gathered_.data() + u * w);
    comm_.allgather_parts(gathered_, value_cuts_, "parameter allgather");
    constexpr std::size_t kAhead = 16;  // the columns are scattered: fetch their lines early
    for (int r = 0; r < comm_.size(); ++r)
      if (r != me)
        for (std::size_t u = cuts_[r]; u < cuts_[r + 1]; ++u) {
          if (u + kAhead < cuts_[r + 1])
            prefetch_run<true>(params.data() + static_cast<std::size_t>(union_[u + kAhead]) * w, w);
          std::copy_n(gathered_.data() + u * w, w, params.data() + static_cast<std::size_t>(union_[u]) * w);
        }
    communicated("parameter allgather", t0, now_seconds());
    return {true, false};
  }

  // Sharded: each rank's columns of the optimizer state to every rank (before a checkpoint).
  // The tail is updated alike on every rank; it travels with the last rank's part.
  void gather_state(Optimizer& optimizer) override {
    if (!sharded_) return;
    std::vector<std::size_t> parts;
    for (const std::int32_t c : owned_) parts.push_back(static_cast<std::size_t>(c) * static_cast<std::size_t>(width_));
    parts.back() = params_;
    for (auto& [name, values] : optimizer.state())
      if (values->size() == params_) comm_.allgather_parts(*values, parts, "optimizer state allgather");
  }

  std::string update_split() const override { return sharded_ ? "update split by input column over the ranks" : ""; }

  ExchangeVolume take_volume() override {
    ExchangeVolume v = volume_;
    volume_ = {};
    return v;
  }

 private:
  // This rank's compact values (float sums, or fixed point), as E.
  template <class E>
  E own(std::size_t i) const {
    if constexpr (std::is_same_v<E, float>) return gradient_.values()[i];
    else return gradient_.fixed()[i];
  }

  // This rank's first-layer values at their columns' places in `buffer`: U's order (sparse), or
  // the parameters' (dense).
  template <class E>
  void place_own(E* buffer, bool sparse, const std::vector<std::int32_t>& cols) const {
    std::size_t u = 0;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      while (union_[u] != cols[i]) ++u;
      const std::size_t at = (sparse ? u : static_cast<std::size_t>(cols[i])) * static_cast<std::size_t>(width_);
      for (std::int64_t o = 0; o < width_; ++o) buffer[at + o] = own<E>(i * width_ + o);
    }
  }

  // Places this rank's values in `buffer` (union layout, or the whole parameter layout when
  // dense), sums over ranks, and reads the union's values into compact_.
  template <class E>
  StepTotals reduce(std::vector<E>& buffer, bool sparse, const LocalStep& mine, const std::vector<std::int32_t>& cols) {
    const std::size_t head = union_.size() * static_cast<std::size_t>(width_);
    const std::size_t body = sparse ? head + tail_ : params_;
    buffer.assign(body + kTotalsSlots, E(0));
    const std::size_t mine_head = cols.size() * static_cast<std::size_t>(width_);
    if (!mine.flags.failed) {
      place_own(buffer.data(), sparse, cols);
      for (std::size_t i = 0; i < tail_; ++i) buffer[body - tail_ + i] = own<E>(mine_head + i);
    }
    E* totals = buffer.data() + body;
    totals[0] = static_cast<E>(mine.rows);
    if constexpr (std::is_same_v<E, float>) totals[1] = mine.flags.failed ? 0.0f : static_cast<float>(mine.stats.loss);
    else totals[1] = mine.flags.failed ? 0 : gradient_.fixed()[mine_head + tail_];
    totals[2] = static_cast<E>(mine.flags.failed ? 0.0 : mine.stats.correct);
    totals[3] = static_cast<E>(!mine.flags.failed && std::isnan(mine.stats.loss) ? 1 : 0);
    const RankFlags flags = allreduce_flagged(comm_, std::span<E>(buffer), mine.flags, "gradient allreduce");
    failed_ = flags.failed;
    const double unit = std::is_same_v<E, float> ? 1.0 : 1.0 / ParallelGradient::kFixedOne;
    for (std::size_t u = 0; u < union_.size(); ++u) {
      const std::size_t from = (sparse ? u : static_cast<std::size_t>(union_[u])) * static_cast<std::size_t>(width_);
      for (std::int64_t o = 0; o < width_; ++o)
        compact_[u * width_ + o] = static_cast<float>(static_cast<double>(buffer[from + o]) * unit);
    }
    for (std::size_t i = 0; i < tail_; ++i)
      compact_[head + i] = static_cast<float>(static_cast<double>(buffer[body - tail_ + i]) * unit);
    const double loss = totals[3] > 0 ? NAN : static_cast<double>(totals[1]) * unit;
    return {static_cast<double>(totals[0]), loss, static_cast<double>(totals[2]), flags.stop};
  }

  // cuts_[r]: where rank r's owned columns start in union_; value_cuts_[r]: in U's values.
  void cut_union() {
    cuts_.clear();
    value_cuts_.clear();
    for (const std::int32_t c : owned_)
      cuts_.push_back(static_cast<std::size_t>(std::lower_bound(union_.begin(), union_.end(), c) - union_.begin()));
    cuts_.back() = union_.size();
    for (const std::size_t c : cuts_) value_cuts_.push_back(c * static_cast<std::size_t>(width_));
  }

  // Sharded, after a whole-union reduction: keeps this rank's columns and the tail, and the
  // whole gradient's norm (for --clip-norm; and not finite when any value is not: every rank
  // must skip or stop alike, though each keeps only its own part).
  StepTotals keep_own_part(StepTotals totals) {
    double squares = 0;
    for (const float v : compact_) squares += static_cast<double>(v) * v;
    norm_ = std::sqrt(squares);
    if (!std::isfinite(squares)) totals.loss = NAN;
    const auto w = static_cast<std::size_t>(width_);
    const std::size_t from = cuts_[comm_.rank()] * w, to = cuts_[comm_.rank() + 1] * w, head = union_.size() * w;
    std::copy(compact_.begin() + from, compact_.begin() + to, compact_.begin());
    std::copy(compact_.begin() + head, compact_.end(), compact_.begin() + (to - from));
    compact_.resize(to - from + tail_);
    return totals;
  }

  // Sharded sparse reduction: U's columns reduce-scattered to their owners; the tail, the
  // totals and the squared norm of every part (the global norm for --clip-norm; not finite
  // when any value is not, so every rank skips or stops alike) in one small allreduce.
  StepTotals reduce_scatter(const LocalStep& mine, const std::vector<std::int32_t>& cols) {
    const auto w = static_cast<std::size_t>(width_);
    const int me = comm_.rank();
    sums_.assign(union_.size() * w, 0.0f);
    small_.assign(tail_ + 5 + kFlagSlots, 0.0);
    if (!mine.flags.failed) {
      place_own(sums_.data(), true, cols);
      for (std::size_t i = 0; i < tail_; ++i) small_[i] = gradient_.values()[cols.size() * w + i];
    }
    const std::size_t part = value_cuts_[me + 1] - value_cuts_[me];
    compact_.resize(part + tail_);
    comm_.reduce_scatter_sum(sums_, std::span<float>(compact_.data(), part), value_cuts_, "gradient reduce-scatter");
    double squares = 0;
    for (std::size_t i = 0; i < part; ++i) squares += static_cast<double>(compact_[i]) * compact_[i];
    double* totals = small_.data() + tail_;
    totals[0] = static_cast<double>(mine.rows);
    totals[1] = mine.flags.failed ? 0.0 : mine.stats.loss;
    totals[2] = mine.flags.failed ? 0.0 : mine.stats.correct;
    totals[3] = !mine.flags.failed && std::isnan(mine.stats.loss) ? 1 : 0;
    totals[4] = squares;
    const RankFlags flags = allreduce_flagged(comm_, std::span<double>(small_), mine.flags, "gradient allreduce");
    failed_ = flags.failed;
    for (std::size_t i = 0; i < tail_; ++i) {
      compact_[part + i] = static_cast<float>(small_[i]);
      totals[4] += small_[i] * small_[i];
    }
    norm_ = std::sqrt(totals[4]);
    const bool finite = totals[3] == 0 && std::isfinite(totals[4]);
    return {totals[0], finite ? totals[1] : NAN, totals[2], flags.stop};
  }

  std::size_t params_;  // num_params of the model
  Exchange mode_;
  bool deterministic_;
  std::int64_t width_;
  std::size_t tail_;
  SparseGradient gradient_;
  bool sharded_;
  std::vector<std::int32_t> owned_;  // owned_[r]: rank r's first input column (owned_[p]: the input count)
  std::vector<std::size_t> cuts_, value_cuts_;
  std::vector<std::int32_t> union_;
  std::vector<float> sums_, compact_, gathered_;
  std::vector<double> small_;
  double norm_ = -1.0;
  std::vector<std::int64_t> fixed_;
  ExchangeVolume volume_;
  bool failed_ = false;
};

}  // namespace

std::unique_ptr<GradientSync> make_sparse_gradient_sync(const TrainConfig& config, Communicator& comm,
                                                        const ModelSpec& spec, Timeline& timeline,
                                                        std::int64_t max_rows) {
  if (!config.gradient_sync())
    throw ConfigError("--sync params is not supported with CSR (sparse) features; use --sync grad");
  return std::make_unique<SparseGradientSync>(config, comm, spec, timeline, max_rows);
}

}  // namespace dptrain
