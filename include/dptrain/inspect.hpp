#pragma once
// `dptrain inspect`: what is in an HDF5 file, and whether dptrain can train on it — every
// dataset with shape, type and storage, then statistics of the features and labels,
// computed in blocks of rows so a file of any size is inspected in bounded memory.
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "dptrain/csr.hpp"
#include "dptrain/hdf5.hpp"

namespace dptrain {

struct InspectOptions {
  std::string file;
  std::string features_name = "/features";
  std::string labels_name = "/labels";
  std::int64_t block_rows = 0;  // 0: about 16 MiB of features per block
};

// Finite values counted; NaN and Inf counted apart.
struct ValueStats {
  std::int64_t count = 0, nan = 0, inf = 0;
  double min = 0, max = 0, sum = 0;
  void add(double v);
  double mean() const { return count ? sum / count : 0.0; }
};

struct InspectReport {
  std::string file;
  std::vector<std::pair<std::string, DatasetShape>> datasets;
  // Features (when features_name is a numeric 2-D dataset).
  std::string features_name, features_problem;  // problem: why no statistics, or ""
  std::int64_t rows = 0, cols = 0;
  std::optional<CsrDescription> csr;  // features_name is a CSR group: no per-column statistics
  std::vector<ValueStats> columns;
  ValueStats all_features;
  std::int64_t rows_with_non_finite = 0;
  std::int64_t first_bad_row = -1;  // first row with a NaN/Inf feature or label
  // Labels (when labels_name is a numeric dataset with the same row count).
  std::string labels_name, labels_problem;
  std::int64_t label_cols = 0;
  bool integer_labels = false;  // every finite label is an integer
  ValueStats labels;
  std::map<std::int64_t, std::int64_t> histogram;  // class id -> rows (integer labels, 1 column)
  // Names stored with the data (names.hpp); empty when none.
  std::vector<std::string> column_names, class_names;
};

InspectReport inspect_file(const InspectOptions& options);
// Statistics of a CSR group's stored values, read in blocks (inspect_csr.cpp).
ValueStats csr_value_stats(const H5Reader& file, const std::string& group, const CsrDescription& csr);
// "CSR group, 40000 rows x 1048576 columns, 480000 non-zeros (density 0.0011%, 12 per row), ..."
std::string describe_csr_text(const CsrDescription& csr);

// The report as text; per-column statistics for every column when all_columns, else for up
// to 20 columns.
void print_report(const InspectReport& report, std::ostream& out, bool all_columns);

}  // namespace dptrain
