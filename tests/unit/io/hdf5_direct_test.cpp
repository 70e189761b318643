// H5RowReader's direct reads (src/io/hdf5_direct.cpp): whole unfiltered chunks with
// H5Dread_chunk and contiguous rows with pread give bitwise what H5Dread gives, for reads
// aligned to chunks or not, the partial last chunk, and integer labels converted here; and
// data that needs HDF5 (filters, float64) still takes H5Dread.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "../temp_dir.hpp"
#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"

using namespace dptrain;

namespace {

constexpr std::int64_t kRows = 203, kCols = 5;  // 12 chunks of 16 rows and a partial one

std::vector<float> features() {
  std::vector<float> x(kRows * kCols);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = std::ldexp(static_cast<float>(i % 97) - 48.3f, static_cast<int>(i % 41) - 20);
  x[7] = std::numeric_limits<float>::denorm_min();
  x[8] = -0.0f;
  return x;
}

// Labels an int64 to float32 conversion must round: 2^24 + 1, 2^53 + 1, negatives.
std::vector<std::int64_t> labels() {
  std::vector<std::int64_t> y(kRows);
  for (std::int64_t i = 0; i < kRows; ++i) y[static_cast<std::size_t>(i)] = i % 7 - 3;
  y[3] = (std::int64_t{1} << 24) + 1;
  y[40] = (std::int64_t{1} << 53) + 1;
  y[202] = -((std::int64_t{1} << 31) + 3);
  return y;
}

std::vector<float> read(const H5Reader& file, const std::string& name, std::int64_t cols, std::int64_t begin,
                        std::int64_t count) {
  std::vector<float> out(static_cast<std::size_t>(count * cols));
  file.open_rows(name, 1 << 20).read_rows(begin, count, std::span<float>(out));
  return out;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class Hdf5Direct : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test_util::TempDir("dptrain-hdf5-direct-test");
    const auto x = features();
    const auto y = labels();
    std::vector<double> x64(x.begin(), x.end());
    std::vector<std::int32_t> y32(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) y32[i] = static_cast<std::int32_t>(y[i] % 100000);
    H5Writer w(*dir_ / "layouts.h5");
    w.write("/chunked", {kRows, kCols}, x.data(), H5Layout{16, 0, false});
    w.write("/contiguous", {kRows, kCols}, x.data());
    w.write("/gzip", {kRows, kCols}, x.data(), H5Layout{16, 4, true});
    w.write("/float64", {kRows, kCols}, x64.data(), H5Layout{16, 0, false});
    w.write("/labels64", {kRows}, y.data(), H5Layout{16, 0, false});
    w.write("/labels64_contiguous", {kRows}, y.data());
    w.write("/labels64_gzip", {kRows}, y.data(), H5Layout{16, 1, false});
    w.write("/labels32", {kRows}, y32.data(), H5Layout{64, 0, false});
    w.write("/labels32_gzip", {kRows}, y32.data(), H5Layout{64, 1, false});
    w.create_growing("/growing", kCols, false, H5Layout{16, 0, false});
    w.append_rows("/growing", 100, x.data());
    w.append_rows("/growing", kRows - 100, x.data() + 100 * kCols);
    w.close();
  }
  static void TearDownTestSuite() { delete std::exchange(dir_, nullptr); }
  static test_util::TempDir* dir_;
};
test_util::TempDir* Hdf5Direct::dir_ = nullptr;

// Reads aligned to chunks, inside one chunk, across chunks, and in the partial last chunk.
const std::pair<std::int64_t, std::int64_t> kReads[] = {{0, kRows}, {0, 16}, {16, 16}, {5, 30},  {17, 1},
                                                        {192, 11}, {200, 3}, {176, 27}, {31, 2}, {48, 64}};

TEST_F(Hdf5Direct, EachLayoutTakesTheExpectedPath) {
  H5Reader file(*dir_ / "layouts.h5");
  EXPECT_STREQ(file.open_rows("/chunked", 0).read_path(), "chunks");
  EXPECT_STREQ(file.open_rows("/growing", 0).read_path(), "chunks");
  EXPECT_STREQ(file.open_rows("/labels64", 0).read_path(), "chunks");
  EXPECT_STREQ(file.open_rows("/labels32", 0).read_path(), "chunks");
  EXPECT_STREQ(file.open_rows("/contiguous", 0).read_path(), "contiguous");
  EXPECT_STREQ(file.open_rows("/labels64_contiguous", 0).read_path(), "contiguous");
  EXPECT_STREQ(file.open_rows("/gzip", 0).read_path(), "hdf5");      // a filter: HDF5 decodes
  EXPECT_STREQ(file.open_rows("/float64", 0).read_path(), "hdf5");   // HDF5 converts
}

TEST_F(Hdf5Direct, FeaturesAreBitwiseWhatH5DreadGives) {
  H5Reader file(*dir_ / "layouts.h5");
  for (const auto& [begin, count] : kReads) {
    const auto reference = read(file, "/gzip", kCols, begin, count);  // H5Dread, deflate
    for (const char* name : {"/chunked", "/growing", "/contiguous", "/float64"})
      EXPECT_TRUE(bitwise_equal(read(file, name, kCols, begin, count), reference))
          << name << " rows " << begin << "+" << count;
  }
  std::vector<float> all(kRows * kCols);
  file.open_rows("/chunked", 0).read_rows(0, kRows, std::span<float>(all));
  EXPECT_TRUE(bitwise_equal(all, features()));
}

TEST_F(Hdf5Direct, IntegerLabelsConvertAsHdf5Does) {
  H5Reader file(*dir_ / "layouts.h5");
  for (const auto& [begin, count] : kReads) {
    const auto reference = read(file, "/labels64_gzip", 1, begin, count);
    EXPECT_TRUE(bitwise_equal(read(file, "/labels64", 1, begin, count), reference)) << begin << "+" << count;
    EXPECT_TRUE(bitwise_equal(read(file, "/labels64_contiguous", 1, begin, count), reference)) << begin;
    EXPECT_TRUE(bitwise_equal(read(file, "/labels32", 1, begin, count), read(file, "/labels32_gzip", 1, begin, count)))
        << begin << "+" << count;
  }
  EXPECT_EQ(read(file, "/labels64", 1, 3, 1)[0], 16777216.0f);  // 2^24 + 1 rounds to even
}

TEST_F(Hdf5Direct, BadReadsStillNameTheProblem) {
  H5Reader file(*dir_ / "layouts.h5");
  for (const char* name : {"/chunked", "/contiguous"}) {
    const H5RowReader rows = file.open_rows(name, 0);
    std::vector<float> out(10 * kCols);
    try {
      rows.read_rows(200, 10, std::span<float>(out));
      ADD_FAILURE() << name << ": no error for rows past the end";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("has 203 rows; cannot read rows 200..210"), std::string::npos) << e.what();
    }
    std::vector<float> wrong(3 * 4);
    EXPECT_THROW(rows.read_rows(0, 3, std::span<float>(wrong)), DataError) << name;
  }
}

}  // namespace
