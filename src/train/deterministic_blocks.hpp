#pragma once
// --deterministic: which rows this rank computes, grouped in fixed micro-blocks. The step's
// rows of all ranks, sorted by global row id, are cut into blocks of FixedBlocks::kBlockRows.
// Shards are ascending row ranges, so each rank's rows form one contiguous segment of that
// order; a block's rows (hence its float arithmetic) depend only on the batch, never on the
// rank or thread count. A block belongs to the rank that holds its middle row (so no rank
// computes more than half a block beyond its own rows); the rows of it that a neighbour holds
// arrive through one small allreduce, in which every rank sends its row count and its first
// and last kBlockRows/2 rows.
#include <cstdint>
#include <utility>
#include <vector>

#include "batch_source.hpp"
#include "dptrain/communicator.hpp"
#include "parallel_gradient.hpp"

namespace dptrain {

class DeterministicBlocks {
 public:
  DeterministicBlocks(std::int64_t feature_cols, std::int64_t label_cols)
      : d_(feature_cols), k_(label_cols) {}
  // Collective (one allreduce with more than one rank): plans this rank's blocks of `batch`.
  // A rank that failed before it had a batch calls it with `failed` (and an empty batch) so
  // that the collectives stay in step. Returns false, planning nothing, if any rank failed.
  // Throws InternalError (after the collective) if the batch does not name its row ids.
  bool plan(Communicator& comm, const Batch& batch, bool failed);
  // Valid until the next plan(); points into the batch and into this object.
  const FixedBlocks& blocks() const { return blocks_; }

 private:
  static constexpr std::int64_t kHalf = FixedBlocks::kBlockRows / 2;
  std::int64_t slot_size() const { return 2 + 2 * kHalf * (d_ + k_); }
  void fill_own_slot(const Batch& batch, int rank, bool failed);
  // Features and labels of the row at `position` of the sorted step, held by rank `owner`.
  std::pair<const float*, const float*> row(const Batch& batch, std::int64_t position, int owner) const;
  void cut_blocks(const Batch& batch, int size);

  std::int64_t d_, k_;
  int rank_ = 0;
  std::vector<std::int64_t> order_;  // this rank's rows sorted by global id
  std::vector<float> exchange_;      // per rank: [rows, failed, first kHalf rows, last kHalf rows]
  std::vector<std::int64_t> begin_;  // per rank: where its segment starts (size + 1 entries)
  FixedBlocks blocks_;
};

}  // namespace dptrain
