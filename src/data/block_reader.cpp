#include "data/block_reader.hpp"

#include <algorithm>
#include <cmath>
#include <span>

#include "data/labels.hpp"

namespace dptrain {

BlockReader::BlockReader(const DataOptions& options, const DataDescription& data, const BlockLayout& layout,
                         const ModelSpec& spec)
    : options_(options), data_(data), layout_(layout), spec_(spec), files_(options.files.size()) {
  std::int64_t start = 0;
  for (std::int64_t rows : data.file_rows) {
    file_start_.push_back(start);
    start += rows;
  }
}

std::size_t BlockReader::cache_bytes() {
  // Features: none. A block is whole chunks, which HDF5 reads past the cache; caching them
  // would only copy every chunk once more. Labels: 1 MiB, because labels are often chunked
  // more coarsely than features, and a labels chunk decompressed once then serves the
  // several blocks it covers.
  return std::size_t{1} << 20;
}

BlockReader::OpenFile& BlockReader::open(std::size_t f) {
  OpenFile& o = files_[f];
  if (o.file) return o;
  o.file = std::make_unique<H5Reader>(options_.files[f]);
  o.features.emplace(o.file->open_rows(options_.features_name, 0));
  if (data_.label_cols > 0) o.labels.emplace(o.file->open_rows(options_.labels_name, cache_bytes()));
  return o;
}

void BlockReader::read(std::int64_t b, Shard& into) {
  const ShardRange range = layout_.block(b);
  const std::size_t f = layout_.file_of(b);
  OpenFile& o = open(f);
  into.data = data_;
  into.range = range;
  into.dropped = {};
  into.features.resize(static_cast<std::size_t>(range.size() * data_.cols));
  into.labels.resize(static_cast<std::size_t>(range.size() * data_.label_cols));
  const std::int64_t begin = range.begin - file_start_[f];
  o.features->read_rows(begin, range.size(), into.features);
  if (o.labels) o.labels->read_rows(begin, range.size(), into.labels);
  check_finite_rows(into, options_);
  check_or_drop_labels(spec_, into, options_);
}

}  // namespace dptrain

namespace dptrain {

std::int64_t piece_rows(const DataDescription& data, std::int64_t budget_bytes) {
  const std::int64_t row_bytes = std::max<std::int64_t>(1, (data.cols + data.label_cols) * 4);
  return std::clamp<std::int64_t>(budget_bytes / 8 / row_bytes, 1, 65536);
}

double scan_max_label(const DataOptions& options, const DataDescription& data, ShardRange range,
                      std::int64_t piece) {
  double best = -1;
  if (data.label_cols != 1) return best;
  std::vector<float> labels;
  std::int64_t file_start = 0;
  for (std::size_t f = 0; f < options.files.size(); ++f) {
    const std::int64_t lo = std::max(range.begin, file_start);
    const std::int64_t hi = std::min(range.end, file_start + data.file_rows[f]);
    if (lo < hi) {
      H5Reader file(options.files[f]);
      for (std::int64_t at = lo; at < hi; at += piece) {
        const std::int64_t n = std::min(piece, hi - at);
        labels.resize(static_cast<std::size_t>(n));
        file.read_rows(options.labels_name, at - file_start, n, std::span<float>(labels));
        for (float y : labels)
          if (std::isfinite(y) && y > best) best = y;
      }
    }
    file_start += data.file_rows[f];
  }
  return best;
}

void for_each_piece(const DataOptions& options, const DataDescription& data, ShardRange range,
                    std::int64_t piece, const ModelSpec& spec, const std::function<bool(std::int64_t)>& keep,
                    const std::function<void(const Shard&)>& visit) {
  for (std::int64_t at = range.begin; at < range.end; at += piece) {
    Shard rows = load_shard(options, data, {at, std::min(range.end, at + piece)});
    check_or_drop_labels(spec, rows, options);
    visit(take_rows(rows, [&](std::int64_t row) { return keep(row) && !rows.dropped.contains(row); }));
  }
}

}  // namespace dptrain
