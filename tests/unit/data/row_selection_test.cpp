#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "dptrain/row_selection.hpp"

using namespace dptrain;

TEST(GlobalPermutation, InverseUndoesTheOrder) {
  for (std::uint64_t n : {1u, 2u, 3u, 17u, 1000u, 1001u, 70001u}) {
    const GlobalPermutation perm(n, 9, 0);
    for (std::uint64_t pos = 0; pos < n; ++pos) ASSERT_EQ(perm.inverse(perm(pos)), pos) << "n " << n;
  }
}

TEST(RowSelection, ValidationIsTheTailOfTheEpochZeroOrder) {
  const std::int64_t n = 1001;
  const RowSelection s(n, 0.1, 42, {});
  EXPECT_EQ(s.validation_rows(), 100);
  EXPECT_EQ(s.training_rows(), 901);
  const GlobalPermutation split(n, 42, 0);
  std::set<std::int64_t> expected;
  for (std::int64_t pos = n - 100; pos < n; ++pos) expected.insert(static_cast<std::int64_t>(split(pos)));
  std::int64_t validation = 0;
  for (std::int64_t row = 0; row < n; ++row) {
    EXPECT_EQ(s.validation(row), expected.count(row) == 1) << row;
    EXPECT_NE(s.validation(row), s.training(row)) << row;  // every row in exactly one set
    validation += s.validation(row);
  }
  EXPECT_EQ(validation, 100);
  // Another seed holds out other rows.
  const RowSelection other(n, 0.1, 43, {});
  std::int64_t same = 0;
  for (std::int64_t row = 0; row < n; ++row) same += s.validation(row) && other.validation(row);
  EXPECT_LT(same, 40);
}

TEST(RowSelection, FractionsRoundDownWithoutFloatingPointSurprises) {
  EXPECT_EQ(RowSelection(100, 0.29, 1, {}).validation_rows(), 29);
  EXPECT_EQ(RowSelection(10, 0.7, 1, {}).validation_rows(), 7);
  EXPECT_EQ(RowSelection(9, 0.1, 1, {}).validation_rows(), 0);
  EXPECT_EQ(RowSelection(5, 0.0, 1, {}).training_rows(), 5);
}

TEST(RowSelection, DroppedRowsLeaveBothSets) {
  const std::int64_t n = 200;
  const RowSelection plain(n, 0.25, 5, {});
  // Drop one validation row and two training rows.
  std::vector<std::int64_t> dropped;
  for (std::int64_t row = 0; row < n && dropped.size() < 1; ++row)
    if (plain.validation(row)) dropped.push_back(row);
  for (std::int64_t row = 0; row < n && dropped.size() < 3; ++row)
    if (plain.training(row)) dropped.push_back(row);
  std::sort(dropped.begin(), dropped.end());
  const RowSelection s(n, 0.25, 5, dropped);
  EXPECT_EQ(s.validation_rows(), 49);
  EXPECT_EQ(s.training_rows(), 148);
  EXPECT_EQ(s.dropped_rows(), 3);
  for (std::int64_t row : dropped) {
    EXPECT_FALSE(s.training(row));
    EXPECT_FALSE(s.validation(row));
  }
  EXPECT_EQ(s.training_rows_in({0, n}), 148);
}

TEST(BatchCursor, WithNothingLeftOutBatchesAreConsecutivePositions) {
  const GlobalPermutation order(103, 7, 1);
  const RowSelection all(103, 0, 7, {});
  BatchCursor cursor(order, all);
  for (std::int64_t step = 0; step < 11; ++step) {
    std::vector<std::int64_t> rows;
    const std::int64_t n = cursor.next(10, [&](std::int64_t r) { rows.push_back(r); });
    ASSERT_EQ(n, std::min<std::int64_t>(10, 103 - step * 10));
    for (std::int64_t i = 0; i < n; ++i) EXPECT_EQ(rows[i], static_cast<std::int64_t>(order(step * 10 + i)));
  }
}

TEST(BatchCursor, VisitsEveryTrainingRowOnceInFullBatches) {
  const std::int64_t n = 500, batch = 32;
  const RowSelection s(n, 0.2, 11, {3, 77, 250});
  const GlobalPermutation order(n, 11, 2);
  BatchCursor cursor(order, s);
  std::set<std::int64_t> seen;
  const std::int64_t steps = (s.training_rows() + batch - 1) / batch;
  for (std::int64_t step = 0; step < steps; ++step) {
    const std::int64_t got = cursor.next(batch, [&](std::int64_t r) {
      EXPECT_TRUE(s.training(r));
      EXPECT_TRUE(seen.insert(r).second) << "row " << r << " twice";
    });
    if (step + 1 < steps) EXPECT_EQ(got, batch);  // only the last batch is short
  }
  EXPECT_EQ(static_cast<std::int64_t>(seen.size()), s.training_rows());
  EXPECT_EQ(cursor.next(batch, [](std::int64_t) {}), 0);
}

TEST(BatchCursor, LocalOrderUsesTheRowOffset) {
  // A rank holding rows [100, 150) walks a local order of 50 rows; global = local + 100.
  const RowSelection s(200, 0, 1, {100, 149});
  const GlobalPermutation local(50, 3, 1);
  BatchCursor cursor(local, s, 100);
  std::set<std::int64_t> seen;
  cursor.next(1000, [&](std::int64_t r) { seen.insert(r); });
  EXPECT_EQ(seen.size(), 48u);
  EXPECT_EQ(seen.count(0), 0u);
  EXPECT_EQ(seen.count(49), 0u);
}

TEST(RowSelection, AgreedOverLocalRanksIsTheSameForAnyRankCount) {
  const std::int64_t n = 101;
  const std::vector<std::int64_t> bad = {5, 50, 99};
  std::vector<std::int64_t> reference;
  for (int ranks : {1, 2, 3, 4}) {
    std::vector<std::vector<std::int64_t>> training(ranks);
    std::vector<std::string> reports(ranks);
    run_local_ranks(ranks, [&](Communicator& comm) {
      const ShardRange mine = shard_range(n, comm.size(), comm.rank());
      DroppedRows dropped;
      for (std::int64_t row : bad)
        if (mine.contains(row)) dropped.add(row, row == 50, "row " + std::to_string(row));
      const RowSelection s = agree_row_selection(comm, n, 0.1, 9, dropped);
      for (std::int64_t row = 0; row < n; ++row)
        if (s.training(row)) training[comm.rank()].push_back(row);
      reports[comm.rank()] = s.dropped_report;
    });
    for (int r = 0; r < ranks; ++r) {
      EXPECT_EQ(reports[r], "--skip-bad-rows dropped 3 of 101 rows (2 with NaN/Inf, 1 with an invalid label); first: row 5");
      if (reference.empty()) reference = training[r];
      EXPECT_EQ(training[r], reference) << ranks << " ranks, rank " << r;
    }
  }
  const RowSelection serial(n, 0.1, 9, bad);
  EXPECT_EQ(static_cast<std::int64_t>(reference.size()), serial.training_rows());
  EXPECT_EQ(serial.training_rows() + serial.validation_rows() + 3, n);
}

TEST(ClassCoverage, WarnsForValidationClassesMissingFromTraining) {
  const auto w = class_coverage_warnings({5, 0, 3, 0}, {1, 2, 0, 0});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], "class 1 appears in the validation data (2 rows) but not in the training data; "
                  "the model cannot learn it");
}

// The stratified order: every training row once per epoch; batch s holds the same rows for
// any rank count; and each rank's part of a batch stays close to its share of the data.
TEST(StratifiedOrder, SameBatchesForAnyRankCountAndBalancedShares) {
  for (const double val_fraction : {0.0, 0.1}) {
    const std::int64_t rows = 20011, steps = (rows - static_cast<std::int64_t>(rows * val_fraction) + 255) / 256;
    const RowSelection selection(rows, val_fraction, 7, {});
    const auto per_stratum = StratifiedOrder::training_rows_per_stratum(selection);
    std::vector<std::vector<std::int64_t>> reference;  // batches on one rank, sorted
    for (int ranks : {1, 2, 3, 4}) {
      std::vector<std::vector<std::int64_t>> batches(steps);
      std::vector<int> seen(rows, 0);
      for (int r = 0; r < ranks; ++r) {
        const ShardRange mine = shard_range(rows, ranks, r);
        StratifiedOrder order(selection, per_stratum, 7, 3, steps, mine);
        const double share = static_cast<double>(selection.training_rows_in(mine)) / steps;
        for (std::int64_t s = 0; s < steps; ++s) {
          std::int64_t m = 0;
          order.next([&](std::int64_t row) {
            ASSERT_TRUE(mine.contains(row));
            ASSERT_TRUE(selection.training(row));
            ++seen[row];
            ++m;
            batches[s].push_back(row);
          });
          // Powers of two split the 64 strata evenly; 3 ranks share one stratum at each cut.
          // (A plain shuffle would stray by several times this: about 8 rows of 128 is one sd.)
      const double slack = (ranks & (ranks - 1)) ? 10.0 : 6.0;
          EXPECT_LE(std::abs(static_cast<double>(m) - share), slack) << ranks << " ranks, rank " << r << ", step " << s;
        }
      }
      for (std::int64_t row = 0; row < rows; ++row) ASSERT_EQ(seen[row], selection.training(row) ? 1 : 0) << row;
      for (auto& b : batches) std::sort(b.begin(), b.end());
      if (ranks == 1) reference = batches;
      else EXPECT_EQ(batches, reference) << ranks << " ranks";
    }
  }
}
