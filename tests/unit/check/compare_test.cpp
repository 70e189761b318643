// Tolerances (bitwise, relative, absolute, NaN and infinities), tensor comparison with
// indices in the tensor's shape, and whole files: checkpoints and prediction files written
// to a temporary folder and compared as `dptrain compare` does.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <unistd.h>

#include "dptrain/checkpoint.hpp"
#include "dptrain/compare.hpp"
#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"
#include "../temp_dir.hpp"

namespace dptrain {
namespace {

struct TempDir : test_util::TempDir {
  TempDir() : test_util::TempDir("dptrain-compare-test") {}
};

Checkpoint sample(const std::string& model = "mlp:4") {
  Checkpoint c;
  c.spec = make_model_spec(model, 3, 2, LossKind::SoftmaxCrossEntropy, Activation::Tanh);
  c.params = initial_parameters(c.spec, 9);
  for (std::size_t i = 0; i < c.params.size(); ++i) c.params[i] += 0.01f * static_cast<float>(i);
  c.optimizer = "adam";
  c.optimizer_state = {{"m", std::vector<float>(c.params.size(), 0.25f)}};
  c.epoch = 3;
  c.global_step = 12;
  return c;
}

TEST(Tolerance, BitwiseRelativeAbsoluteAndSpecialValues) {
  const Tolerance bitwise{0, 0};
  EXPECT_TRUE(bitwise.bitwise());
  EXPECT_TRUE(bitwise.agree(1.5, 1.5));
  EXPECT_FALSE(bitwise.agree(0.0, -0.0));
  EXPECT_FALSE(bitwise.agree(1.0, std::nextafter(1.0, 2.0)));
  const Tolerance rel{1e-3, 0};
  EXPECT_TRUE(rel.agree(1000.0, 1000.9));
  EXPECT_FALSE(rel.agree(1000.0, 1001.1));
  EXPECT_TRUE(rel.agree(1000.9, 1000.0));  // symmetric
  EXPECT_FALSE(rel.agree(0.0, 1e-30));     // no atol: zero must stay zero
  EXPECT_TRUE(rel.agree(0.0, -0.0));
  const Tolerance abs{0, 1e-6};
  EXPECT_TRUE(abs.agree(0.0, 9e-7));
  EXPECT_FALSE(abs.agree(0.0, 2e-6));
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = INFINITY;
  EXPECT_TRUE(rel.agree(nan, nan));
  EXPECT_FALSE(rel.agree(nan, 1.0));
  EXPECT_TRUE(rel.agree(inf, inf));
  EXPECT_FALSE(rel.agree(inf, -inf));
  EXPECT_FALSE((Tolerance{1, 0}.agree(inf, 1e300)));
  EXPECT_EQ(value_difference(nan, 1.0), INFINITY);
  EXPECT_EQ(value_difference(2.0, 0.5), 1.5);
  EXPECT_EQ(bitwise.describe(), "bitwise");
  EXPECT_EQ(rel.describe(), "rtol 0.001, atol 0");
}

TEST(CompareTensors, ReportsLargestAndWorstInTheTensorsShape) {
  // A [2 x 3] weight stored column-major, as the flat buffer holds it.
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<float> b = a;
  b[3] = 4.5f;  // column 1, row 1
  b[4] = 5.001f;  // column 2, row 0: within rtol 1e-3
  const TensorView ta{"0.weight", {2, 3}, StorageOrder::ColumnMajor, a};
  const TensorView tb{"0.weight", {2, 3}, StorageOrder::ColumnMajor, b};
  std::vector<ValueDifference> top;
  const TensorComparison c = compare_tensors(ta, tb, Tolerance{1e-3, 0}, top, 5);
  EXPECT_EQ(c.values, 6u);
  EXPECT_EQ(c.differing, 2u);
  EXPECT_EQ(c.beyond, 1u);
  ASSERT_TRUE(c.largest);
  EXPECT_EQ(c.largest->index, (std::vector<std::int64_t>{1, 1}));
  EXPECT_DOUBLE_EQ(c.largest->difference, 0.5);
  ASSERT_TRUE(c.worst);
  EXPECT_EQ(c.worst->index, (std::vector<std::int64_t>{1, 1}));
  ASSERT_EQ(top.size(), 2u);
  EXPECT_TRUE(top[0].beyond);
  EXPECT_EQ(top[1].index, (std::vector<std::int64_t>{0, 2}));
  EXPECT_FALSE(top[1].beyond);
}

TEST(CompareTensors, TopKeepsOnlyTheLargest) {
  std::vector<float> a(100, 0.0f), b(100, 0.0f);
  for (int i = 0; i < 100; ++i) b[static_cast<std::size_t>(i)] = static_cast<float>(i % 10);
  std::vector<ValueDifference> top;
  compare_tensors({"t", {100}, StorageOrder::RowMajor, a}, {"t", {100}, StorageOrder::RowMajor, b},
                  Tolerance{0, 0}, top, 3);
  ASSERT_EQ(top.size(), 3u);
  for (const auto& d : top) EXPECT_EQ(d.difference, 9.0);
  EXPECT_EQ(top[0].index, (std::vector<std::int64_t>{9}));  // the first of the largest first
}

TEST(CompareFiles, IdenticalCheckpointsPassBitwise) {
  TempDir dir;
  save_checkpoint(dir / "a.h5", sample());
  save_checkpoint(dir / "b.h5", sample());
  CompareOptions o;
  o.tolerance = {0, 0};
  const FileComparison r = compare_files(dir / "a.h5", dir / "b.h5", o);
  EXPECT_TRUE(r.within_tolerance());
  EXPECT_EQ(r.kind, "checkpoint");
  EXPECT_EQ(r.differing, 0u);
  const std::size_t params = sample().spec.num_params();
  EXPECT_EQ(r.values, 2 * params);  // the parameters and the Adam moment
  ASSERT_EQ(r.tensors.size(), 8u);
  EXPECT_EQ(r.tensors[0].name, "0.weight");
  EXPECT_EQ(r.tensors[4].name, "optimizer/m/0.weight");
  EXPECT_NE(format_comparison(r, "a.h5", "b.h5", o.tolerance).find("PASS: all"), std::string::npos);
}

TEST(CompareFiles, OneChangedWeightIsNamedWithItsOutInIndex) {
  TempDir dir;
  Checkpoint a = sample(), b = sample();
  // Layer 2 ("2.weight", [2, 4]): value (out 1, in 3) sits at column 3, row 1 of the
  // column-major block: weight_offset(1) + 3 * 2 + 1.
  b.params[b.spec.weight_offset(1) + 3 * 2 + 1] += 0.5f;
  save_checkpoint(dir / "a.h5", a);
  save_checkpoint(dir / "b.h5", b);
  CompareOptions o;
  o.tolerance = {1e-6, 0};
  const FileComparison r = compare_files(dir / "a.h5", dir / "b.h5", o);
  EXPECT_FALSE(r.within_tolerance());
  EXPECT_EQ(r.beyond, 1u);
  ASSERT_FALSE(r.largest.empty());
  EXPECT_EQ(r.largest[0].tensor, "2.weight");
  EXPECT_EQ(r.largest[0].index, (std::vector<std::int64_t>{1, 3}));
  const std::string report = format_comparison(r, "a.h5", "b.h5", o.tolerance);
  EXPECT_NE(report.find("FAIL: 1 of"), std::string::npos) << report;
  EXPECT_NE(report.find("2.weight[1, 3]"), std::string::npos) << report;
  // A loose tolerance accepts it.
  o.tolerance = {0, 1.0};
  EXPECT_TRUE(compare_files(dir / "a.h5", dir / "b.h5", o).within_tolerance());
}

TEST(CompareFiles, DifferentModelsAndTrainingStatesAreReported) {
  TempDir dir;
  save_checkpoint(dir / "a.h5", sample("mlp:4"));
  save_checkpoint(dir / "b.h5", sample("mlp:5"));
  const FileComparison r = compare_files(dir / "a.h5", dir / "b.h5", {});
  EXPECT_FALSE(r.within_tolerance());
  ASSERT_FALSE(r.differences.empty());
  EXPECT_NE(r.differences[0].find("model descriptions differ"), std::string::npos) << r.differences[0];
  EXPECT_TRUE(r.tensors.empty());

  Checkpoint later = sample();
  later.epoch = 4;
  save_checkpoint(dir / "c.h5", later);
  const FileComparison s = compare_files(dir / "a.h5", dir / "c.h5", {});
  ASSERT_EQ(s.differences.size(), 1u);
  EXPECT_NE(s.differences[0].find("training states differ"), std::string::npos);
  CompareOptions params_only;
  params_only.params_only = true;
  EXPECT_TRUE(compare_files(dir / "a.h5", dir / "c.h5", params_only).within_tolerance());
}

void write_predictions(const std::string& path, const std::vector<std::int64_t>& classes,
                       const std::vector<float>& probabilities) {
  write_file_atomically(path, [&](H5Writer& w) {
    const auto n = static_cast<std::int64_t>(classes.size());
    w.write("/predictions", {n}, classes.data());
    w.write("/probabilities", {n, static_cast<std::int64_t>(probabilities.size()) / n}, probabilities.data());
    w.set_attribute("/", "model_description", std::string("softmax 2-2"));
  });
}

TEST(CompareFiles, PredictionFilesRowMajorIndices) {
  TempDir dir;
  write_predictions(dir / "a.h5", {0, 1, 1}, {0.9f, 0.1f, 0.2f, 0.8f, 0.4f, 0.6f});
  write_predictions(dir / "b.h5", {0, 1, 0}, {0.9f, 0.1f, 0.2f, 0.8f, 0.8f, 0.3f});
  const FileComparison r = compare_files(dir / "a.h5", dir / "b.h5", {});
  EXPECT_EQ(r.kind, "predictions file");
  ASSERT_EQ(r.tensors.size(), 2u);
  ASSERT_TRUE(r.tensors[0].largest);
  EXPECT_EQ(r.tensors[0].largest->index, (std::vector<std::int64_t>{2}));
  ASSERT_TRUE(r.tensors[1].largest);
  EXPECT_EQ(r.tensors[1].largest->index, (std::vector<std::int64_t>{2, 0}));
  EXPECT_EQ(r.beyond, 3u);
  write_predictions(dir / "c.h5", {0, 1}, {0.9f, 0.1f, 0.2f, 0.8f});
  const FileComparison s = compare_files(dir / "a.h5", dir / "c.h5", {});
  ASSERT_EQ(s.differences.size(), 2u);
  EXPECT_NE(s.differences[0].find("has shape [3] in"), std::string::npos) << s.differences[0];
}

TEST(CompareFiles, KindMismatchAndUnknownFilesThrow) {
  TempDir dir;
  save_checkpoint(dir / "a.h5", sample());
  write_predictions(dir / "p.h5", {0}, {1.0f, 0.0f});
  EXPECT_THROW(compare_files(dir / "a.h5", dir / "p.h5", {}), DataError);
  write_file_atomically(dir / "other.h5", [](H5Writer& w) {
    const float x = 1;
    w.write("/features", {1}, &x);
  });
  try {
    compare_files(dir / "other.h5", dir / "a.h5", {});
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("neither a dptrain checkpoint"), std::string::npos) << e.what();
  }
  EXPECT_THROW(compare_files(dir / "missing.h5", dir / "a.h5", {}), Error);
}

}  // namespace
}  // namespace dptrain
