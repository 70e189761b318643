#include "batch_source.hpp"

#include <omp.h>

#include <algorithm>

#include "util/prefetch.hpp"

namespace dptrain {
namespace {

// Copies the rows a visitor names into reused, aligned buffers. Dense rows are copied when the
// batch is complete, on the rank's threads: thread t copies the rows ParallelGradient gives it
// (rows x t / T up to rows x (t + 1) / T), so they arrive in the cache of the core that
// multiplies them, and each row's lines are fetched while the row before it is copied (a
// shuffled shard's rows are scattered; the hardware prefetcher follows a row only once begun).
class RowGather {
 public:
  RowGather(const Shard& shard, std::int64_t max_rows, int threads)
      : shard_(shard),
        cols_(shard.data.cols),
        label_cols_(shard.data.label_cols),
        threads_(std::max(1, threads)),
        x_(shard.sparse() ? 0 : static_cast<std::size_t>(std::max<std::int64_t>(1, max_rows) * cols_)),
        y_(static_cast<std::size_t>(std::max<std::int64_t>(1, max_rows) * label_cols_)),
        ids_(static_cast<std::size_t>(std::max<std::int64_t>(1, max_rows))),
        locals_(ids_.size()) {}
  void clear() {
    rows_ = 0;
    csr_.clear();
  }
  void take(std::int64_t local) {
    if (shard_.sparse()) csr_.append(shard_.csr.view(), local);
    std::copy(shard_.label(local), shard_.label(local) + label_cols_, y_.data() + rows_ * label_cols_);
    ids_[static_cast<std::size_t>(rows_)] = shard_.range.begin + local;
    locals_[static_cast<std::size_t>(rows_)] = local;
    ++rows_;
  }
  Batch batch() {
    if (!shard_.sparse()) copy_rows();
    return {rows_, x_.data(), y_.data(), ids_.data(), shard_.sparse() ? &csr_ : nullptr};
  }

 private:
  void copy_rows() {
    const std::int64_t n = rows_;
#pragma omp parallel num_threads(threads_) if (threads_ > 1 && n >= 2 * threads_)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const std::int64_t lo = n * t / nt, hi = n * (t + 1) / nt;
      if (lo < hi) prefetch_run(shard_.row(locals_[static_cast<std::size_t>(lo)]), static_cast<std::size_t>(cols_));
      for (std::int64_t r = lo; r < hi; ++r) {
        if (r + 1 < hi)
          prefetch_run(shard_.row(locals_[static_cast<std::size_t>(r + 1)]), static_cast<std::size_t>(cols_));
        const float* row = shard_.row(locals_[static_cast<std::size_t>(r)]);
        std::copy(row, row + cols_, x_.data() + r * cols_);
      }
    }
  }

  const Shard& shard_;
  std::int64_t cols_, label_cols_;
  int threads_;
  AlignedVector<float> x_, y_;
  std::vector<std::int64_t> ids_;
  std::vector<std::int64_t> locals_;  // the batch's rows, shard-local, in batch order
  CsrRows csr_;                       // a CSR shard's rows
  std::int64_t rows_ = 0;
};

// The in-memory sources below differ only in which rows each step takes (take_step_rows).
class ShardRowsSource : public BatchSource {
 public:
  ShardRowsSource(const InMemoryData& d, std::int64_t max_rows)
      : d_(d), max_rows_(max_rows), gather_(*d.shard, max_rows, d.threads) {}
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
