#include "dptrain/row_selection.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dptrain/error.hpp"

namespace dptrain {

RowSelection::RowSelection(std::int64_t rows, double val_fraction, std::uint64_t seed,
                           std::vector<std::int64_t> dropped)
    : rows_(rows),
      // The small epsilon keeps e.g. 0.29 * 100 from flooring to 28.
      validation_cut_(rows - static_cast<std::int64_t>(std::floor(val_fraction * rows + 1e-9))),
      split_(static_cast<std::uint64_t>(std::max<std::int64_t>(rows, 1)), seed, 0),
      dropped_(std::move(dropped)),
      excludes_(validation_cut_ < rows || !dropped_.empty()) {
  std::int64_t dropped_in_validation = 0;
  for (std::int64_t row : dropped_) dropped_in_validation += in_validation_part(row) ? 1 : 0;
  validation_rows_ = rows_ - validation_cut_ - dropped_in_validation;
  training_rows_ = validation_cut_ - (static_cast<std::int64_t>(dropped_.size()) - dropped_in_validation);
}

bool RowSelection::dropped(std::int64_t row) const {
  return std::binary_search(dropped_.begin(), dropped_.end(), row);
}

bool RowSelection::in_validation_part(std::int64_t row) const {
  if (validation_cut_ >= rows_) return false;
  return static_cast<std::int64_t>(split_.inverse(static_cast<std::uint64_t>(row))) >= validation_cut_;
}

bool RowSelection::validation(std::int64_t row) const {
  return in_validation_part(row) && !dropped(row);
}

std::int64_t RowSelection::training_rows_in(ShardRange range) const {
  if (!excludes_) return range.size();
  std::int64_t n = 0;
  for (std::int64_t row = range.begin; row < range.end; ++row) n += training(row) ? 1 : 0;
  return n;
}

namespace {

// A rank's dropped rows as bytes: [non_finite, bad_label, first.size()] first rows...
std::string encode(const DroppedRows& d) {
  const std::int64_t header[3] = {d.non_finite, d.bad_label, static_cast<std::int64_t>(d.first.size())};
  std::string out(reinterpret_cast<const char*>(header), sizeof header);
  out += d.first;
  out.append(reinterpret_cast<const char*>(d.rows.data()), d.rows.size() * sizeof(std::int64_t));
  return out;
}

DroppedRows decode(const std::string& bytes) {
  DroppedRows d;
  std::int64_t header[3];
  std::memcpy(header, bytes.data(), sizeof header);
  d.non_finite = header[0];
  d.bad_label = header[1];
  d.first = bytes.substr(sizeof header, static_cast<std::size_t>(header[2]));
  const std::size_t at = sizeof header + static_cast<std::size_t>(header[2]);
  d.rows.resize((bytes.size() - at) / sizeof(std::int64_t));
  std::memcpy(d.rows.data(), bytes.data() + at, d.rows.size() * sizeof(std::int64_t));
  return d;
}

}  // namespace

RowSelection agree_row_selection(Communicator& comm, std::int64_t rows, double val_fraction,
                                 std::uint64_t seed, const DroppedRows& local_dropped) {
  DroppedRows local = local_dropped;
  local.sort();
  DroppedRows all;
  for (const std::string& bytes : comm.allgather(encode(local))) {
    const DroppedRows d = decode(bytes);
    all.rows.insert(all.rows.end(), d.rows.begin(), d.rows.end());
    all.non_finite += d.non_finite;
    all.bad_label += d.bad_label;
    if (all.first.empty()) all.first = d.first;
  }
  all.sort();  // already ascending when every rank holds an ascending block; cheap then
  RowSelection selection(rows, val_fraction, seed, std::move(all.rows));
  if (selection.dropped_rows() > 0)
    selection.dropped_report = describe_dropped(selection.dropped_rows(), all.non_finite,
                                                all.bad_label, rows, all.first);
  return selection;
}

std::vector<std::string> class_coverage_warnings(const std::vector<double>& training_counts,
                                                 const std::vector<double>& validation_counts) {
  std::vector<std::string> out;
  for (std::size_t c = 0; c < validation_counts.size(); ++c)
    if (validation_counts[c] > 0 && (c >= training_counts.size() || training_counts[c] == 0))
      out.push_back("class " + std::to_string(c) + " appears in the validation data (" +
                    std::to_string(static_cast<std::int64_t>(validation_counts[c])) +
                    " rows) but not in the training data; the model cannot learn it");
  return out;
}

std::string describe_dropped(std::int64_t dropped, std::int64_t non_finite, std::int64_t bad_label,
                             std::int64_t rows, const std::string& first) {
  std::string s = "--skip-bad-rows dropped " + std::to_string(dropped) + " of " +
                  std::to_string(rows) + " rows (";
  s += std::to_string(non_finite) + " with NaN/Inf, " + std::to_string(bad_label) +
       " with an invalid label)";
  if (!first.empty()) s += "; first: " + first;
  return s;
}

std::vector<std::int64_t> StratifiedOrder::training_rows_per_stratum(const RowSelection& selection) {
  const std::int64_t n = StratifiedOrder::strata(selection.rows());
  std::vector<std::int64_t> training;
  for (std::int64_t k = 0; k < n; ++k)
    training.push_back(selection.training_rows_in(shard_range(selection.rows(), static_cast<int>(n), static_cast<int>(k))));
  return training;
}

namespace {

// A stratum's rounding phase in [0, n): the bit reversal of k when n is a power of two, so
// that any run of consecutive strata (one rank's) has phases spread evenly over [0, n).
std::int64_t stratum_phase(std::int64_t k, std::int64_t n) {
  if (n & (n - 1)) return k;
  std::int64_t reversed = 0;
  for (std::int64_t bit = 1, top = n >> 1; bit < n; bit <<= 1, top >>= 1)
    if (k & bit) reversed |= top;
  return reversed;
}

}  // namespace

StratifiedOrder::StratifiedOrder(const RowSelection& selection,
                                 const std::vector<std::int64_t>& training_per_stratum,
                                 std::uint64_t seed, std::uint64_t epoch, std::int64_t steps,
                                 ShardRange mine)
    : selection_(selection),
      mine_(mine),
      steps_(std::max<std::int64_t>(1, steps)),
      count_(static_cast<std::int64_t>(training_per_stratum.size())) {
  const std::int64_t n = count_;
  for (std::int64_t k = 0; k < n; ++k) {
    const ShardRange rows = shard_range(selection.rows(), static_cast<int>(n), static_cast<int>(k));
    if (rows.end <= mine.begin || rows.begin >= mine.end) continue;
    // Epoch e, stratum k: key e * kStrata + k (epoch 0 is the validation split's).
    strata_.push_back({rows, GlobalPermutation(static_cast<std::uint64_t>(rows.size()), seed,
                                               epoch * kStrata + static_cast<std::uint64_t>(k)),
                       stratum_phase(k, n), training_per_stratum[k]});
  }
}

}  // namespace dptrain
