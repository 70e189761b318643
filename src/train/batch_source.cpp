#include "batch_source.hpp"

#include <algorithm>

#include "util/prefetch.hpp"

namespace dptrain {
namespace {

// Copies the rows a visitor names into reused, aligned buffers.
class RowGather {
 public:
  RowGather(const Shard& shard, std::int64_t max_rows)
      : shard_(shard),
        cols_(shard.data.cols),
        label_cols_(shard.data.label_cols),
        x_(shard.sparse() ? 0 : static_cast<std::size_t>(std::max<std::int64_t>(1, max_rows) * cols_)),
        y_(static_cast<std::size_t>(std::max<std::int64_t>(1, max_rows) * label_cols_)),
        ids_(static_cast<std::size_t>(std::max<std::int64_t>(1, max_rows))) {}
  void clear() {
    rows_ = 0;
    pending_ = -1;
    csr_.clear();
  }
  void take(std::int64_t local) {
    if (shard_.sparse()) {
      csr_.append(shard_.csr.view(), local);
    } else {
      // The row after this one is fetched while this one is copied: a shuffled shard's rows are
      // scattered over memory, and the hardware prefetcher only follows a row once it has begun.
      if (pending_ >= 0) copy_pending();
      pending_ = local;
      prefetch_run(shard_.row(local), static_cast<std::size_t>(cols_));
    }
    std::copy(shard_.label(local), shard_.label(local) + label_cols_, y_.data() + rows_ * label_cols_);
    ids_[static_cast<std::size_t>(rows_)] = shard_.range.begin + local;
    ++rows_;
  }
  Batch batch() {
    if (pending_ >= 0) copy_pending();
    pending_ = -1;
    return {rows_, x_.data(), y_.data(), ids_.data(), shard_.sparse() ? &csr_ : nullptr};
  }

 private:
  const Shard& shard_;
  std::int64_t cols_, label_cols_;
  AlignedVector<float> x_, y_;
  std::vector<std::int64_t> ids_;
  CsrRows csr_;  // a CSR shard's rows
  std::int64_t rows_ = 0;
  std::int64_t pending_ = -1;  // the dense row taken last, not yet copied (batch row rows_ - 1)

  void copy_pending() {
    std::copy(shard_.row(pending_), shard_.row(pending_) + cols_, x_.data() + (rows_ - 1) * cols_);
  }
};

// The in-memory sources below differ only in which rows each step takes (take_step_rows).
class ShardRowsSource : public BatchSource {
 public:
  ShardRowsSource(const InMemoryData& d, std::int64_t max_rows)
      : d_(d), max_rows_(max_rows), gather_(*d.shard, max_rows) {}
  Batch next() final {
    gather_.clear();
    take_step_rows();
    return gather_.batch();
  }
  std::int64_t max_rows() const final { return std::max<std::int64_t>(1, max_rows_); }

 protected:
  // gather_.take()s this rank's rows (shard-local indices) of the next step.
  virtual void take_step_rows() = 0;

  InMemoryData d_;
  std::int64_t max_rows_;
  RowGather gather_;
};

// --sync grad: every step is the same global batch for any rank count; a rank takes its rows.
class StratifiedShardSource final : public ShardRowsSource {
 public:
  explicit StratifiedShardSource(const InMemoryData& d)
      : ShardRowsSource(d, std::min(StratifiedOrder::max_batch(d.global_batch, d.selection->rows()),
                                    d.selection->training_rows_in(d.shard->range))),
        per_stratum_(StratifiedOrder::training_rows_per_stratum(*d.selection)) {}
  void start_epoch(int epoch, std::int64_t skip_steps) override {
    order_.emplace(*d_.selection, per_stratum_, d_.seed, epoch, d_.steps, d_.shard->range);
    for (std::int64_t s = 0; s < skip_steps; ++s) order_->next([](std::int64_t) {});
  }

 private:
  void take_step_rows() override {
    order_->next([&](std::int64_t row) { gather_.take(row - d_.shard->range.begin); });
  }

  std::vector<std::int64_t> per_stratum_;
  std::optional<StratifiedOrder> order_;
};

// --order block: batch s is positions [s*B, (s+1)*B) of the block order; a rank takes the rows
// of its shard (a streaming rank takes those of its blocks instead: stream_source.cpp).
class BlockOrderShardSource final : public ShardRowsSource {
 public:
  explicit BlockOrderShardSource(const InMemoryData& d)
      : ShardRowsSource(d, std::min(d.global_batch, d.shard->rows())) {}
  void start_epoch(int epoch, std::int64_t skip_steps) override {
    order_.emplace(*d_.blocks, *d_.selection, d_.seed, static_cast<std::uint64_t>(epoch), d_.window);
    BlockOrder::Entry e;
    for (std::int64_t i = 0; i < skip_steps * d_.global_batch && order_->next(e); ++i) {}
  }

 private:
  void take_step_rows() override {
    BlockOrder::Entry e;
    for (std::int64_t i = 0; i < d_.global_batch && order_->next(e); ++i)
      if (d_.shard->range.contains(e.row) && d_.selection->training(e.row)) gather_.take(e.row - d_.shard->range.begin);
  }

  std::optional<BlockOrder> order_;
};

// --sync params (local SGD): this rank's own shuffle of its shard, the same number of steps
// on every rank; each step takes max_rows_ rows (the local batch).
class LocalShuffleSource final : public ShardRowsSource {
 public:
  explicit LocalShuffleSource(const InMemoryData& d)
      : ShardRowsSource(d, (d.selection->training_rows_in(d.shard->range) + d.steps - 1) / d.steps) {}
  void start_epoch(int epoch, std::int64_t skip_steps) override {
    cursor_.reset();
    order_.emplace(static_cast<std::uint64_t>(std::max<std::int64_t>(1, d_.shard->rows())),
                   d_.seed + 0x9E3779B9ull * static_cast<std::uint64_t>(d_.rank + 1), epoch);
    cursor_.emplace(*order_, *d_.selection, d_.shard->range.begin);
    for (std::int64_t s = 0; s < skip_steps; ++s) cursor_->next(max_rows_, [](std::int64_t) {});
  }

 private:
  void take_step_rows() override {
    cursor_->next(max_rows_, [&](std::int64_t local) { gather_.take(local); });
  }

  std::optional<GlobalPermutation> order_;
  std::optional<BatchCursor> cursor_;
};

}  // namespace

std::unique_ptr<BatchSource> make_in_memory_source(const InMemoryData& data, SyncMode sync) {
  if (sync == SyncMode::gradients && data.blocks) return std::make_unique<BlockOrderShardSource>(data);
  if (sync == SyncMode::gradients) return std::make_unique<StratifiedShardSource>(data);
  return std::make_unique<LocalShuffleSource>(data);
}

}  // namespace dptrain
