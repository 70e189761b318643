#pragma once
// Where the training loop gets its batches. The loop asks for this rank's rows of the next
// step and never sees how they are stored or ordered; other sources (streaming from disk,
// sparse rows) implement the same interface without touching the loop.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "dptrain/aligned.hpp"
#include "dptrain/block_order.hpp"
#include "dptrain/row_selection.hpp"
#include "dptrain/shard.hpp"
#include "dptrain/train_config.hpp"

namespace dptrain {

// This rank's rows of one step. Dense today: `features` is rows x feature_cols, row-major,
// `labels` rows x label_cols, both owned by the source and valid until its next call. A sparse
// source will add a CSR view (row offsets, column indices, values) next to `features`; the
// gradient computation picks the kernel from what the batch holds.
struct Batch {
  std::int64_t rows = 0;
  float* features = nullptr;  // writable: fault injection poisons a batch in place
  const float* labels = nullptr;
  const std::int64_t* row_ids = nullptr;  // global row ids (--deterministic orders rows by them)
  CsrRows* sparse = nullptr;  // CSR rows instead of `features` (a CSR shard)
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Starts epoch `epoch` (1-based) and passes its first `skip_steps` steps (a resumed epoch).
  virtual void start_epoch(int epoch, std::int64_t skip_steps) = 0;
  // This rank's rows of the next step of the epoch.
  virtual Batch next() = 0;
  // The most rows next() can return (sizes the gradient workspaces).
  virtual std::int64_t max_rows() const = 0;
  // Seconds next() waited for data to arrive from disk since the last call (streaming).
  virtual double take_io_wait() { return 0; }
  // Rows found bad and passed over while streaming (--skip-bad-rows) since the last call.
  virtual std::int64_t take_dropped() { return 0; }
};

// The rows a run trains on, as the trainer has prepared them: this rank's shard in memory,
// the agreed row selection, and the global batch size and steps per epoch.
struct InMemoryData {
  const Shard* shard = nullptr;
  const RowSelection* selection = nullptr;
  std::int64_t global_batch = 0;
  std::int64_t steps = 0;
  std::uint64_t seed = 0;  // data order (from the checkpoint when resuming)
  int rank = 0;
  const BlockLayout* blocks = nullptr;  // --order block: the block order (block_order.hpp)
  std::int64_t window = 0;              // its --shuffle-window
};

// The rank's shard in memory. --sync grad takes the stratified global order, or the block
// order with `blocks` (the same batches for any rank count); --sync params walks this rank's
// own shuffle of its shard, local_batch rows per step.
std::unique_ptr<BatchSource> make_in_memory_source(const InMemoryData& data, SyncMode sync);

}  // namespace dptrain
