#pragma once
// Batches streamed from disk in the block order (block_order.hpp), for data bigger than
// memory. Position j of an epoch's block permutation belongs to rank j mod p: a rank reads
// only its blocks, on a prefetch thread that runs a few of its blocks ahead of the sequence,
// into a pool of reused buffers, and contributes its blocks' rows of every batch. Which rows
// form a batch depends only on the data, the seed and the epoch, so the sum of a batch's
// gradients, and the training, are the same on any rank and thread count.
#include <cstdint>
#include <memory>

#include "batch_source.hpp"
#include "dptrain/dataset.hpp"
#include "dptrain/model.hpp"

namespace dptrain {

struct StreamData {
  const DataOptions* options = nullptr;
  const DataDescription* data = nullptr;
  const BlockLayout* blocks = nullptr;
  const RowSelection* selection = nullptr;
  ModelSpec spec;  // labels are checked against it as blocks arrive
  std::int64_t global_batch = 0;
  std::uint64_t seed = 0;
  std::int64_t window = BlockOrder::kDefaultWindow;
  int rank = 0, ranks = 1;
  std::int64_t budget = 0;  // bytes
};

// Blocks of its own a rank reads ahead of the next batch.
constexpr std::int64_t kPrefetchBlocks = 3;

// The most bytes a streaming rank holds: its blocks of the window, the prefetched ones, the
// batch being gathered, the sequence's bookkeeping and the labels' chunk caches.
std::int64_t stream_memory_bytes(const StreamData& d);

// Throws ConfigError when stream_memory_bytes exceeds the budget, naming both and the way out.
std::unique_ptr<BatchSource> make_stream_source(const StreamData& d);

}  // namespace dptrain
