#pragma once
// --deterministic: which rows this rank computes, grouped in fixed micro-blocks. The step's
// rows of all ranks, sorted by global row id, are cut into blocks of FixedBlocks::kBlockRows.
// Shards are ascending row ranges, so each rank's rows form one contiguous segment of that
// order; a block's rows (hence its float arithmetic) depend only on the batch, never on the
// rank or thread count. A block belongs to the rank that holds its middle row (so no rank
// computes more than half a block beyond its own rows). The ranks first sum their row counts
// (one small allreduce); then the rows of a block held by another rank than its owner travel
// point to point, in one global order that every rank walks the same way (deadlock-free with
// blocking sends): at p = 2 that is a few rows per step, often none.
#include <cstdint>
#include <utility>
#include <vector>

#include "batch_source.hpp"
#include "dptrain/communicator.hpp"
#include "parallel_gradient.hpp"

namespace dptrain {

// The block order deals a step's rows to ranks block by block, not as one run of global ids
// per rank: single-row blocks keep the sums independent of the rank count there.
inline std::int64_t deterministic_block_rows(bool block_order) { return block_order ? 1 : FixedBlocks::kBlockRows; }

class DeterministicBlocks {
 public:
  // block_rows: FixedBlocks::kBlockRows, or 1 where a rank's rows of a step are not one
  // contiguous run of global ids (the block order deals blocks round-robin to the ranks).
  DeterministicBlocks(std::int64_t feature_cols, std::int64_t label_cols,
                      std::int64_t block_rows = FixedBlocks::kBlockRows)
      : d_(feature_cols), k_(label_cols), m_(block_rows) {}
  // Collective: plans this rank's blocks of `batch`. A rank that failed before it had a batch
  // calls it with `failed` (and an empty batch) so that the collectives stay in step. Returns
  // false, planning nothing, if any rank failed. Throws InternalError (after the collective)
  // if the batch does not name its row ids.
  bool plan(Communicator& comm, const Batch& batch, bool failed);
  // Collective, before the step's exchange: a rank that failed before its batch (so never
  // called plan()) plans a failed, empty step now, so that the collectives stay in step.
  void finish_step(Communicator& comm) {
    if (!planned_) plan(comm, Batch{}, true);
    planned_ = false;
  }
  // Valid until the next plan(); points into the batch and into this object.
  const FixedBlocks& blocks() const { return blocks_; }

 private:
  // Rows [begin, end) of the sorted step go from rank `from` to rank `to`, which computes them.
  struct Transfer {
    int from, to;
    std::int64_t begin, end;
  };
  int holder(std::int64_t position) const;
  void plan_transfers(int size);
  void exchange_rows(Communicator& comm, const Batch& batch);
  void cut_blocks(const Batch& batch, int size);
  const float* own_row(const Batch& batch, std::int64_t position) const {
    return batch.features + order_[static_cast<std::size_t>(position - begin_[rank_])] * d_;
  }

  std::int64_t d_, k_, m_;
  int rank_ = 0;
  bool planned_ = false;              // plan() ran in this step
  std::vector<std::int64_t> order_;   // this rank's rows sorted by global id
  std::vector<std::int64_t> counts_;  // per rank: rows in this step; then the failed flag
  std::vector<std::int64_t> begin_;   // per rank: where its segment starts (size + 1 entries)
  std::vector<Transfer> transfers_;
  std::vector<float> sent_, received_;       // rows (features, then labels) in transit
  std::vector<std::int64_t> received_from_;  // position of the first received row of each transfer
  FixedBlocks blocks_;
};

}  // namespace dptrain
