#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"

using namespace dptrain;
namespace fs = std::filesystem;

namespace {
std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("dptrain-hdf5-test-" + name)).string();
}
}  // namespace

TEST(Hdf5, RoundTripsRowsOfEachTypeWithConversion) {
  const std::string path = temp_path("roundtrip.h5");
  std::vector<double> x(6 * 3);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.5 * static_cast<double>(i);
  std::vector<std::int32_t> y = {0, 1, 2, 3, 4, 5};
  {
    H5Writer w(path);
    w.write("/features", {6, 3}, x.data());
    w.write("/group/labels", {6}, y.data(), H5Layout{2, 4, true});
    w.set_attribute("/", "note", "hello");
    w.set_attribute("/features", "dims", std::vector<std::int64_t>{6, 3});
    w.set_attribute("/", "scale", 2.5);
    w.close();
  }
  H5Reader r(path);
  const DatasetShape fs = r.shape("/features");
  EXPECT_EQ(fs.dims, (std::vector<std::int64_t>{6, 3}));
  EXPECT_EQ(fs.type_name, "float64");
  EXPECT_TRUE(fs.chunk.empty());
  const DatasetShape ls = r.shape("/group/labels");
  EXPECT_EQ(ls.type_name, "int32");
  EXPECT_EQ(ls.chunk, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(ls.filters, "shuffle,deflate(4)");

  std::vector<float> rows(2 * 3);
  r.read_rows("/features", 2, 2, std::span(rows));  // a hyperslab: rows 2 and 3 only
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(rows[i], 0.5f * (6 + i));
  std::vector<float> labels(3);
  r.read_rows("/group/labels", 3, 3, std::span(labels));
  EXPECT_EQ(labels, (std::vector<float>{3, 4, 5}));
  std::vector<std::int64_t> ids(6);
  r.read_rows("/group/labels", 0, 6, std::span(ids));
  EXPECT_EQ(ids[5], 5);

  EXPECT_EQ(r.attribute_string("/", "note"), "hello");
  EXPECT_EQ(r.attribute_ints("/features", "dims"), (std::vector<std::int64_t>{6, 3}));
  EXPECT_DOUBLE_EQ(r.attribute_double("/", "scale"), 2.5);
  EXPECT_TRUE(r.has_dataset("/group/labels"));
  EXPECT_FALSE(r.has_dataset("/nope/labels"));
  EXPECT_FALSE(r.has_dataset("/group"));
  EXPECT_EQ(r.list_datasets(), (std::vector<std::string>{"/features", "/group/labels"}));
  fs::remove(path);
}

TEST(Hdf5, GrowingDatasetAppendsRows) {
  const std::string path = temp_path("grow.h5");
  {
    H5Writer w(path);
    w.create_growing("/x", 2, false, H5Layout{4, 1, false});
    const float a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
    w.append_rows("/x", 2, a);
    w.append_rows("/x", 1, b);
    w.close();
  }
  H5Reader r(path);
  EXPECT_EQ(r.shape("/x").dims, (std::vector<std::int64_t>{3, 2}));
  std::vector<float> all(6);
  r.read_rows("/x", 0, 3, std::span(all));
  EXPECT_EQ(all, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  fs::remove(path);
}

TEST(Hdf5, ErrorsNameTheFileAndDataset) {
  try {
    H5Reader r(temp_path("missing.h5"));
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.h5: no such file"), std::string::npos) << e.what();
  }
  const std::string text = temp_path("text.h5");
  std::ofstream(text) << "not hdf5 at all";
  try {
    H5Reader r(text);
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("not an HDF5 file"), std::string::npos) << e.what();
  }
  fs::remove(text);

  const std::string path = temp_path("small.h5");
  {
    H5Writer w(path);
    const float x[2] = {1, 2};
    w.write("/x", {2}, x);
    w.close();
  }
  H5Reader r(path);
  float out[4];
  try {
    r.read_rows("/y", 0, 1, std::span(out, 1));
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no dataset '/y'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(r.read_rows("/x", 1, 3, std::span(out, 3)), DataError);
  fs::remove(path);
}

TEST(Hdf5, AtomicWriteLeavesOldFileWhenWritingFails) {
  const std::string path = temp_path("atomic.h5");
  write_file_atomically(path, [](H5Writer& w) {
    const float x[1] = {7};
    w.write("/x", {1}, x);
  });
  EXPECT_THROW(write_file_atomically(path,
                                     [](H5Writer&) { throw DataError("simulated crash while writing"); }),
               DataError);
  H5Reader r(path);
  float v = 0;
  r.read_rows("/x", 0, 1, std::span(&v, 1));
  EXPECT_EQ(v, 7.0f);
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(entry.path().filename().string().find(".dptrain-hdf5-test-atomic.h5.tmp"), std::string::npos)
        << "temporary file left behind: " << entry.path();
  fs::remove(path);
}
