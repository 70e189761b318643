// The dense stack's forward and backward passes, checked in float64 against central finite
// differences (gradients) and against a naive loop implementation (outputs and losses), for
// every loss, every activation and 0, 1 or 2 hidden layers. A float product above Eigen's
// blocking size is checked against double, as PLATFORM.md advises for AVX-512 builds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <tuple>
#include <vector>

#include "dptrain/model.hpp"
#include "dptrain/shard.hpp"

namespace dptrain {
namespace {

// Gradient buffers start as NaN: forward_backward must assign every entry.
const double kUnset = std::nan("");

ModelSpec make_spec(std::vector<std::int64_t> widths, Activation a, LossKind l) {
  ModelSpec spec;
  spec.name = "test";
  spec.widths = std::move(widths);
  spec.activation = a;
  spec.loss = l;
  return spec;
}

struct Problem {
  std::vector<double> params, x, y;
  std::int64_t rows = 0;
};

// Random parameters of moderate size (so no unit saturates), random inputs, and labels of
// the kind the loss expects: real targets for MSE, 0/1 for BCE, class ids for softmax.
Problem make_problem(const ModelSpec& spec, std::int64_t rows, std::uint64_t seed) {
  Random rng(seed);
  Problem p;
  p.rows = rows;
  p.params.resize(spec.num_params());
  for (auto& v : p.params) v = 0.5 * rng.normal();
  p.x.resize(static_cast<std::size_t>(rows * spec.inputs()));
  for (auto& v : p.x) v = rng.normal();
  p.y.resize(static_cast<std::size_t>(rows * spec.label_cols()));
  for (auto& v : p.y) {
    switch (spec.loss) {
      case LossKind::MeanSquaredError: v = rng.normal(); break;
      case LossKind::BinaryCrossEntropy: v = static_cast<double>(rng.below(2)); break;
      case LossKind::SoftmaxCrossEntropy:
        v = static_cast<double>(rng.below(static_cast<std::uint64_t>(spec.outputs())));
        break;
    }
  }
  return p;
}

double act(Activation a, double z) {
  switch (a) {
    case Activation::ReLU: return z > 0 ? z : 0;
    case Activation::Tanh: return std::tanh(z);
    case Activation::Sigmoid: return 1 / (1 + std::exp(-z));
  }
  return 0;
}

// Naive reference: one row at a time, plain loops over the documented parameter layout
// (layer l's weights column-major [out x in] at weight_offset(l), bias at bias_offset(l)).
struct Reference {
  std::vector<double> outputs;  // rows x outputs(), as forward() documents them
  double loss = 0, correct = 0;
};

Reference reference(const ModelSpec& spec, const Problem& p) {
  Reference r;
  const std::int64_t k = spec.outputs();
  for (std::int64_t row = 0; row < p.rows; ++row) {
    std::vector<double> a(p.x.begin() + row * spec.inputs(), p.x.begin() + (row + 1) * spec.inputs());
    for (std::size_t l = 0; l < spec.layers(); ++l) {
      const std::int64_t in = spec.widths[l], out = spec.widths[l + 1];
      const double* w = p.params.data() + spec.weight_offset(l);
      const double* b = p.params.data() + spec.bias_offset(l);
      std::vector<double> z(static_cast<std::size_t>(out));
      for (std::int64_t i = 0; i < out; ++i) {
        z[i] = b[i];
        for (std::int64_t j = 0; j < in; ++j) z[i] += w[i + j * out] * a[j];
        if (l + 1 < spec.layers()) z[i] = act(spec.activation, z[i]);
      }
      a = z;
    }
    const double* y = p.y.data() + row * spec.label_cols();
    switch (spec.loss) {
      case LossKind::MeanSquaredError: {
        double sq = 0;
        for (std::int64_t i = 0; i < k; ++i) sq += (a[i] - y[i]) * (a[i] - y[i]);
        r.loss += sq / static_cast<double>(k);
        r.outputs.insert(r.outputs.end(), a.begin(), a.end());
        break;
      }
      case LossKind::BinaryCrossEntropy: {
        const double prob = 1 / (1 + std::exp(-a[0]));
        r.loss += -(y[0] * std::log(prob) + (1 - y[0]) * std::log(1 - prob));
        r.correct += ((prob > 0.5) == (y[0] > 0.5)) ? 1 : 0;
        r.outputs.push_back(prob);
        break;
      }
      case LossKind::SoftmaxCrossEntropy: {
        double sum = 0;
        for (double v : a) sum += std::exp(v);
        const auto label = static_cast<std::size_t>(y[0]);
        r.loss += -std::log(std::exp(a[label]) / sum);
        const auto best = static_cast<std::size_t>(std::max_element(a.begin(), a.end()) - a.begin());
        r.correct += best == label ? 1 : 0;
        for (double v : a) r.outputs.push_back(std::exp(v) / sum);
        break;
      }
    }
  }
  return r;
}

double loss_at(const ModelSpec& spec, const Problem& p, const std::vector<double>& params,
               Workspace<double>& ws) {
  return forward(spec, params.data(), p.x.data(), p.y.data(), p.rows, ws).loss;
}

using Case = std::tuple<LossKind, Activation, int /*hidden layers*/>;

class ModelGradient : public ::testing::TestWithParam<Case> {
 protected:
  ModelSpec spec() const {
    const auto [loss, activation, hidden] = GetParam();
    std::vector<std::int64_t> widths = {4};
    if (hidden >= 1) widths.push_back(6);
    if (hidden >= 2) widths.push_back(5);
    // 3 outputs: softmax classes or multi-output regression; BCE has one logit.
    widths.push_back(loss == LossKind::BinaryCrossEntropy ? 1 : 3);
    return make_spec(widths, activation, loss);
  }
};

TEST_P(ModelGradient, MatchesCentralFiniteDifferences) {
  const ModelSpec s = spec();
  const Problem p = make_problem(s, 7, 11);
  Workspace<double> ws(s, p.rows);
  std::vector<double> grad(s.num_params(), kUnset);
  const BatchStats stats =
      forward_backward(s, p.params.data(), p.x.data(), p.y.data(), p.rows, grad.data(), ws);
  EXPECT_NEAR(stats.loss, loss_at(s, p, p.params, ws), 1e-12 * std::abs(stats.loss));

  const double h = 1e-6;
  std::vector<double> q = p.params;
  double worst = 0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    q[i] = p.params[i] + h;
    const double up = loss_at(s, p, q, ws);
    q[i] = p.params[i] - h;
    const double down = loss_at(s, p, q, ws);
    q[i] = p.params[i];
    const double numeric = (up - down) / (2 * h);
    const double err = std::abs(numeric - grad[i]) / std::max(1.0, std::abs(numeric));
    worst = std::max(worst, err);
    EXPECT_LT(err, 1e-6) << "parameter " << i << ": analytic " << grad[i] << ", numeric " << numeric;
  }
  // The check is not vacuous: the gradient has real magnitude.
  double norm = 0;
  for (double g : grad) norm += g * g;
  EXPECT_GT(std::sqrt(norm), 1e-2);
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", worst);
  RecordProperty("worst_relative_error", text);
}

TEST_P(ModelGradient, ForwardMatchesNaiveReference) {
  const ModelSpec s = spec();
  const Problem p = make_problem(s, 9, 23);
  const Reference ref = reference(s, p);
  Workspace<double> ws(s, p.rows);
  std::vector<double> out(static_cast<std::size_t>(p.rows * s.outputs()));
  const BatchStats stats = forward(s, p.params.data(), p.x.data(), p.y.data(), p.rows, ws, out.data());
  EXPECT_NEAR(stats.loss, ref.loss, 1e-12 * std::max(1.0, ref.loss));
  EXPECT_EQ(stats.correct, ref.correct);
  ASSERT_EQ(out.size(), ref.outputs.size());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], ref.outputs[i], 1e-12) << i;

  if (s.loss == LossKind::SoftmaxCrossEntropy) {
    for (std::int64_t r = 0; r < p.rows; ++r) {
      const double sum = std::accumulate(out.begin() + r * s.outputs(), out.begin() + (r + 1) * s.outputs(), 0.0);
      EXPECT_NEAR(sum, 1.0, 1e-12) << "row " << r;
    }
  }
  if (s.loss == LossKind::BinaryCrossEntropy)
    for (double v : out) EXPECT_TRUE(v > 0 && v < 1);

  // Without labels, the outputs are the same and no loss is computed.
  std::vector<double> again(out.size());
  const BatchStats none = forward(s, p.params.data(), p.x.data(), static_cast<const double*>(nullptr),
                                  p.rows, ws, again.data());
  EXPECT_EQ(none.loss, 0.0);
  EXPECT_EQ(again, out);
}

// A workspace sized for more rows serves fewer rows, and reuse leaves no trace.
TEST_P(ModelGradient, WorkspaceReuseIsStateless) {
  const ModelSpec s = spec();
  const Problem p = make_problem(s, 5, 31);
  Workspace<double> big(s, 64), fresh(s, p.rows);
  std::vector<double> g1(s.num_params()), g2(s.num_params()), g3(s.num_params());
  const Problem other = make_problem(s, 64, 32);
  forward_backward(s, other.params.data(), other.x.data(), other.y.data(), other.rows, g3.data(), big);
  const auto a = forward_backward(s, p.params.data(), p.x.data(), p.y.data(), p.rows, g1.data(), big);
  const auto b = forward_backward(s, p.params.data(), p.x.data(), p.y.data(), p.rows, g2.data(), fresh);
  // Equal up to rounding: Eigen's vectorised loops may peel differently for other addresses.
  EXPECT_NEAR(a.loss, b.loss, 1e-12 * std::abs(b.loss));
  for (std::size_t i = 0; i < g1.size(); ++i) EXPECT_NEAR(g1[i], g2[i], 1e-12 * std::max(1.0, std::abs(g2[i]))) << i;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const auto [loss, activation, hidden] = info.param;
  return to_string(loss) + "_" + to_string(activation) + "_" + std::to_string(hidden) + "hidden";
}

INSTANTIATE_TEST_SUITE_P(
    AllLossesActivationsDepths, ModelGradient,
    ::testing::Combine(::testing::Values(LossKind::MeanSquaredError, LossKind::BinaryCrossEntropy,
                                         LossKind::SoftmaxCrossEntropy),
                       ::testing::Values(Activation::ReLU, Activation::Tanh, Activation::Sigmoid),
                       ::testing::Values(0, 1, 2)),
    case_name);

// Single-output regression (labels [N]) is the K = 1 case of the MSE layout.
TEST(ModelGradientSingle, MseOneOutputMatchesFiniteDifferences) {
  const ModelSpec s = make_spec({3, 4, 1}, Activation::Tanh, LossKind::MeanSquaredError);
  const Problem p = make_problem(s, 6, 5);
  Workspace<double> ws(s, p.rows);
  std::vector<double> grad(s.num_params(), kUnset);
  forward_backward(s, p.params.data(), p.x.data(), p.y.data(), p.rows, grad.data(), ws);
  std::vector<double> q = p.params;
  for (std::size_t i = 0; i < q.size(); ++i) {
    const double h = 1e-6;
    q[i] += h;
    const double up = loss_at(s, p, q, ws);
    q[i] -= 2 * h;
    const double down = loss_at(s, p, q, ws);
    q[i] = p.params[i];
    EXPECT_NEAR(grad[i], (up - down) / (2 * h), 1e-6 * std::max(1.0, std::abs(grad[i])));
  }
  EXPECT_NEAR(forward(s, p.params.data(), p.x.data(), p.y.data(), p.rows, ws).loss,
              reference(s, p).loss, 1e-12);
}

TEST(ModelGradientSingle, ZeroRowsGiveZeroGradient) {
  const ModelSpec s = make_spec({3, 4, 2}, Activation::ReLU, LossKind::SoftmaxCrossEntropy);
  Workspace<double> ws(s, 4);
  std::vector<double> params(s.num_params(), 1.0), grad(s.num_params(), 7.0);
  const auto stats = forward_backward(s, params.data(), static_cast<const double*>(nullptr),
                                      static_cast<const double*>(nullptr), 0, grad.data(), ws);
  EXPECT_EQ(stats.loss, 0.0);
  for (double g : grad) EXPECT_EQ(g, 0.0);
}

// Extreme logits: the loss stays finite and exact (log-sum-exp), not capped.
TEST(ModelGradientSingle, SoftmaxLossIsExactForExtremeLogits) {
  const ModelSpec s = make_spec({1, 2}, Activation::ReLU, LossKind::SoftmaxCrossEntropy);
  Workspace<float> ws(s, 1);
  // logits = w * x + b with x = 1: class 0 gets 0, class 1 gets 200; the label is class 0.
  const std::vector<float> params = {0.0f, 200.0f, 0.0f, 0.0f};
  const float x = 1.0f, y = 0.0f;
  std::vector<float> grad(s.num_params());
  const auto stats = forward_backward(s, params.data(), &x, &y, 1, grad.data(), ws);
  EXPECT_NEAR(stats.loss, 200.0, 1e-3);
  EXPECT_NEAR(grad[0], -1.0, 1e-6);  // dL/dz0 = p0 - 1, times x = 1
  EXPECT_NEAR(grad[1], 1.0, 1e-6);
}

// 784-256-128-10 at batch 256: every product is above Eigen's blocking size. Float results
// must match the same computation in double (AVX-512 builds once crashed or went wrong here).
TEST(ModelLargeProduct, FloatMatchesDoubleAboveBlockingSize) {
  const ModelSpec s = make_spec({784, 256, 128, 10}, Activation::ReLU, LossKind::SoftmaxCrossEntropy);
  const std::int64_t rows = 256;
  Random rng(99);
  std::vector<float> pf(s.num_params()), xf(static_cast<std::size_t>(rows * 784)),
      yf(static_cast<std::size_t>(rows));
  for (std::size_t l = 0; l < s.layers(); ++l) {
    const double scale = std::sqrt(2.0 / static_cast<double>(s.widths[l]));
    for (std::size_t i = s.weight_offset(l); i < s.bias_offset(l); ++i)
      pf[i] = static_cast<float>(scale * rng.normal());
  }
  for (auto& v : xf) v = static_cast<float>(rng.uniform());
  for (auto& v : yf) v = static_cast<float>(rng.below(10));
  const std::vector<double> pd(pf.begin(), pf.end()), xd(xf.begin(), xf.end()), yd(yf.begin(), yf.end());

  Workspace<float> wsf(s, rows);
  Workspace<double> wsd(s, rows);
  std::vector<float> gf(s.num_params(), NAN);
  std::vector<double> gd(s.num_params(), kUnset);
  const auto sf = forward_backward(s, pf.data(), xf.data(), yf.data(), rows, gf.data(), wsf);
  const auto sd = forward_backward(s, pd.data(), xd.data(), yd.data(), rows, gd.data(), wsd);
  EXPECT_NEAR(sf.loss, sd.loss, 1e-4 * sd.loss);
  EXPECT_EQ(sf.correct, sd.correct);
  double max_g = 0, max_diff = 0;
  for (std::size_t i = 0; i < gd.size(); ++i) {
    max_g = std::max(max_g, std::abs(gd[i]));
    max_diff = std::max(max_diff, std::abs(gd[i] - static_cast<double>(gf[i])));
  }
  EXPECT_GT(max_g, 1e-3);
  EXPECT_LT(max_diff / max_g, 1e-4) << "max |g_float - g_double| = " << max_diff;

  std::vector<float> of(static_cast<std::size_t>(rows * 10));
  std::vector<double> od(of.size());
  forward(s, pf.data(), xf.data(), static_cast<const float*>(nullptr), rows, wsf, of.data());
  forward(s, pd.data(), xd.data(), static_cast<const double*>(nullptr), rows, wsd, od.data());
  for (std::size_t i = 0; i < of.size(); ++i) EXPECT_NEAR(of[i], od[i], 1e-4) << i;
}

}  // namespace
}  // namespace dptrain
