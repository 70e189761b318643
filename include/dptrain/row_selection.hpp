#pragma once
// Which global rows train and which validate: all rows, minus a held-out validation part
// chosen by seed (--val-fraction), minus the bad rows dropped by --skip-bad-rows. Every
// rank holds the same selection, defined by the data and the seed alone, so the training
// order and the validation set are the same for any rank count.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/communicator.hpp"
#include "dptrain/dataset.hpp"
#include "dptrain/shard.hpp"

namespace dptrain {

class RowSelection {
 public:
  // The validation rows are the rows at the last floor(val_fraction * rows) positions of
  // GlobalPermutation(rows, seed, epoch 0) (training epochs use epochs 1, 2, ...). `dropped`
  // lists global rows left out of both sets, in ascending order.
  RowSelection(std::int64_t rows, double val_fraction, std::uint64_t seed,
               std::vector<std::int64_t> dropped);
  RowSelection() : RowSelection(0, 0, 0, {}) {}

  std::int64_t rows() const { return rows_; }
  bool dropped(std::int64_t row) const;
  bool validation(std::int64_t row) const;
  bool training(std::int64_t row) const {
    return !excludes_ || (!dropped(row) && !in_validation_part(row));
  }
  // Rows outside the held-out part (training rows plus dropped ones): what the block order
  // (--order block) walks; dropped rows are passed over when met.
  bool in_sequence(std::int64_t row) const { return validation_cut_ >= rows_ || !in_validation_part(row); }
  std::int64_t sequence_rows() const { return validation_cut_; }
  std::int64_t training_rows() const { return training_rows_; }
  std::int64_t validation_rows() const { return validation_rows_; }
  std::int64_t dropped_rows() const { return static_cast<std::int64_t>(dropped_.size()); }
  // Training rows inside [range.begin, range.end).
  std::int64_t training_rows_in(ShardRange range) const;
  // What --skip-bad-rows dropped, in words (set by agree_row_selection; "" when nothing).
  std::string dropped_report;

 private:
  bool in_validation_part(std::int64_t row) const;
  std::int64_t rows_;
  std::int64_t validation_cut_;  // positions >= this are the validation part
  GlobalPermutation split_;
  std::vector<std::int64_t> dropped_;
  bool excludes_;
  std::int64_t training_rows_ = 0, validation_rows_ = 0;
};

// Collective: every rank contributes its shard's dropped rows (shards are ascending
// blocks, so the gathered list is sorted) and receives the same selection.
RowSelection agree_row_selection(Communicator& comm, std::int64_t rows, double val_fraction,
                                 std::uint64_t seed, const DroppedRows& local_dropped);

// Visits the training rows of one epoch batch by batch: batch after batch, the next
// `batch` training rows in the order of `order`, skipping rows the selection leaves out.
// With nothing left out, batch s is exactly positions [s*batch, (s+1)*batch) of the order.
class BatchCursor {
 public:
  BatchCursor(const GlobalPermutation& order, const RowSelection& selection,
              std::int64_t row_offset = 0)
      : order_(order), selection_(selection), offset_(row_offset) {}
  // Calls visit(row) for each row of the next batch (rows of `order`, i.e. without the
  // offset); returns the number of rows visited.
  template <class Visit>
  std::int64_t next(std::int64_t batch, Visit&& visit) {
    std::int64_t taken = 0;
    const auto n = static_cast<std::int64_t>(order_.size());
    for (; taken < batch && position_ < n; ++position_) {
      const auto row = static_cast<std::int64_t>(order_(static_cast<std::uint64_t>(position_)));
      if (!selection_.training(row + offset_)) continue;
      ++taken;
      visit(row);
    }
    return taken;
  }

 private:
  const GlobalPermutation& order_;
  const RowSelection& selection_;
  std::int64_t offset_;  // global row = order row + offset (a rank's local order)
  std::int64_t position_ = 0;
};

// Rows per class among the rows for which `count_row` holds (global row); label_cols must be 1.
template <class Predicate>
std::vector<double> class_counts(const Shard& shard, std::int64_t classes, Predicate count_row) {
  std::vector<double> counts(static_cast<std::size_t>(classes), 0.0);
  for (std::int64_t r = 0; r < shard.rows(); ++r) {
    if (!count_row(shard.range.begin + r)) continue;
    const float y = *shard.label(r);
    if (y >= 0 && y < static_cast<float>(classes)) counts[static_cast<std::size_t>(y)] += 1;
  }
  return counts;
}

// One warning per class that has validation rows but no training rows.
std::vector<std::string> class_coverage_warnings(const std::vector<double>& training_counts,
                                                 const std::vector<double>& validation_counts);

// "dropped 3 of 1000 rows (2 with NaN/Inf, 1 with an invalid label); first: ..."
std::string describe_dropped(std::int64_t dropped, std::int64_t non_finite, std::int64_t bad_label,
                             std::int64_t rows, const std::string& first);

// The order of one epoch in --sync grad mode, stratified so that every rank's share of every
// batch is (almost) the same size. The rows are cut into strata(rows) contiguous strata, each
// shuffled on its own (by seed, epoch and stratum); step s takes from every stratum its next
// share of training rows, in proportion to the stratum's size, so every stratum runs out at
// the last step. Which rows form batch s depends only on the data, the seed and the epoch —
// the rank count only decides who computes which of them — while a rank's share of a batch
// is its share of the data give or take one stratum's few rows. A plain global shuffle would
// give each rank a binomially varying share, and every step would wait for the rank that
// drew the most rows. A rank walks only the strata that overlap its own rows.
class StratifiedOrder {
 public:
  static constexpr std::int64_t kStrata = 64;
  static std::int64_t strata(std::int64_t rows) {
    return std::max<std::int64_t>(1, std::min(kStrata, rows));
  }
  // Training rows per stratum (the same on every rank).
  static std::vector<std::int64_t> training_rows_per_stratum(const RowSelection& selection);

  StratifiedOrder(const RowSelection& selection, const std::vector<std::int64_t>& training_per_stratum,
                  std::uint64_t seed, std::uint64_t epoch, std::int64_t steps, ShardRange mine);

  // The most rows one batch can hold (its size varies by at most the number of strata).
  static std::int64_t max_batch(std::int64_t batch, std::int64_t rows) { return batch + strata(rows); }

  // Calls visit(row) for each of this rank's rows of the next batch (global row ids).
  template <class Visit>
  void next(Visit&& visit) {
    for (auto& st : strata_) {
      // Rows of this stratum in batches 0..step: floor((step + 1) * training / steps + phase / S).
      // The phases stagger where the strata round up, so a batch (and a rank's part of it)
      // stays within a row or two of its share instead of all strata rounding up together.
      const auto target = static_cast<std::int64_t>(
          (static_cast<__int128>(step_ + 1) * st.training * count_ + static_cast<__int128>(st.phase) * steps_) /
          (static_cast<__int128>(steps_) * count_));
      while (st.taken < target) {
        const std::int64_t row =
            st.rows.begin + static_cast<std::int64_t>(st.order(static_cast<std::uint64_t>(st.position++)));
        if (!selection_.training(row)) continue;
        ++st.taken;
        if (mine_.contains(row)) visit(row);
      }
    }
    ++step_;
  }

 private:
  struct Stratum {
    ShardRange rows;
    GlobalPermutation order;
    std::int64_t phase = 0, training = 0, taken = 0, position = 0;
  };
  const RowSelection& selection_;
  ShardRange mine_;
  std::int64_t steps_;
  std::int64_t count_;  // number of strata
  std::int64_t step_ = 0;
  std::vector<Stratum> strata_;  // those overlapping `mine`
};

}  // namespace dptrain
