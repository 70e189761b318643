#pragma once
// Reads one block of rows (BlockLayout) at a time into a reused Shard, keeping every file and
// dataset open for the whole run (a chunk cache for the labels only), and checks the rows
// as they arrive: NaN/Inf and labels that are not class ids of the model throw DataError
// naming the file and row, or, with --skip-bad-rows, are marked in Shard::dropped.
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "dptrain/block_order.hpp"
#include "dptrain/dataset.hpp"
#include "dptrain/hdf5.hpp"
#include "dptrain/model.hpp"

namespace dptrain {

class BlockReader {
 public:
  BlockReader(const DataOptions& options, const DataDescription& data, const BlockLayout& layout,
              const ModelSpec& spec);
  // Fills `into` with block b (its buffers are reused when large enough).
  void read(std::int64_t b, Shard& into);
  // Bytes of chunk cache per open file (counted in the memory budget).
  static std::size_t cache_bytes();

 private:
  struct OpenFile {
    std::unique_ptr<H5Reader> file;
    std::optional<H5RowReader> features, labels;
  };
  OpenFile& open(std::size_t f);

  DataOptions options_;
  DataDescription data_;
  const BlockLayout& layout_;
  ModelSpec spec_;
  std::vector<std::int64_t> file_start_;
  std::vector<OpenFile> files_;
};

}  // namespace dptrain

namespace dptrain {

// Rows read at a time when scanning or scoring streamed data: an eighth of the budget, at
// most 65536 rows.
std::int64_t piece_rows(const DataDescription& data, std::int64_t budget_bytes);

// The largest finite label of rows `range`, read in pieces of `piece` rows (labels only).
double scan_max_label(const DataOptions& options, const DataDescription& data, ShardRange range,
                      std::int64_t piece);

// Calls visit(shard) for pieces of `piece` rows of `range`, each read, checked (NaN/Inf, and
// labels against `spec`) and cut to the rows for which keep(global row) holds.
void for_each_piece(const DataOptions& options, const DataDescription& data, ShardRange range,
                    std::int64_t piece, const ModelSpec& spec, const std::function<bool(std::int64_t)>& keep,
                    const std::function<void(const Shard&)>& visit);

}  // namespace dptrain
