#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "convert/convert_input.hpp"
#include "dptrain/convert.hpp"
#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"

using namespace dptrain;
namespace fs = std::filesystem;

namespace {

// Removes this test's files when the program ends.
struct RemoveTempFiles {
  ~RemoveTempFiles() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::temp_directory_path(), ec))
      if (e.path().filename().string().rfind("dptrain-convert-test-", 0) == 0) fs::remove(e.path(), ec);
  }
} remove_temp_files;

std::string temp(const std::string& name) {
  return (fs::temp_directory_path() / ("dptrain-convert-test-" + name)).string();
}

std::string write_text(const std::string& name, const std::string& text) {
  const std::string path = temp(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

struct Table {
  std::vector<std::int64_t> dims;
  std::vector<double> features, labels;
  std::string label_type;
};

Table read_back(const std::string& path) {
  H5Reader r(path);
  Table t;
  const DatasetShape x = r.shape("/features");
  t.dims = x.dims;
  t.features.resize(static_cast<std::size_t>(x.rows() * x.cols()));
  r.read_rows("/features", 0, x.rows(), std::span(t.features));
  const DatasetShape y = r.shape("/labels");
  t.label_type = y.type_name;
  t.labels.resize(static_cast<std::size_t>(y.rows() * y.cols()));
  r.read_rows("/labels", 0, y.rows(), std::span(t.labels));
  return t;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

ConvertOptions csv(const std::string& input, const std::string& out) {
  ConvertOptions o;
  o.from = "csv";
  o.input = input;
  o.out = out;
  return o;
}

}  // namespace

TEST(ParseNumber, AcceptsWhatTextFormatsWrite) {
  double v = 0;
  EXPECT_TRUE(parse_number("+1", v));
  EXPECT_EQ(v, 1.0);
  EXPECT_TRUE(parse_number(" -2.5e-3 ", v));
  EXPECT_EQ(v, -2.5e-3);
  EXPECT_TRUE(parse_number("nan", v));
  EXPECT_TRUE(std::isnan(v));
  EXPECT_TRUE(parse_number("1e999", v));
  EXPECT_TRUE(std::isinf(v));
  EXPECT_FALSE(parse_number("1.2.3", v));
  EXPECT_FALSE(parse_number("", v));
  EXPECT_FALSE(parse_number("abc", v));
  EXPECT_TRUE(is_missing_marker(""));
  EXPECT_TRUE(is_missing_marker(" NA "));
}

TEST(LineReader, ReadsPlainAndGzipLinesOfAnyLength) {
  const std::string long_field(3 << 20, 'x');  // longer than the reader's buffer
  const std::string text = "a\r\n\n" + long_field + "\nlast";
  const std::string plain = write_text("lines.txt", text);
  const std::string gz = temp("lines.txt.gz");
  gzFile f = gzopen(gz.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  for (const auto& path : {plain, gz}) {
    LineReader in(path);
    std::string_view line;
    std::vector<std::string> lines;
    while (in.next(line)) lines.emplace_back(line);
    ASSERT_EQ(lines.size(), 4u) << path;
    EXPECT_EQ(lines[0], "a");
    EXPECT_EQ(lines[1], "");
    EXPECT_EQ(lines[2].size(), long_field.size());
    EXPECT_EQ(lines[3], "last");
    EXPECT_EQ(in.line_number(), 4);
    in.rewind();
    ASSERT_TRUE(in.next(line));
    EXPECT_EQ(line, "a");
  }
  fs::remove(plain);
  fs::remove(gz);
}

TEST(ConvertCsv, HeaderLabelByNameQuotesAndMissingValues) {
  const std::string in = write_text("a.csv", "x1,\"label\",x2\n1.5,1,\"2\"\n-3,0,\n4e1,2,NA\n");
  auto o = csv(in, temp("a.h5"));
  o.label_column = "label";
  const ConvertSummary s = convert_csv(o);
  EXPECT_EQ(s.rows, 3);
  EXPECT_EQ(s.features, 2);
  EXPECT_EQ(s.label_type, "int64");
  const Table t = read_back(o.out);
  EXPECT_EQ(t.dims, (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(t.label_type, "int64");
  EXPECT_EQ(t.labels, (std::vector<double>{1, 0, 2}));
  EXPECT_EQ(t.features[0], 1.5);
  EXPECT_EQ(t.features[1], 2);
  EXPECT_EQ(t.features[2], -3);
  EXPECT_TRUE(std::isnan(t.features[3]));  // an empty field is a missing value
  EXPECT_EQ(t.features[4], 40);
  EXPECT_TRUE(std::isnan(t.features[5]));
  EXPECT_EQ(H5Reader(o.out).attribute_strings("/features", "columns"), (std::vector<std::string>{"x1", "x2"}));
}

TEST(ConvertCsv, NoHeaderTabsLabelFirstFloatLabelsSmallBlocks) {
  const std::string in = write_text("b.tsv", "0.5\t1\t2\n1.25\t3\t4\n\n2\t5\t6\n");
  auto o = csv(in, temp("b.h5"));
  o.delimiter = "tab";
  o.label_column = "0";
  o.block_rows = 1;  // every row its own block
  o.chunk_rows = 2;
  std::int64_t calls = 0, last_rows = 0;
  o.progress = [&](std::int64_t, std::int64_t, std::int64_t rows) { ++calls, last_rows = rows; };
  const ConvertSummary s = convert_csv(o);
  EXPECT_EQ(s.label_type, "float32");
  EXPECT_EQ(last_rows, 3);
  EXPECT_GE(calls, 3);
  const Table t = read_back(o.out);
  EXPECT_EQ(t.labels, (std::vector<double>{0.5, 1.25, 2}));
  EXPECT_EQ(t.features, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(H5Reader(o.out).shape("/features").chunk, (std::vector<std::int64_t>{2, 2}));
}

// A UTF-8 byte order mark before the first row (no header) is not part of the first number.
TEST(ConvertCsv, ByteOrderMarkBeforeDataIsSkipped) {
  const std::string in = write_text("bom.csv", "\xEF\xBB\xBF" "1,2,0\n3,4,1\n");
  auto o = csv(in, temp("bom.h5"));
  o.header = "no";
  convert_csv(o);
  EXPECT_EQ(read_back(o.out).features, (std::vector<double>{1, 2, 3, 4}));
}

TEST(ConvertCsv, CategoryLabelsAndLabelMapAndGzipOutput) {
  const std::string in = write_text("c.csv", "1,2,setosa\n3,4,virginica\n5,6,setosa\n");
  auto o = csv(in, temp("c.h5"));
  o.label_type = "category";
  o.gzip = 4;
  convert_csv(o);
  const Table t = read_back(o.out);
  EXPECT_EQ(t.labels, (std::vector<double>{0, 1, 0}));
  EXPECT_EQ(H5Reader(o.out).attribute_strings("/labels", "classes"), (std::vector<std::string>{"setosa", "virginica"}));
  EXPECT_EQ(H5Reader(o.out).shape("/features").filters, "shuffle,deflate(4)");

  const std::string pm = write_text("pm.csv", "-1,0.5\n1,0.25\n");
  auto m = csv(pm, temp("pm.h5"));
  m.label_column = "0";
  m.label_map = "-1:0";
  convert_csv(m);
  EXPECT_EQ(read_back(m.out).labels, (std::vector<double>{0, 1}));
}

TEST(ConvertCsv, MalformedLinesNameTheLineAndItsContent) {
  const std::string in = write_text("bad.csv", "a,b,y\n1,2,0\n3,4\n");
  const auto o = csv(in, temp("bad.h5"));
  EXPECT_EQ(error_of([&] { convert_csv(o); }),
            in + " line 3: expected 3 fields (as in the header), found 2: '3,4'");
  EXPECT_FALSE(fs::exists(o.out));  // nothing half-written is left behind

  const std::string word = write_text("word.csv", "1,2,0\n3,four,1\n");
  EXPECT_EQ(error_of([&] { convert_csv(csv(word, temp("word.h5"))); }),
            word + " line 2: column 1 value 'four' is not a number: '3,four,1'");
  const std::string label = write_text("label.csv", "1,2,0\n3,4,cat\n");
  EXPECT_EQ(error_of([&] { convert_csv(csv(label, temp("label.h5"))); }),
            label + " line 2: label 'cat' in column 2 is not a number (class names: --label-type "
                    "category): '3,4,cat'");
  const std::string quote = write_text("quote.csv", "1,2,0\n\"3,4,1\n");
  EXPECT_EQ(error_of([&] { convert_csv(csv(quote, temp("q.h5"))); }),
            quote + " line 2: unterminated quote: '\"3,4,1'");
  auto by_name = csv(word, temp("n.h5"));
  by_name.label_column = "y";
  by_name.header = "no";
  EXPECT_EQ(error_of([&] { convert_csv(by_name); }),
            "--label-column 'y' is a name but " + word + " has no header line (--header no); give a column index");
  auto missing = csv(in, temp("m.h5"));
  missing.label_column = "z";
  EXPECT_EQ(error_of([&] { convert_csv(missing); }),
            "--label-column 'z': no such column in the header of " + in + " (line 1)");
  EXPECT_EQ(error_of([&] { convert_csv(csv(temp("none.csv"), temp("x.h5"))); }),
            temp("none.csv") + ": no such file");
}

TEST(ConvertLibsvm, InfersFeaturesAndIndexBase) {
  const std::string one = write_text("one.svm", "+1 1:0.5 3:2 # comment\n-1 qid:4 2:1\n\n# only a comment\n+1 3:7\n");
  ConvertOptions o;
  o.from = "libsvm";
  o.input = one;
  o.out = temp("one.h5");
  o.label_map = "-1:0";
  ConvertSummary s = convert_libsvm(o);
  EXPECT_EQ(s.rows, 3);
  EXPECT_EQ(s.features, 3);
  EXPECT_EQ(s.details, "3 features (inferred), 1-based indices; dense (44.4% non-zero)");
  Table t = read_back(o.out);
  EXPECT_EQ(t.features, (std::vector<double>{0.5, 0, 2, 0, 1, 0, 0, 0, 7}));
  EXPECT_EQ(t.labels, (std::vector<double>{1, 0, 1}));
  EXPECT_EQ(t.label_type, "int64");

  const std::string zero = write_text("zero.svm", "2.5 0:1 4:1\n-0.5 1:3\n");
  o.input = zero;
  o.label_map = "";
  s = convert_libsvm(o);
  EXPECT_EQ(s.features, 5);
  EXPECT_EQ(s.label_type, "float32");
  t = read_back(o.out);
  EXPECT_EQ(t.features, (std::vector<double>{1, 0, 0, 0, 1, 0, 3, 0, 0, 0}));
  // Given --features and --index-base, one pass; the width can exceed the largest index.
  o.features = 8;
  o.index_base = "0";
  s = convert_libsvm(o);
  EXPECT_EQ(s.features, 8);
  EXPECT_EQ(read_back(o.out).dims, (std::vector<std::int64_t>{2, 8}));
}

TEST(ConvertLibsvm, MalformedLinesNameTheLineAndItsContent) {
  ConvertOptions o;
  o.from = "libsvm";
  o.out = temp("bad.h5");
  o.input = write_text("bad1.svm", "1 1:2\n0 3\n");
  EXPECT_EQ(error_of([&] { convert_libsvm(o); }), o.input + " line 2: '3' is not index:value: '0 3'");
  o.input = write_text("bad2.svm", "1 1:2\nx 2:1\n");
  EXPECT_EQ(error_of([&] { convert_libsvm(o); }),
            o.input + " line 2: the label 'x' is not a number: 'x 2:1'");
  o.input = write_text("bad3.svm", "1 1:2\n1 a:1\n");
  EXPECT_EQ(error_of([&] { convert_libsvm(o); }),
            o.input + " line 2: feature index 'a' is not a non-negative integer: '1 a:1'");
  o.input = write_text("bad4.svm", "1 1:2 1:3\n");
  EXPECT_EQ(error_of([&] { convert_libsvm(o); }),
            o.input + " line 1: feature index 1 appears twice: '1 1:2 1:3'");
  o.input = write_text("bad5.svm", "1 1:2\n0 9:1\n");
  o.features = 4;
  o.index_base = "1";
  EXPECT_EQ(error_of([&] { convert_libsvm(o); }),
            o.input + " line 2: feature index 9 is beyond the 4 features (given, 1-based; set --features): '0 9:1'");
  o.input = write_text("bad6.svm", "1 0:2\n");
  EXPECT_EQ(error_of([&] { convert_libsvm(o); }),
            o.input + " line 1: feature index 0 in a 1-based file (use --index-base 0): '1 0:2'");
}

namespace {
// A minimal np.save: version 1.0 header padded to 64 bytes.
void write_npy(const std::string& path, const std::string& descr, const std::string& shape,
               const void* data, std::size_t bytes, bool fortran = false) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  const unsigned short len = static_cast<unsigned short>(header.size());
  f.write(reinterpret_cast<const char*>(&len), 2);
  f << header;
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
}
}  // namespace

TEST(ConvertNpy, ReadsTypesOrdersAndShapes) {
  const double x[6] = {1, 2, 3, 4, 5, 6};  // [3, 2] row-major
  const std::int32_t y[3] = {2, 0, 1};
  ConvertOptions o;
  o.from = "npy";
  o.input = temp("x.npy");
  o.labels = temp("y.npy");
  o.out = temp("npy.h5");
  o.block_rows = 2;
  write_npy(o.input, "<f8", "(3, 2)", x, sizeof x);
  write_npy(o.labels, "<i4", "(3,)", y, sizeof y);
  ConvertSummary s = convert_npy(o);
  EXPECT_EQ(s.label_type, "int64");
  Table t = read_back(o.out);
  EXPECT_EQ(t.features, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(t.labels, (std::vector<double>{2, 0, 1}));
  // The same values stored column-major: features come out the same.
  const float xf[6] = {1, 3, 5, 2, 4, 6};
  const float yf[3] = {0.5f, 1.5f, 2.5f};
  write_npy(o.input, "<f4", "(3, 2)", xf, sizeof xf, true);
  write_npy(o.labels, "<f4", "(3,)", yf, sizeof yf);
  s = convert_npy(o);
  EXPECT_EQ(s.label_type, "float32");
  t = read_back(o.out);
  EXPECT_EQ(t.features, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(t.labels, (std::vector<double>{0.5, 1.5, 2.5}));
}

TEST(ConvertNpy, BadArraysAreRefusedWithReasons) {
  ConvertOptions o;
  o.from = "npy";
  o.input = temp("bx.npy");
  o.labels = temp("by.npy");
  o.out = temp("bad-npy.h5");
  const float x[4] = {1, 2, 3, 4};
  const std::int64_t y[3] = {0, 1, 0};
  write_npy(o.input, "<f4", "(2, 2)", x, sizeof x);
  write_npy(o.labels, "<i8", "(3,)", y, sizeof y);
  EXPECT_EQ(error_of([&] { convert_npy(o); }),
            o.labels + ": has 3 rows but " + o.input + " has 2; expected the same row count");
  write_npy(o.input, "<U3", "(2, 2)", x, sizeof x);
  EXPECT_EQ(error_of([&] { convert_npy(o); }),
            o.input + ": dtype '<U3' is not supported; expected float32/float64, integer or bool "
                      "(not strings, objects or structured arrays)");
  write_npy(o.input, "<f4", "(4, 2)", x, sizeof x);  // 32 bytes promised, 16 written
  EXPECT_EQ(error_of([&] { convert_npy(o); }).find(o.input + ": truncated: shape (4, 2) of <f4 needs"), 0u);
  write_text("bx.npy", "PK\x03\x04 zip");
  EXPECT_EQ(error_of([&] { convert_npy(o); }),
            o.input + ": a .npz archive; save each array with np.save(\"X.npy\", X) instead");
}
