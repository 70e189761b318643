#include "stream_source.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "data/block_reader.hpp"
#include "dptrain/clock.hpp"
#include "dptrain/error.hpp"
#include "dptrain/memory_budget.hpp"

namespace dptrain {
namespace {

std::int64_t row_bytes(const DataDescription& d) { return (d.cols + d.label_cols) * 4; }

// Positions of the sequence one batch spans: B rows at about (rows / blocks) rows a position.
std::int64_t positions_per_batch(const StreamData& d) {
  const std::int64_t per_position = std::max<std::int64_t>(1, d.blocks->rows() / std::max<std::int64_t>(1, d.blocks->blocks()));
  return (d.global_batch + per_position - 1) / per_position + 1;
}

// Positions the prefetch thread may run ahead of the sequence: a whole batch (the loop gathers
// a batch before computing it) and kPrefetchBlocks of this rank's blocks more.
std::int64_t lookahead(const StreamData& d) { return positions_per_batch(d) + kPrefetchBlocks * d.ranks; }

std::int64_t blocks_held(const StreamData& d) {
  return (d.window + positions_per_batch(d) + lookahead(d) + d.ranks - 1) / d.ranks + 1;
}

class StreamSource final : public BatchSource {
 public:
  explicit StreamSource(const StreamData& d)
      : d_(d),
        reader_(*d.options, *d.data, *d.blocks, d.spec),
        cols_(d.data->cols),
        label_cols_(d.data->label_cols),
        lookahead_(lookahead(d)),
        x_(static_cast<std::size_t>(std::max<std::int64_t>(1, d.global_batch) * cols_)),
        y_(static_cast<std::size_t>(std::max<std::int64_t>(1, d.global_batch) * label_cols_)),
        ids_(static_cast<std::size_t>(std::max<std::int64_t>(1, d.global_batch))) {}
  ~StreamSource() override { stop_prefetch(); }

  void start_epoch(int epoch, std::int64_t skip_steps) override;
  Batch next() override;
  std::int64_t max_rows() const override { return std::max<std::int64_t>(1, d_.global_batch); }
  double take_io_wait() override { return std::exchange(io_wait_, 0.0); }
  std::int64_t take_dropped() override { return std::exchange(dropped_, 0); }

 private:
  struct Slot {
    Shard block;
    std::string error;  // why the block could not be read or checked
  };
  bool mine(std::int64_t position) const { return position % d_.ranks == d_.rank; }
  void prefetch(std::vector<std::int64_t> positions);
  void prefetch_blocks(const std::vector<std::int64_t>& positions);
  void stop_prefetch();
  void advance_frontier();
  const Shard& block(std::int64_t position);
  void finished(std::int64_t position);
  void consume(const BlockOrder::Entry& e);

  StreamData d_;
  BlockReader reader_;  // used by the prefetch thread only
  std::int64_t cols_, label_cols_, lookahead_;
  AlignedVector<float> x_, y_;
  std::vector<std::int64_t> ids_;  // global row ids (--deterministic)
  std::int64_t rows_ = 0;
  std::optional<BlockOrder> order_;
  // Consumer side: rows still to take from each of this rank's positions (-1: not reached),
  // and the blocks it holds.
  std::vector<std::int64_t> remaining_;
  std::vector<const Shard*> held_;
  std::int64_t published_ = -1;  // the frontier the prefetcher was told
  double io_wait_ = 0;
  std::int64_t dropped_ = 0;
  // Shared with the prefetch thread, under mutex_.
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_;
  std::vector<Slot*> ready_;   // by position
  std::vector<char> done_;     // by position: every row taken, the buffer goes back at once
  std::int64_t frontier_ = -1;
  bool stop_ = false;
  std::string failure_;  // the prefetch thread stopped on this error
  std::thread thread_;
};

void StreamSource::stop_prefetch() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// The prefetch thread: reads this rank's blocks in sequence order, up to `lookahead_` positions
// ahead of the positions the sequence has reached, into free buffers.
void StreamSource::prefetch(std::vector<std::int64_t> positions) {
  try {
    prefetch_blocks(positions);
  } catch (const std::exception& e) {  // e.g. out of memory: the loop must not wait forever
    {
      std::lock_guard<std::mutex> lock(mutex_);
      failure_ = std::string("prefetching data failed: ") + e.what();
    }
    changed_.notify_all();
  }
}

void StreamSource::prefetch_blocks(const std::vector<std::int64_t>& positions) {
  for (std::int64_t j : positions) {
    Slot* slot = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || j <= frontier_ + lookahead_; });
      if (stop_) return;
      if (done_[static_cast<std::size_t>(j)]) continue;  // no rows of this block are left to take
      if (free_.empty()) {
        slots_.push_back(std::make_unique<Slot>());
        free_.push_back(slots_.back().get());
      }
      slot = free_.back();
      free_.pop_back();
    }
    slot->error.clear();
    try {
      reader_.read(order_->block_at(j), slot->block);
    } catch (const std::exception& e) {
      slot->error = e.what();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (done_[static_cast<std::size_t>(j)])
        free_.push_back(slot);
      else
        ready_[static_cast<std::size_t>(j)] = slot;
    }
    changed_.notify_all();
  }
}

void StreamSource::start_epoch(int epoch, std::int64_t skip_steps) {
  stop_prefetch();
  const std::int64_t n = d_.blocks->blocks();
  order_.emplace(*d_.blocks, *d_.selection, d_.seed, static_cast<std::uint64_t>(epoch), d_.window);
  remaining_.assign(static_cast<std::size_t>(n), -1);
  held_.assign(static_cast<std::size_t>(n), nullptr);
  free_.clear();
  for (auto& slot : slots_) free_.push_back(slot.get());
  ready_.assign(static_cast<std::size_t>(n), nullptr);
  done_.assign(static_cast<std::size_t>(n), 0);
  frontier_ = published_ = -1;
  stop_ = false;
  failure_.clear();
  // A resumed epoch: walk the sequence to the cursor without reading anything.
  BlockOrder::Entry e;
  for (std::int64_t i = 0; i < skip_steps * d_.global_batch && order_->next(e); ++i) {
    advance_frontier();
    if (mine(e.position) && --remaining_[static_cast<std::size_t>(e.position)] == 0) finished(e.position);
  }
  std::vector<std::int64_t> positions;
  for (std::int64_t j = d_.rank; j < n; j += d_.ranks)
    if (!done_[static_cast<std::size_t>(j)]) positions.push_back(j);
  thread_ = std::thread([this, p = std::move(positions)]() mutable { prefetch(std::move(p)); });
}

// Positions the sequence reached since the last call: count their rows, and tell the prefetcher.
void StreamSource::advance_frontier() {
  const std::int64_t reached = order_->frontier();
  if (reached <= published_) return;
  for (std::int64_t j = published_ + 1; j <= reached; ++j) {
    if (!mine(j)) continue;
    remaining_[static_cast<std::size_t>(j)] = order_->rows_at(j);
    if (order_->rows_at(j) == 0) finished(j);
  }
  published_ = reached;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    frontier_ = reached;
  }
  changed_.notify_all();
}

// Every row of this rank's block at `position` is taken: its buffer goes back to the pool.
void StreamSource::finished(std::int64_t position) {
  const auto j = static_cast<std::size_t>(position);
  held_[j] = nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  done_[j] = 1;
  if (ready_[j]) free_.push_back(std::exchange(ready_[j], nullptr));
}

// The block at `position`, waiting for the prefetch thread if it is not there yet.
const Shard& StreamSource::block(std::int64_t position) {
  const auto j = static_cast<std::size_t>(position);
  if (!held_[j]) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!ready_[j]) {
      const double t0 = now_seconds();
      changed_.wait(lock, [&] { return ready_[j] != nullptr || !failure_.empty(); });
      io_wait_ += now_seconds() - t0;
    }
    if (!ready_[j]) throw DataError(failure_);
    if (!ready_[j]->error.empty()) throw DataError(ready_[j]->error);
    held_[j] = &ready_[j]->block;
  }
  return *held_[j];
}

void StreamSource::consume(const BlockOrder::Entry& e) {
  advance_frontier();
  if (!mine(e.position)) return;
  const Shard& b = block(e.position);
  if (b.dropped.contains(e.row)) {
    ++dropped_;
  } else if (d_.selection->training(e.row)) {
    const std::int64_t local = e.row - b.range.begin;
    std::copy(b.row(local), b.row(local) + cols_, x_.data() + rows_ * cols_);
    std::copy(b.label(local), b.label(local) + label_cols_, y_.data() + rows_ * label_cols_);
    ids_[static_cast<std::size_t>(rows_)] = e.row;
    ++rows_;
  }
  if (--remaining_[static_cast<std::size_t>(e.position)] == 0) finished(e.position);
}

Batch StreamSource::next() {
  rows_ = 0;
  BlockOrder::Entry e;
  for (std::int64_t i = 0; i < d_.global_batch && order_->next(e); ++i) consume(e);
  return {rows_, x_.data(), y_.data(), ids_.data()};
}

}  // namespace

std::int64_t stream_memory_bytes(const StreamData& d) {
  const std::int64_t blocks = blocks_held(d) * d.blocks->max_rows() * row_bytes(*d.data);
  const std::int64_t batch = d.global_batch * row_bytes(*d.data);
  const std::int64_t order = (d.window + positions_per_batch(d)) * d.blocks->max_rows() * 24 + d.blocks->blocks() * 40;
  const std::int64_t caches = static_cast<std::int64_t>(d.options->files.size() * BlockReader::cache_bytes()) + (1 << 20);
  return blocks + batch + order + caches;
}

std::unique_ptr<BatchSource> make_stream_source(const StreamData& d) {
  const std::int64_t need = stream_memory_bytes(d);
  if (need > d.budget)
    throw ConfigError("--memory-budget " + mebibytes(static_cast<double>(d.budget)) +
                      " is too small to stream this data: a rank holds about " + std::to_string(blocks_held(d)) +
                      " blocks of up to " + std::to_string(d.blocks->max_rows()) + " rows (the --shuffle-window of " +
                      std::to_string(d.window) + " blocks over " + std::to_string(d.ranks) +
                      " rank(s), a batch and the prefetched blocks), about " + mebibytes(static_cast<double>(need)) +
                      "; raise --memory-budget, lower --shuffle-window or --batch, or use more ranks");
  return std::make_unique<StreamSource>(d);
}

}  // namespace dptrain
