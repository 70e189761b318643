#include "deterministic_blocks.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "dptrain/error.hpp"

namespace dptrain {

bool DeterministicBlocks::plan(Communicator& comm, const Batch& batch, bool failed) {
  planned_ = true;
  const bool unnamed = !failed && batch.rows > 0 && batch.row_ids == nullptr;
  failed = failed || unnamed;
  const int size = comm.size();
  rank_ = comm.rank();
  order_.resize(static_cast<std::size_t>(failed ? 0 : batch.rows));
  std::iota(order_.begin(), order_.end(), std::int64_t{0});
  std::sort(order_.begin(), order_.end(),
            [&](std::int64_t a, std::int64_t b) { return batch.row_ids[a] < batch.row_ids[b]; });
  counts_.assign(static_cast<std::size_t>(size + 1), 0);
  counts_[rank_] = static_cast<std::int64_t>(order_.size());
  counts_[size] = failed ? 1 : 0;
  if (size > 1) comm.allreduce_sum(std::span<std::int64_t>(counts_), "deterministic row counts");
  if (unnamed) throw InternalError("--deterministic needs a batch source that names each row's global id");
  if (counts_[size] > 0) return false;
  begin_.assign(static_cast<std::size_t>(size + 1), 0);
  for (int r = 0; r < size; ++r) begin_[r + 1] = begin_[r] + counts_[r];
  plan_transfers(size);
  exchange_rows(comm, batch);
  cut_blocks(batch, size);
  return true;
}

// The rank holding `position`: the last one whose segment starts at or before it.
int DeterministicBlocks::holder(std::int64_t position) const {
  return static_cast<int>(std::upper_bound(begin_.begin(), begin_.end(), position) - begin_.begin() - 1);
}

// Every rank lists every transfer of the step in the same order (block by block, holders in
// rank order).
void DeterministicBlocks::plan_transfers(int size) {
  transfers_.clear();
  const std::int64_t total = begin_[size], m = m_;
  for (std::int64_t b0 = 0; b0 < total; b0 += m) {
    const std::int64_t b1 = std::min(b0 + m, total);
    const int owner = holder(b0 + (b1 - b0 - 1) / 2);
    for (std::int64_t q = b0; q < b1;) {
      const int from = holder(q);
      const std::int64_t end = std::min(b1, begin_[from + 1]);
      if (from != owner) transfers_.push_back({from, owner, q, end});
      q = end;
    }
  }
}

// Walks the transfers in their global order with blocking point-to-point messages: the first
// unfinished transfer always has both of its ranks waiting for it, so this never deadlocks.
void DeterministicBlocks::exchange_rows(Communicator& comm, const Batch& batch) {
  const std::int64_t width = d_ + k_;
  std::int64_t incoming = 0;
  for (const auto& t : transfers_)
    if (t.to == rank_) incoming += t.end - t.begin;
  received_.resize(static_cast<std::size_t>(incoming * width));
  received_from_.clear();
  std::int64_t filled = 0;
  for (const auto& t : transfers_) {
    const std::int64_t rows = t.end - t.begin;
    if (t.from == rank_) {
      sent_.resize(static_cast<std::size_t>(rows * width));
      for (std::int64_t q = t.begin; q < t.end; ++q) {
        const std::int64_t r = order_[static_cast<std::size_t>(q - begin_[rank_])];
        float* out = sent_.data() + (q - t.begin) * width;
        std::copy(batch.features + r * d_, batch.features + (r + 1) * d_, out);
        std::copy(batch.labels + r * k_, batch.labels + (r + 1) * k_, out + d_);
      }
      comm.send(std::span<const float>(sent_), t.to, "deterministic row exchange");
    } else if (t.to == rank_) {
      comm.recv(std::span<float>(received_).subspan(static_cast<std::size_t>(filled * width),
                                                    static_cast<std::size_t>(rows * width)),
                t.from, "deterministic row exchange");
      received_from_.push_back(filled);
      filled += rows;
    }
  }
}

void DeterministicBlocks::cut_blocks(const Batch& batch, int size) {
  blocks_.clear();
  const std::int64_t total = begin_[size], m = m_, width = d_ + k_;
  std::size_t next_received = 0;  // rows arrive in the order this walk meets them
  for (std::int64_t b0 = 0; b0 < total; b0 += m) {
    const std::int64_t b1 = std::min(b0 + m, total);
    const bool mine = holder(b0 + (b1 - b0 - 1) / 2) == rank_;
    for (std::int64_t q = b0; q < b1;) {
      const int from = holder(q);
      const std::int64_t end = std::min(b1, begin_[from + 1]);
      if (mine && from == rank_) {
        for (std::int64_t r = q; r < end; ++r) {
          blocks_.x.push_back(own_row(batch, r));
          blocks_.y.push_back(batch.labels + order_[static_cast<std::size_t>(r - begin_[rank_])] * k_);
        }
      } else if (mine) {
        const float* rows = received_.data() + received_from_[next_received++] * width;
        for (std::int64_t r = 0; r < end - q; ++r) {
          blocks_.x.push_back(rows + r * width);
          blocks_.y.push_back(rows + r * width + d_);
        }
      }
      q = end;
    }
    if (mine) blocks_.ends.push_back(static_cast<std::int64_t>(blocks_.x.size()));
  }
}

}  // namespace dptrain
