// PyTorch state_dict names over the flat buffer: names, shapes and offsets for each model
// kind, [out, in] indices that agree with the Eigen::Map views the network computes with,
// and row-major export that reproduces the forward pass as PyTorch's y = x W^T + b.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <numeric>

#include "dptrain/named_parameters.hpp"

namespace dptrain {
namespace {

ModelSpec mlp(std::vector<std::int64_t> hidden_and_io) {
  ModelSpec s = make_model_spec("mlp:5,4", 3, 2, LossKind::SoftmaxCrossEntropy, Activation::Tanh);
  s.widths = std::move(hidden_and_io);
  return s;
}

TEST(NamedParameters, SequentialNamesShapesAndOffsets) {
  const ModelSpec spec = mlp({3, 5, 4, 2});
  const auto p = named_parameters(spec);
  ASSERT_EQ(p.size(), 6u);
  const std::vector<std::string> names = {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"};
  const std::vector<std::vector<std::int64_t>> shapes = {{5, 3}, {5}, {4, 5}, {4}, {2, 4}, {2}};
  std::size_t offset = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    EXPECT_EQ(p[i].name, names[i]);
    EXPECT_EQ(p[i].shape, shapes[i]);
    EXPECT_EQ(p[i].layer, i / 2);
    EXPECT_EQ(p[i].offset, offset) << p[i].name;
    offset += p[i].size();
  }
  EXPECT_EQ(offset, spec.num_params());
}

TEST(NamedParameters, SingleLayerModelsAreLayerZero) {
  const ModelSpec s = make_model_spec("softmax", 7, 3, LossKind::SoftmaxCrossEntropy, Activation::ReLU);
  const auto p = named_parameters(s);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "0.weight");
  EXPECT_EQ(p[0].shape, (std::vector<std::int64_t>{3, 7}));
  EXPECT_EQ(p[1].name, "0.bias");
  EXPECT_EQ(p[1].offset, 21u);
}

TEST(NamedParameters, IndexAgreesWithTheNetworksEigenMap) {
  const ModelSpec spec = mlp({3, 5, 2});
  std::vector<float> params(spec.num_params());
  std::iota(params.begin(), params.end(), 0.0f);
  for (const auto& p : named_parameters(spec)) {
    if (p.shape.size() != 2) continue;
    // The view network.cpp multiplies with: column-major [out x in] at the weight offset.
    Eigen::Map<const Eigen::MatrixXf> w(params.data() + p.offset, p.shape[0], p.shape[1]);
    for (std::size_t k = 0; k < p.size(); ++k) {
      const auto idx = p.index_of(k);
      EXPECT_EQ(w(idx[0], idx[1]), params[p.offset + k]) << p.name << " k=" << k;
    }
  }
  EXPECT_EQ(named_parameters(spec)[0].index_of(4), (std::vector<std::int64_t>{4, 0}));  // 5 rows: next column at 5
  EXPECT_EQ(named_parameters(spec)[0].index_of(5), (std::vector<std::int64_t>{0, 1}));
}

TEST(NamedParameters, RowMajorExportReproducesTheForwardPass) {
  // A linear model y = W x + b, exported as PyTorch would hold it, gives dptrain's outputs.
  const ModelSpec spec = make_model_spec("linear", 3, 2, LossKind::MeanSquaredError, Activation::ReLU);
  AlignedVector<float> params(spec.num_params());
  for (std::size_t i = 0; i < params.size(); ++i) params[i] = 0.25f * static_cast<float>(i) - 1.0f;
  const float x[3] = {0.5f, -2.0f, 3.0f};
  Workspace<float> ws(spec, 1);
  float y[2];
  forward(spec, params.data(), x, static_cast<const float*>(nullptr), 1, ws, y);
  const auto p = named_parameters(spec);
  const auto w = row_major_values(p[0], params.data());
  const auto b = row_major_values(p[1], params.data());
  for (int o = 0; o < 2; ++o) {
    float expected = b[static_cast<std::size_t>(o)];
    for (int i = 0; i < 3; ++i) expected += w[static_cast<std::size_t>(o * 3 + i)] * x[i];
    EXPECT_FLOAT_EQ(y[o], expected) << "output " << o;
  }
}

TEST(UnravelIndex, BothOrdersAndOutOfRange) {
  EXPECT_EQ(unravel_index(5, {2, 3}, StorageOrder::RowMajor), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(unravel_index(5, {2, 3}, StorageOrder::ColumnMajor), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(unravel_index(1, {2, 3}, StorageOrder::RowMajor), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(unravel_index(1, {2, 3}, StorageOrder::ColumnMajor), (std::vector<std::int64_t>{1, 0}));
  EXPECT_THROW(unravel_index(6, {2, 3}, StorageOrder::RowMajor), std::out_of_range);
  EXPECT_EQ(format_index({4, 12}), "[4, 12]");
}

}  // namespace
}  // namespace dptrain
