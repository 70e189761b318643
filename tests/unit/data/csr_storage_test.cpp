// CSR groups in HDF5: written by CsrWriter block by block, described, and read back by row
// slices (the slice of indptr, then only those rows' values), with the errors a damaged group
// must give. (Groups written by h5py are read in e2e.test_sparse_data.)
#include <gtest/gtest.h>

#include "../temp_dir.hpp"
#include "dptrain/csr.hpp"
#include "dptrain/error.hpp"

namespace dptrain {
namespace {

// Row r holds columns r % 5 and (r * 3) % 11 + 5 with values r + 0.5 and -r.
CsrRows sample_rows(std::int64_t begin, std::int64_t end) {
  CsrRows rows;
  for (std::int64_t r = begin; r < end; ++r) {
    rows.indices.push_back(static_cast<std::int32_t>(r % 5));
    rows.values.push_back(static_cast<float>(r) + 0.5f);
    if (r % 3 != 0) {  // every third row has one entry only
      rows.indices.push_back(static_cast<std::int32_t>((r * 3) % 11 + 5));
      rows.values.push_back(-static_cast<float>(r));
    }
    rows.indptr.push_back(static_cast<std::int64_t>(rows.indices.size()));
  }
  return rows;
}

TEST(CsrStorage, WritesBlocksAndReadsAnySlice) {
  test_util::TempDir dir("csr-storage");
  const std::string path = dir / "x.h5";
  {
    H5Writer writer(path);
    CsrWriter csr(writer, "/X", H5Layout{});
    csr.append(sample_rows(0, 13));
    csr.append(sample_rows(13, 13));  // an empty block changes nothing
    csr.append(sample_rows(13, 40));
    csr.finish(16);
    writer.close();
  }
  H5Reader file(path);
  ASSERT_TRUE(is_csr_group(file, "/X"));
  EXPECT_FALSE(is_csr_group(file, "/X/data"));
  const CsrDescription d = describe_csr(file, "/X");
  EXPECT_EQ(d.rows, 40);
  EXPECT_EQ(d.cols, 16);
  const CsrRows all = sample_rows(0, 40);
  EXPECT_EQ(d.nnz, all.nnz());
  for (const auto& [begin, count] : std::vector<std::pair<std::int64_t, std::int64_t>>{{0, 40}, {7, 9}, {39, 1}, {12, 0}}) {
    CsrRows got;
    read_csr_rows(file, "/X", d, begin, count, got);
    const CsrRows want = sample_rows(begin, begin + count);
    EXPECT_EQ(got.indptr, want.indptr) << begin;
    EXPECT_EQ(got.indices, want.indices) << begin;
    EXPECT_EQ(got.values, want.values) << begin;
  }
  // Appending to rows already held keeps the offsets consistent.
  CsrRows two;
  read_csr_rows(file, "/X", d, 0, 2, two);
  read_csr_rows(file, "/X", d, 30, 3, two);
  EXPECT_EQ(two.rows(), 5);
  EXPECT_EQ(two.indices[static_cast<std::size_t>(two.indptr[2])], 0);  // row 30: column 30 % 5
}

TEST(CsrStorage, RefusesAGroupWithoutItsParts) {
  test_util::TempDir dir("csr-bad");
  const std::string path = dir / "bad.h5";
  {
    H5Writer writer(path);
    const std::vector<std::int64_t> indptr = {0, 1};
    writer.write("/X/indptr", {2}, indptr.data());
    writer.set_attribute("/X", "encoding-type", std::string("csr_matrix"));
    writer.set_attribute("/X", "shape", std::vector<std::int64_t>{1, 4});
    writer.close();
  }
  H5Reader file(path);
  ASSERT_TRUE(is_csr_group(file, "/X"));
  try {
    describe_csr(file, "/X");
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no dataset 'data'"), std::string::npos) << e.what();
  }
}

TEST(CsrStorage, RefusesAColumnBeyondTheShape) {
  test_util::TempDir dir("csr-range");
  const std::string path = dir / "range.h5";
  {
    H5Writer writer(path);
    CsrWriter csr(writer, "/X", H5Layout{});
    csr.append(sample_rows(0, 4));
    csr.finish(5);  // row 1 holds column 8
    writer.close();
  }
  H5Reader file(path);
  CsrRows rows;
  EXPECT_THROW(read_csr_rows(file, "/X", describe_csr(file, "/X"), 0, 4, rows), DataError);
}

}  // namespace
}  // namespace dptrain
