#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "dptrain/block_order.hpp"

using namespace dptrain;

namespace {

DataDescription described(std::vector<std::int64_t> file_rows, std::vector<std::int64_t> chunk_rows,
                          std::int64_t cols) {
  DataDescription d;
  d.cols = cols;
  d.label_cols = 1;
  d.file_rows = file_rows;
  d.file_chunk_rows = chunk_rows;
  for (auto r : file_rows) d.rows += r;
  return d;
}

std::vector<BlockOrder::Entry> whole_epoch(BlockOrder order) {
  std::vector<BlockOrder::Entry> out;
  BlockOrder::Entry e;
  while (order.next(e)) out.push_back(e);
  return out;
}

}  // namespace

TEST(BlockLayout, BlocksAreWholeChunksOfOneFile) {
  // 784 float columns: a 100-row chunk is 306 KiB, so a block is one chunk; a contiguous
  // file gets blocks of 256 KiB / 3136 B = 83 rows.
  const BlockLayout layout(described({1050, 200}, {100, 0}, 784));
  std::int64_t covered = 0;
  for (std::int64_t b = 0; b < layout.blocks(); ++b) {
    const ShardRange r = layout.block(b);
    EXPECT_EQ(r.begin, covered);
    covered = r.end;
    if (layout.file_of(b) == 0) {
      EXPECT_EQ(r.begin % 100, 0) << b;
      EXPECT_LE(r.end, 1050);
    } else {
      EXPECT_EQ((r.begin - 1050) % 83, 0) << b;
      EXPECT_GE(r.begin, 1050);
    }
  }
  EXPECT_EQ(covered, 1250);
  EXPECT_EQ(layout.blocks(), 11 + 3);
  // Small chunks are grouped: 8-row chunks of 10 floats (320 B) make blocks of 819 chunks.
  const BlockLayout small(described({100000}, {8}, 10));
  EXPECT_EQ(small.block(0).size(), 8 * (BlockLayout::kTargetBytes / 320));
}

TEST(BlockOrder, VisitsEverySequenceRowOnceAndDependsOnSeedAndEpochOnly) {
  const BlockLayout layout(described({5000}, {37}, 784));  // blocks of 2 chunks, 74 rows
  const RowSelection selection(5000, 0.1, 7, {});
  const auto a = whole_epoch(BlockOrder(layout, selection, 7, 1, 8));
  ASSERT_EQ(static_cast<std::int64_t>(a.size()), selection.sequence_rows());
  std::set<std::int64_t> rows;
  for (const auto& e : a) {
    EXPECT_TRUE(selection.in_sequence(e.row));
    EXPECT_TRUE(layout.block(BlockOrder(layout, selection, 7, 1, 8).block_at(e.position)).contains(e.row));
    rows.insert(e.row);
  }
  EXPECT_EQ(static_cast<std::int64_t>(rows.size()), selection.sequence_rows());
  const auto again = whole_epoch(BlockOrder(layout, selection, 7, 1, 8));
  ASSERT_EQ(again.size(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(again[i].row, a[i].row) << i;
  const auto epoch2 = whole_epoch(BlockOrder(layout, selection, 7, 2, 8));
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += epoch2[i].row == a[i].row;
  EXPECT_LT(same, a.size() / 20);
}

TEST(BlockOrder, HoldsAboutWindowBlocksAtOnce) {
  const BlockLayout layout(described({20000}, {50}, 784));  // 400 one-chunk blocks
  const RowSelection selection(20000, 0, 1, {});
  const std::int64_t window = 16;
  const auto seq = whole_epoch(BlockOrder(layout, selection, 1, 1, window));
  std::map<std::int64_t, std::pair<std::size_t, std::size_t>> span;  // position -> first, last index
  for (std::size_t i = 0; i < seq.size(); ++i) {
    auto [it, fresh] = span.try_emplace(seq[i].position, i, i);
    it->second.second = i;
  }
  // Open blocks (first row seen, last row not yet) at every point of the sequence.
  std::vector<int> open(seq.size() + 1, 0);
  for (const auto& [pos, fl] : span) {
    ++open[fl.first];
    --open[fl.second + 1];
  }
  int now = 0, most = 0;
  for (std::size_t i = 0; i < seq.size(); ++i) most = std::max(most, now += open[i]);
  EXPECT_LE(most, window + 2);
  EXPECT_GE(most, window - 2);
}

TEST(BlockOrder, MixesAFileSortedByLabel) {
  // 60000 rows sorted into 10 classes of 6000, 83-row blocks (Fashion-MNIST's shape): every
  // batch of 128 should hold most classes, in shares near 1/10.
  const BlockLayout layout(described({60000}, {83}, 784));
  const RowSelection selection(60000, 0, 42, {});
  const auto seq = whole_epoch(BlockOrder(layout, selection, 42, 1, BlockOrder::kDefaultWindow));
  double worst_share = 0, classes_sum = 0;
  int batches = 0;
  for (std::size_t s = 0; s + 128 <= seq.size(); s += 128, ++batches) {
    int count[10] = {0};
    for (std::size_t i = s; i < s + 128; ++i) ++count[seq[i].row / 6000];
    classes_sum += static_cast<double>(std::count_if(count, count + 10, [](int c) { return c > 0; }));
    if (s > 128 * 40 && s + 128 * 40 < seq.size())  // away from the ramps at both ends
      worst_share = std::max(worst_share, *std::max_element(count, count + 10) / 128.0);
  }
  EXPECT_GT(classes_sum / batches, 9.0);
  EXPECT_LT(worst_share, 0.35);
}
