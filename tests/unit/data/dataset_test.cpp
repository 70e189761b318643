#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "dptrain/dataset.hpp"
#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"

using namespace dptrain;
namespace fs = std::filesystem;

namespace {
// Writes a file whose feature row r is (r + offset, 10 * (r + offset)), label r + offset.
std::string write_part(const std::string& name, std::int64_t rows, std::int64_t offset) {
  const std::string path = (fs::temp_directory_path() / ("dptrain-dataset-test-" + name)).string();
  std::vector<float> x, y;
  for (std::int64_t r = 0; r < rows; ++r) {
    x.push_back(static_cast<float>(r + offset));
    x.push_back(static_cast<float>(10 * (r + offset)));
    y.push_back(static_cast<float>(r + offset));
  }
  H5Writer w(path);
  w.write("/features", {rows, 2}, x.data());
  w.write("/labels", {rows}, y.data());
  w.close();
  return path;
}
}  // namespace

TEST(Dataset, ShardsSpanSeveralFilesAsOneTable) {
  DataOptions o;
  o.files = {write_part("a.h5", 5, 0), write_part("b.h5", 3, 5), write_part("c.h5", 4, 8)};
  const DataDescription d = describe_data(o);
  EXPECT_EQ(d.rows, 12);
  EXPECT_EQ(d.cols, 2);
  EXPECT_EQ(d.label_cols, 1);
  for (int ranks : {1, 2, 3, 5}) {
    for (int rank = 0; rank < ranks; ++rank) {
      const Shard s = load_shard(o, d, shard_range(d.rows, ranks, rank));
      for (std::int64_t r = 0; r < s.rows(); ++r) {
        const float global = static_cast<float>(s.range.begin + r);
        EXPECT_EQ(s.row(r)[0], global);
        EXPECT_EQ(s.row(r)[1], 10 * global);
        EXPECT_EQ(*s.label(r), global);
      }
    }
  }
  const Shard s = load_shard(o, d, {0, 0});
  EXPECT_EQ(s.locate(o, 6), o.files[1] + " row 1");
  for (auto& f : o.files) fs::remove(f);
}

TEST(Dataset, RejectsMismatchedLengthsWithAClearMessage) {
  const std::string path = (fs::temp_directory_path() / "dptrain-dataset-test-mismatch.h5").string();
  {
    H5Writer w(path);
    std::vector<float> x(10 * 3, 1.0f), y(9, 0.0f);
    w.write("/features", {10, 3}, x.data());
    w.write("/labels", {9}, y.data());
    w.close();
  }
  DataOptions o;
  o.files = {path};
  try {
    describe_data(o);
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ": dataset '/labels' has 9 rows but '/features' has 10; expected the same row count");
  }
  o.labels_name = "/targets";
  try {
    describe_data(o);
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no dataset '/targets'"), std::string::npos) << e.what();
  }
  fs::remove(path);
}

TEST(Dataset, NamesTheFirstNonFiniteRow) {
  const std::string path = (fs::temp_directory_path() / "dptrain-dataset-test-nan.h5").string();
  {
    H5Writer w(path);
    std::vector<float> x(6 * 2, 1.0f), y(6, 0.0f);
    x[4 * 2 + 1] = std::nanf("");
    w.write("/features", {6, 2}, x.data());
    w.write("/labels", {6}, y.data());
    w.close();
  }
  DataOptions o;
  o.files = {path};
  const DataDescription d = describe_data(o);
  EXPECT_NO_THROW(load_shard(o, d, {0, 3}));  // the bad row belongs to another rank
  try {
    load_shard(o, d, {3, 6});
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), path + " row 4: feature column 1 of '/features' is NaN; expected a finite number (or train with --skip-bad-rows)");
  }
  fs::remove(path);
}

TEST(Dataset, ExpandsListsAndGlobs) {
  const auto a = write_part("glob-1.h5", 1, 0), b = write_part("glob-2.h5", 1, 0);
  const auto dir = fs::temp_directory_path().string();
  EXPECT_EQ(expand_file_list(dir + "/dptrain-dataset-test-glob-*.h5"), (std::vector<std::string>{a, b}));
  EXPECT_EQ(expand_file_list("x.h5,y.h5"), (std::vector<std::string>{"x.h5", "y.h5"}));
  EXPECT_THROW(expand_file_list(dir + "/dptrain-nothing-*.h5"), DataError);
  fs::remove(a);
  fs::remove(b);
}
