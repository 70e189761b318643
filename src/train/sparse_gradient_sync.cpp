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
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "dptrain/clock.hpp"
#include "dptrain/error.hpp"
#include "gradient_sync.hpp"
#include "sparse_gradient.hpp"

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
        gradient_(spec, config.options.threads, max_rows) {}

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
    const StepTotals totals = deterministic_ ? reduce(fixed_, sparse, mine, cols) : reduce(sums_, sparse, mine, cols);
    communicated(sparse ? "sparse allreduce wait" : "allreduce wait", t0, now_seconds());
    if (failed_) agree_and_throw(comm_, local_error);
    return totals;
  }

  GradientView view() override { return {std::span<float>(compact_), std::span<const std::int32_t>(union_), width_}; }

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

  // Places this rank's values in `buffer` (union layout, or the whole parameter layout when
  // dense), sums over ranks, and reads the union's values into compact_.
  template <class E>
  StepTotals reduce(std::vector<E>& buffer, bool sparse, const LocalStep& mine, const std::vector<std::int32_t>& cols) {
    const std::size_t head = union_.size() * static_cast<std::size_t>(width_);
    const std::size_t body = sparse ? head + tail_ : params_;
    buffer.assign(body + kTotalsSlots, E(0));
    const std::size_t mine_head = cols.size() * static_cast<std::size_t>(width_);
    if (!mine.flags.failed) {
      std::size_t u = 0;
      for (std::size_t i = 0; i < cols.size(); ++i) {
        while (union_[u] != cols[i]) ++u;
        const std::size_t at = (sparse ? u : static_cast<std::size_t>(cols[i])) * static_cast<std::size_t>(width_);
        for (std::int64_t o = 0; o < width_; ++o) buffer[at + o] = own<E>(i * width_ + o);
      }
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

  std::size_t params_;  // num_params of the model
  Exchange mode_;
  bool deterministic_;
  std::int64_t width_;
  std::size_t tail_;
  SparseGradient gradient_;
  std::vector<std::int32_t> union_;
  std::vector<float> sums_, compact_;
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
