// The sparse first layer against the dense stack (itself checked by finite differences in
// model_gradient_test): the same rows given as CSR and densified give the same loss, outputs
// and gradient, for softmax, logistic, linear and an MLP; the first layer's gradient is
// written only for the columns present.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "dptrain/shard.hpp"
#include "dptrain/sparse_model.hpp"

namespace dptrain {
namespace {

ModelSpec make_spec(std::vector<std::int64_t> widths, LossKind loss) {
  ModelSpec spec;
  spec.name = "test";
  spec.widths = std::move(widths);
  spec.activation = Activation::Tanh;
  spec.loss = loss;
  return spec;
}

struct SparseProblem {
  CsrRows csr;
  std::vector<double> dense, y, params;
};

// Rows with 1-4 entries each (a repeated column in the first row), columns 0..cols-1.
SparseProblem make_problem(const ModelSpec& spec, std::int64_t rows, std::uint64_t seed) {
  Random rng(seed);
  SparseProblem p;
  const std::int64_t cols = spec.inputs();
  p.dense.assign(static_cast<std::size_t>(rows * cols), 0.0);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t n = 1 + static_cast<std::int64_t>(rng.below(4));
    for (std::int64_t e = 0; e < n; ++e) {
      const auto c = static_cast<std::int32_t>(r == 0 && e == 1 ? p.csr.indices.back() : rng.below(cols));
      const auto v = static_cast<float>(rng.uniform() * 2 - 1);
      p.csr.indices.push_back(c);
      p.csr.values.push_back(v);
      p.dense[static_cast<std::size_t>(r * cols + c)] += v;
    }
    p.csr.indptr.push_back(static_cast<std::int64_t>(p.csr.indices.size()));
    if (spec.loss == LossKind::SoftmaxCrossEntropy) p.y.push_back(static_cast<double>(rng.below(spec.outputs())));
    else if (spec.loss == LossKind::BinaryCrossEntropy) p.y.push_back(static_cast<double>(rng.below(2)));
    else
      for (std::int64_t k = 0; k < spec.outputs(); ++k) p.y.push_back(rng.normal());
  }
  for (std::size_t i = 0; i < spec.num_params(); ++i) p.params.push_back(0.3 * rng.normal());
  return p;
}

class SparseNetwork : public ::testing::TestWithParam<ModelSpec> {};

TEST_P(SparseNetwork, MatchesTheDenseStack) {
  const ModelSpec spec = GetParam();
  const std::int64_t rows = 7, out = spec.widths[1];
  const SparseProblem p = make_problem(spec, rows, 11);
  Workspace<double> ws(spec, rows);
  std::vector<double> dense_grad(spec.num_params());
  const BatchStats dense = forward_backward(spec, p.params.data(), p.dense.data(), p.y.data(), rows,
                                            dense_grad.data(), ws);
  // Compact gradient over the columns present, in sorted order.
  std::vector<std::int32_t> columns(p.csr.indices.begin(), p.csr.indices.end());
  std::sort(columns.begin(), columns.end());
  columns.erase(std::unique(columns.begin(), columns.end()), columns.end());
  std::vector<std::int32_t> slot(static_cast<std::size_t>(spec.inputs()), -1);
  for (std::size_t i = 0; i < columns.size(); ++i) slot[static_cast<std::size_t>(columns[i])] = static_cast<std::int32_t>(i);
  std::vector<std::int32_t> entry_slot;  // each stored entry's column slot
  for (const std::int32_t c : p.csr.indices) entry_slot.push_back(slot[static_cast<std::size_t>(c)]);
  std::vector<double> grad0(columns.size() * static_cast<std::size_t>(out), 0.0), tail(sparse_tail_size(spec), NAN);
  const BatchStats sparse = sparse_forward_backward(spec, p.params.data(), p.csr.view(), p.y.data(), entry_slot.data(),
                                                    grad0.data(), tail.data(), ws);
  EXPECT_NEAR(sparse.loss, dense.loss, 1e-10);
  EXPECT_EQ(sparse.correct, dense.correct);
  for (std::size_t i = 0; i < columns.size(); ++i)
    for (std::int64_t o = 0; o < out; ++o)
      EXPECT_NEAR(grad0[i * out + o], dense_grad[static_cast<std::size_t>(columns[i] * out + o)], 1e-10);
  for (std::size_t i = 0; i < tail.size(); ++i) EXPECT_NEAR(tail[i], dense_grad[spec.bias_offset(0) + i], 1e-10);
  // Columns absent from the batch have a zero dense gradient: nothing is lost by leaving them out.
  for (std::int64_t c = 0; c < spec.inputs(); ++c)
    if (slot[static_cast<std::size_t>(c)] < 0)
      for (std::int64_t o = 0; o < out; ++o) EXPECT_EQ(dense_grad[static_cast<std::size_t>(c * out + o)], 0.0);
  // Forward only: the same outputs.
  std::vector<double> dense_out(static_cast<std::size_t>(rows * spec.outputs())), sparse_out(dense_out.size());
  forward(spec, p.params.data(), p.dense.data(), p.y.data(), rows, ws, dense_out.data());
  sparse_forward(spec, p.params.data(), p.csr.view(), p.y.data(), ws, sparse_out.data());
  for (std::size_t i = 0; i < dense_out.size(); ++i) EXPECT_NEAR(sparse_out[i], dense_out[i], 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Models, SparseNetwork,
                         ::testing::Values(make_spec({40, 3}, LossKind::SoftmaxCrossEntropy),
                                           make_spec({40, 1}, LossKind::BinaryCrossEntropy),
                                           make_spec({40, 2}, LossKind::MeanSquaredError),
                                           make_spec({40, 6, 5, 3}, LossKind::SoftmaxCrossEntropy)));

TEST(SparseNetwork, EmptyBatchZeroesTheTail) {
  const ModelSpec spec = make_spec({10, 4, 2}, LossKind::SoftmaxCrossEntropy);
  Workspace<float> ws(spec, 4);
  std::vector<float> params(spec.num_params(), 0.1f), tail(sparse_tail_size(spec), NAN);
  CsrRows none;
  const BatchStats s = sparse_forward_backward<float>(spec, params.data(), none.view(), nullptr, nullptr, nullptr,
                                                      tail.data(), ws);
  EXPECT_EQ(s.loss, 0.0);
  for (const float v : tail) EXPECT_EQ(v, 0.0f);
}

}  // namespace
}  // namespace dptrain
