#pragma once
// The block-shuffled global order (--order block, and always when streaming): the order a
// rank can read from disk in large pieces, yet defined only by the data, --seed, the epoch
// and --shuffle-window, never by the rank or thread count.
//
// The rows are cut into blocks that follow the file's storage: whole HDF5 chunks (several
// when chunks are small), or aligned runs of rows in a contiguous file, about 256 KiB each.
// An epoch permutes the blocks; the block at position j of that permutation spreads its rows
// (in a shuffled order of their own) evenly over the positions [j, j + W) of a "key" line,
// W = --shuffle-window blocks, each row at j + W * (k + u) / b for its k-th place among the b
// rows and a random u in [0, 1). The epoch's sequence is every row sorted by key. So at any
// point of the sequence rows come evenly from W consecutive blocks of the permutation (a
// sliding shuffle buffer of W blocks, without the refill bursts of a windowed shuffle), and a
// block is needed only while the sequence passes its W positions: a reader holds about W
// blocks, whatever the file size. A file sorted by label still gives mixed batches, because
// the W blocks are a random sample of the file. Batch s is positions [s*B, (s+1)*B) of the
// sequence; rows left out (held-out or dropped) are skipped where they occur, so a batch can
// be a few rows short. Positions are dealt to ranks (position j to rank j mod p when
// streaming), so each rank reads about 1/p of the blocks and contributes their rows of each
// batch; the sum of the batch's gradients is the same on any rank count.
#include <cstdint>
#include <deque>
#include <vector>

#include "dptrain/dataset.hpp"
#include "dptrain/row_selection.hpp"
#include "dptrain/shard.hpp"

namespace dptrain {

class BlockLayout {
 public:
  static constexpr std::int64_t kTargetBytes = 256 * 1024;
  // Blocks of every file (blocks never span files), from the files' chunking.
  explicit BlockLayout(const DataDescription& data);
  BlockLayout() = default;
  std::int64_t blocks() const { return static_cast<std::int64_t>(starts_.size()) - 1; }
  ShardRange block(std::int64_t b) const { return {starts_[b], starts_[b + 1]}; }
  std::int64_t max_rows() const { return max_rows_; }
  std::int64_t rows() const { return starts_.empty() ? 0 : starts_.back(); }
  // The file holding block b.
  std::size_t file_of(std::int64_t b) const { return file_[b]; }

 private:
  std::vector<std::int64_t> starts_ = {0};
  std::vector<std::size_t> file_;
  std::int64_t max_rows_ = 0;
};

// The rows of block b that the sequence visits (not held out), in visiting order within the
// block: a shuffle defined by the seed, the epoch and the block.
std::vector<std::int64_t> block_sequence(const BlockLayout& layout, const RowSelection& selection,
                                         std::uint64_t seed, std::uint64_t epoch, std::int64_t block);

class BlockOrder {
 public:
  static constexpr std::int64_t kDefaultWindow = 64;
  struct Entry {
    std::int64_t position;  // of the row's block in the epoch's block permutation
    std::int64_t row;       // global row
  };
  BlockOrder(const BlockLayout& layout, const RowSelection& selection, std::uint64_t seed,
             std::uint64_t epoch, std::int64_t window);
  // The next row of the sequence; false at the end of the epoch.
  bool next(Entry& out);
  // The block at position j of this epoch's permutation.
  std::int64_t block_at(std::int64_t position) const {
    return static_cast<std::int64_t>(permutation_(static_cast<std::uint64_t>(position)));
  }
  // Rows of the sequence in the block at `position` (known once next() has reached it).
  std::int64_t rows_at(std::int64_t position) const;
  // The highest position next() has started (-1 before the first).
  std::int64_t frontier() const { return std::min(interval_, layout_.blocks() - 1); }
  std::int64_t positions() const { return layout_.blocks(); }

 private:
  struct Active {
    std::int64_t position;
    std::vector<std::int64_t> rows;  // in visiting order
  };
  void fill_interval();
  double key(std::int64_t position, std::int64_t k, std::int64_t b, std::int64_t block) const;

  const BlockLayout& layout_;
  const RowSelection& selection_;
  std::uint64_t seed_, epoch_;
  std::int64_t window_;
  GlobalPermutation permutation_;
  std::vector<std::int64_t> counts_;  // rows_at, -1 until reached
  std::int64_t interval_ = -1;  // the key interval [m, m + 1) last filled
  std::deque<Active> active_;   // positions (interval - window, interval]
  std::vector<Entry> pending_;  // the filled interval's rows, in key order
  std::size_t taken_ = 0;
};

}  // namespace dptrain
