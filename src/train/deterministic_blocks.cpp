#include "deterministic_blocks.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "dptrain/error.hpp"

namespace dptrain {

bool DeterministicBlocks::plan(Communicator& comm, const Batch& batch, bool failed) {
  const bool unnamed = !failed && batch.rows > 0 && batch.row_ids == nullptr;
  failed = failed || unnamed;
  const int size = comm.size();
  rank_ = comm.rank();
  order_.resize(static_cast<std::size_t>(failed ? 0 : batch.rows));
  std::iota(order_.begin(), order_.end(), std::int64_t{0});
  std::sort(order_.begin(), order_.end(),
            [&](std::int64_t a, std::int64_t b) { return batch.row_ids[a] < batch.row_ids[b]; });
  exchange_.assign(static_cast<std::size_t>(size * slot_size()), 0.0f);
  fill_own_slot(batch, rank_, failed);
  if (size > 1) comm.allreduce_sum(std::span<float>(exchange_), "deterministic row exchange");
  if (unnamed) throw InternalError("--deterministic needs a batch source that names each row's global id");
  begin_.assign(static_cast<std::size_t>(size + 1), 0);
  for (int r = 0; r < size; ++r) {
    const float* slot = exchange_.data() + r * slot_size();
    if (slot[1] > 0) return false;
    begin_[r + 1] = begin_[r] + static_cast<std::int64_t>(slot[0]);
  }
  cut_blocks(batch, size);
  return true;
}

// [rows, failed, first min(kHalf, rows) rows, then (at kHalf) the last min(kHalf, rows) rows],
// each row its features then its labels.
void DeterministicBlocks::fill_own_slot(const Batch& batch, int rank, bool failed) {
  float* slot = exchange_.data() + rank * slot_size();
  const auto n = static_cast<std::int64_t>(order_.size());
  slot[0] = static_cast<float>(n);
  slot[1] = failed ? 1.0f : 0.0f;
  const std::int64_t h = std::min(kHalf, n), width = d_ + k_;
  auto put = [&](std::int64_t at, std::int64_t position) {
    const std::int64_t r = order_[static_cast<std::size_t>(position)];
    float* out = slot + 2 + at * width;
    std::copy(batch.features + r * d_, batch.features + (r + 1) * d_, out);
    std::copy(batch.labels + r * k_, batch.labels + (r + 1) * k_, out + d_);
  };
  for (std::int64_t i = 0; i < h; ++i) {
    put(i, i);
    put(kHalf + i, n - h + i);
  }
}

std::pair<const float*, const float*> DeterministicBlocks::row(const Batch& batch, std::int64_t position,
                                                               int owner) const {
  const std::int64_t local = position - begin_[owner];
  if (owner == rank_) {
    const std::int64_t r = order_[static_cast<std::size_t>(local)];
    return {batch.features + r * d_, batch.labels + r * k_};
  }
  const std::int64_t n = begin_[owner + 1] - begin_[owner], h = std::min(kHalf, n);
  std::int64_t at = local;
  if (local >= h) {
    at = kHalf + local - (n - h);
    if (at < kHalf)  // a block never reaches further than half its rows into a neighbour
      throw InternalError("deterministic blocks: row " + std::to_string(local) + " of rank " +
                          std::to_string(owner) + " was not exchanged");
  }
  const float* p = exchange_.data() + owner * slot_size() + 2 + at * (d_ + k_);
  return {p, p + d_};
}

void DeterministicBlocks::cut_blocks(const Batch& batch, int size) {
  blocks_.clear();
  const std::int64_t total = begin_[size], m = FixedBlocks::kBlockRows;
  const std::int64_t mine_begin = begin_[rank_], mine_end = begin_[rank_ + 1];
  for (std::int64_t b0 = 0; b0 < total; b0 += m) {
    const std::int64_t b1 = std::min(b0 + m, total), middle = b0 + (b1 - b0 - 1) / 2;
    if (middle < mine_begin || middle >= mine_end) continue;
    for (std::int64_t q = b0; q < b1; ++q) {
      // The rank holding position q: the last one whose segment starts at or before q.
      const auto owner = static_cast<int>(std::upper_bound(begin_.begin(), begin_.end(), q) - begin_.begin() - 1);
      const auto [x, y] = row(batch, q, owner);
      blocks_.x.push_back(x);
      blocks_.y.push_back(y);
    }
    blocks_.ends.push_back(static_cast<std::int64_t>(blocks_.x.size()));
  }
}

}  // namespace dptrain
