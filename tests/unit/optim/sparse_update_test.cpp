// Compact (CSR input) updates: AdaGrad by hand, and every optimizer's step_sparse equal to
// its dense step on the scattered gradient (lazy updates are exact where they claim to be).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "dptrain/error.hpp"
#include "dptrain/optimizer.hpp"

namespace dptrain {
namespace {

TEST(Adagrad, MatchesTheFormula) {
  OptimizerOptions o;
  o.name = "adagrad";
  o.eps = 1e-10;
  auto opt = make_optimizer(o, 2);
  std::vector<float> p = {1.0f, -2.0f}, g = {2.0f, -1.0f};
  opt->step(p, g, 0.1, 1.0f);  // acc = g^2: p -= 0.1 g / |g|
  EXPECT_NEAR(p[0], 0.9, 1e-6);
  EXPECT_NEAR(p[1], -1.9, 1e-6);
  g = {1.0f, 0.0f};
  opt->step(p, g, 0.1, 1.0f);  // acc0 = 4 + 1: p0 -= 0.1 / sqrt(5); p1 unchanged
  EXPECT_NEAR(p[0], 0.9 - 0.1 / std::sqrt(5.0), 1e-6);
  EXPECT_NEAR(p[1], -1.9, 1e-6);
  ASSERT_EQ(opt->state().size(), 1u);
  EXPECT_EQ(opt->state()[0].first, "accumulator");
}

// --l1: the step, then a soft-threshold of lr l1 / (sqrt(acc) + eps): a weight that would
// cross zero stops at zero; the compact step does the same to the columns it is given.
TEST(Adagrad, L1SoftThresholdsAfterTheStep) {
  OptimizerOptions o;
  o.name = "adagrad";
  o.eps = 1e-10;
  o.l1 = 0.5;
  auto opt = make_optimizer(o, 3);
  std::vector<float> p = {1.0f, 0.04f, -2.0f}, g = {2.0f, -1.0f, 0.0f};
  opt->step(p, g, 0.1, 1.0f);  // |g| = sqrt(acc): step 0.1 sign(g), then 0.1 * 0.5 / |g| towards 0
  EXPECT_NEAR(p[0], 1.0 - 0.1 - 0.05 / 2, 1e-6);
  EXPECT_NEAR(p[1], 0.04 + 0.1 - 0.05, 1e-6);
  EXPECT_EQ(p[2], 0.0f);  // acc 0: the threshold (0.05 / 1e-10) takes it to zero, not past it
  auto sparse = make_optimizer(o, 6);
  std::vector<float> ps = {1.0f, -0.01f, 0.3f, 0.3f, 5.0f, 5.0f}, compact = {0.0f, 1.0f};
  sparse->step_sparse(ps, std::vector<std::int32_t>{0}, 2, compact, 0.1, 1.0f);  // column 0, no tail
  EXPECT_EQ(ps[0], 0.0f);                                      // acc 0 at eps: shrunk to zero
  EXPECT_NEAR(ps[1], -0.01 - 0.1 + 0.05, 1e-6);                // -0.11, then 0.05 towards zero
  EXPECT_EQ(ps[2], 0.3f);                                       // untouched columns stay (lazy)
  o.name = "sgd";
  EXPECT_THROW(validate(o), ConfigError);
}

// A model with 6 first-layer columns of width 2 and a tail of 3: 15 parameters.
class SparseStep : public ::testing::TestWithParam<std::pair<std::string, double>> {};

TEST_P(SparseStep, EqualsTheDenseStepOnTheScatteredGradient) {
  OptimizerOptions o;
  o.name = GetParam().first;
  o.weight_decay = GetParam().second;
  auto dense = make_optimizer(o, 15), sparse = make_optimizer(o, 15);
  std::vector<float> pd(15), ps;
  for (int i = 0; i < 15; ++i) pd[i] = 0.1f * static_cast<float>(i - 7);
  ps = pd;
  const std::vector<std::vector<std::int32_t>> steps = {{1, 4}, {0, 1, 5}, {4}};
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const auto& columns = steps[s];
    std::vector<float> compact, full(15, 0.0f);
    for (const std::int32_t c : columns)
      for (int o2 = 0; o2 < 2; ++o2) {
        compact.push_back(0.5f * static_cast<float>(c + 1) - static_cast<float>(o2 + s));
        full[static_cast<std::size_t>(c * 2 + o2)] = compact.back();
      }
    for (int t = 0; t < 3; ++t) {
      compact.push_back(0.25f * static_cast<float>(t + 1));
      full[static_cast<std::size_t>(12 + t)] = compact.back();
    }
    dense->step(pd, full, 0.1, 0.5f);
    sparse->step_sparse(ps, columns, 2, compact, 0.1, 0.5f);
  }
  for (int i = 0; i < 15; ++i) EXPECT_FLOAT_EQ(ps[i], pd[i]) << o.name << " parameter " << i;
  EXPECT_EQ(sparse->steps, dense->steps);
}

// Lazy: sgd and adagrad without weight decay; scattered: the rest.
INSTANTIATE_TEST_SUITE_P(Optimizers, SparseStep,
                         ::testing::Values(std::make_pair(std::string("sgd"), 0.0), std::make_pair(std::string("sgd"), 0.01),
                                           std::make_pair(std::string("adagrad"), 0.0),
                                           std::make_pair(std::string("momentum"), 0.0),
                                           std::make_pair(std::string("adam"), 0.0),
                                           std::make_pair(std::string("adamw"), 0.01)));

}  // namespace
}  // namespace dptrain
