#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"
#include "dptrain/inspect.hpp"

using namespace dptrain;
namespace fs = std::filesystem;

namespace {
std::string temp(const std::string& name) {
  return (fs::temp_directory_path() / ("dptrain-inspect-test-" + name)).string();
}
}  // namespace

TEST(Inspect, StatisticsHistogramAndNonFiniteCountsOverBlocks) {
  const std::string path = temp("a.h5");
  {
    // Column 0 is r, column 1 is 10 - r; row 3 has a NaN, row 5 an Inf; labels r % 3.
    std::vector<double> x;
    std::vector<std::int32_t> y;
    for (int r = 0; r < 7; ++r) {
      x.push_back(r);
      x.push_back(10 - r);
      y.push_back(r % 3);
    }
    x[3 * 2 + 1] = std::nan("");
    x[5 * 2] = INFINITY;
    H5Writer w(path);
    w.write("/train/X", {7, 2}, x.data(), {4, 1, true});
    w.write("/train/y", {7}, y.data());
    w.close();
  }
  InspectOptions o;
  o.file = path;
  o.features_name = "/train/X";
  o.labels_name = "/train/y";
  o.block_rows = 3;  // statistics must not depend on the block size
  const InspectReport r = inspect_file(o);
  ASSERT_EQ(r.datasets.size(), 2u);
  EXPECT_EQ(r.datasets[0].first, "/train/X");
  EXPECT_EQ(r.datasets[0].second.type_name, "float64");
  EXPECT_EQ(r.datasets[0].second.chunk, (std::vector<std::int64_t>{4, 2}));
  EXPECT_EQ(r.datasets[0].second.filters, "shuffle,deflate(1)");
  EXPECT_EQ(r.rows, 7);
  EXPECT_EQ(r.cols, 2);
  EXPECT_EQ(r.columns[0].min, 0);
  EXPECT_EQ(r.columns[0].max, 6);
  EXPECT_EQ(r.columns[0].inf, 1);
  EXPECT_DOUBLE_EQ(r.columns[0].mean(), (0 + 1 + 2 + 3 + 4 + 6) / 6.0);
  EXPECT_EQ(r.columns[1].nan, 1);
  EXPECT_EQ(r.columns[1].min, 4);
  EXPECT_EQ(r.rows_with_non_finite, 2);
  EXPECT_EQ(r.first_bad_row, 3);
  EXPECT_TRUE(r.integer_labels);
  EXPECT_EQ(r.histogram, (std::map<std::int64_t, std::int64_t>{{0, 3}, {1, 2}, {2, 2}}));

  std::ostringstream text;
  print_report(r, text, false);
  EXPECT_NE(text.str().find("features '/train/X': 7 rows x 2 columns"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("1 NaN and 1 Inf feature values"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("2 bad rows (first: row 3"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("class histogram (3 classes)"), std::string::npos) << text.str();
  fs::remove(path);
}

TEST(Inspect, ReportsWhyAFileCannotBeTrainedOn) {
  const std::string path = temp("b.h5");
  {
    std::vector<float> x(8, 1.0f), y(3, 0.5f);
    H5Writer w(path);
    w.write("/images", {2, 2, 2}, x.data());
    w.write("/labels", {3}, y.data());
    w.close();
  }
  InspectOptions o;
  o.file = path;
  InspectReport r = inspect_file(o);
  EXPECT_EQ(r.features_problem, "no dataset '/features'");
  o.features_name = "/images";
  r = inspect_file(o);
  EXPECT_EQ(r.features_problem, "'/images' has 3 dimension(s), not 2 [rows, features]");
  EXPECT_THROW(inspect_file(InspectOptions{temp("missing.h5")}), DataError);
  fs::remove(path);
}
