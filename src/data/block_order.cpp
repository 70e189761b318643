#include "dptrain/block_order.hpp"

#include <algorithm>

namespace dptrain {
namespace {

// Permutation keys of their own, apart from the stratified order (epoch * 64 + stratum) and
// the validation split (0).
constexpr std::uint64_t kBlockPermutationKey = std::uint64_t{1} << 40;
constexpr std::uint64_t kRowShuffleKey = std::uint64_t{2} << 40;

// A uniform number in [0, 1) for row k of a block, from the seed and epoch alone.
double jitter(std::uint64_t seed, std::uint64_t epoch, std::int64_t block, std::int64_t k) {
  std::uint64_t state = seed ^ (epoch * 0xD1B54A32D192ED03ull) ^ (static_cast<std::uint64_t>(block) << 24) ^
                        static_cast<std::uint64_t>(k) * 0x9E3779B97F4A7C15ull;
  splitmix64(state);
  return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
}

}  // namespace

BlockLayout::BlockLayout(const DataDescription& data) {
  const std::int64_t row_bytes = std::max<std::int64_t>(1, data.cols * 4);
  std::int64_t start = 0;
  for (std::size_t f = 0; f < data.file_rows.size(); ++f) {
    const std::int64_t chunk = f < data.file_chunk_rows.size() ? data.file_chunk_rows[f] : 0;
    // Whole chunks (a chunk is decompressed whole), grouped up to the target size; aligned
    // runs of rows in a contiguous file.
    const std::int64_t rows = chunk > 0 ? chunk * std::max<std::int64_t>(1, kTargetBytes / (chunk * row_bytes))
                                        : std::max<std::int64_t>(1, kTargetBytes / row_bytes);
    for (std::int64_t r = 0; r < data.file_rows[f]; r += rows) {
      const std::int64_t n = std::min(rows, data.file_rows[f] - r);
      starts_.push_back(start + r + n);
      file_.push_back(f);
      max_rows_ = std::max(max_rows_, n);
    }
    start += data.file_rows[f];
  }
}

std::vector<std::int64_t> block_sequence(const BlockLayout& layout, const RowSelection& selection,
                                         std::uint64_t seed, std::uint64_t epoch, std::int64_t block) {
  const ShardRange range = layout.block(block);
  std::vector<std::int64_t> rows;
  rows.reserve(static_cast<std::size_t>(range.size()));
  for (std::int64_t row = range.begin; row < range.end; ++row)
    if (selection.in_sequence(row)) rows.push_back(row);
  if (rows.size() < 2) return rows;
  const GlobalPermutation shuffle(rows.size(), seed,
                                  kRowShuffleKey + epoch * static_cast<std::uint64_t>(layout.blocks()) +
                                      static_cast<std::uint64_t>(block));
  std::vector<std::int64_t> out(rows.size());
  for (std::size_t k = 0; k < rows.size(); ++k) out[k] = rows[shuffle(k)];
  return out;
}

BlockOrder::BlockOrder(const BlockLayout& layout, const RowSelection& selection, std::uint64_t seed,
                       std::uint64_t epoch, std::int64_t window)
    : layout_(layout),
      selection_(selection),
      seed_(seed),
      epoch_(epoch),
      window_(std::max<std::int64_t>(1, window)),
      permutation_(static_cast<std::uint64_t>(std::max<std::int64_t>(1, layout.blocks())), seed,
                   kBlockPermutationKey + epoch),
      counts_(static_cast<std::size_t>(layout.blocks()), -1) {}

double BlockOrder::key(std::int64_t position, std::int64_t k, std::int64_t b, std::int64_t block) const {
  return static_cast<double>(position) +
         static_cast<double>(window_) * (static_cast<double>(k) + jitter(seed_, epoch_, block, k)) /
             static_cast<double>(b);
}

// The rows whose key lies in the next interval [m, m + 1), sorted by key.
void BlockOrder::fill_interval() {
  ++interval_;
  const std::int64_t m = interval_;
  if (m < layout_.blocks()) {
    active_.push_back({m, block_sequence(layout_, selection_, seed_, epoch_, block_at(m))});
    counts_[static_cast<std::size_t>(m)] = static_cast<std::int64_t>(active_.back().rows.size());
  }
  while (!active_.empty() && active_.front().position <= m - window_) active_.pop_front();
  struct Keyed {
    double key;
    Entry entry;
  };
  std::vector<Keyed> keyed;
  for (const Active& a : active_) {
    const auto b = static_cast<std::int64_t>(a.rows.size());
    if (b == 0) continue;
    const std::int64_t block = block_at(a.position);
    // k + u in [(m - j) b / W, (m - j + 1) b / W): test the few k around that range.
    const std::int64_t lo = std::max<std::int64_t>(0, (m - a.position) * b / window_ - 1);
    const std::int64_t hi = std::min<std::int64_t>(b - 1, (m - a.position + 1) * b / window_ + 1);
    for (std::int64_t k = lo; k <= hi; ++k) {
      const double x = key(a.position, k, b, block);
      if (x >= static_cast<double>(m) && x < static_cast<double>(m + 1))
        keyed.push_back({x, {a.position, a.rows[static_cast<std::size_t>(k)]}});
    }
  }
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    return a.key < b.key || (a.key == b.key && a.entry.row < b.entry.row);
  });
  pending_.clear();
  for (const Keyed& k : keyed) pending_.push_back(k.entry);
  taken_ = 0;
}

bool BlockOrder::next(Entry& out) {
  while (taken_ == pending_.size()) {
    if (interval_ + 1 >= layout_.blocks() + window_) return false;
    fill_interval();
  }
  out = pending_[taken_++];
  return true;
}

std::int64_t BlockOrder::rows_at(std::int64_t position) const {
  return counts_[static_cast<std::size_t>(position)];
}

}  // namespace dptrain
