// Update rules, gradient clipping and learning-rate schedules against hand-computed values.
// The optimizer problem: two parameters starting at (1, -2) with the gradient of
// f(p) = 1.5 p0^2 - p0 + 0.5 p1^2 + 0.5 p1, i.e. g = (3 p0 - 1, p1 + 0.5), lr 0.1,
// momentum 0.9, betas (0.9, 0.999), eps 1e-8. Expected values follow PyTorch's documented
// formulas (torch.optim.SGD/Adam/AdamW), worked out in float64.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "dptrain/error.hpp"
#include "dptrain/optimizer.hpp"

namespace dptrain {
namespace {

struct Expected {
  std::string name;
  double weight_decay;
  std::vector<std::vector<double>> params_after_step;  // after steps 1, 2, 3
};

// Step 1 by hand, for reading: g = (2, -1.5).
//   sgd:      p = (1 - 0.1*2, -2 + 0.1*1.5) = (0.8, -1.85)
//   sgd, wd:  g += 0.1 p = (2.1, -1.7); p = (0.79, -1.83)
//   momentum: v = g; p -= 0.1 v -> (0.8, -1.85); step 2: g = (1.4, -1.35), v = 0.9 v + g =
//             (3.2, -2.7), p = (0.48, -1.58)
//   nesterov: v = g; p -= 0.1 (g + 0.9 v) = 0.1 * 1.9 g -> (0.62, -1.715)
//   adam:     m = 0.1 g, v = 0.001 g^2; m^ = g, v^ = g^2; p -= 0.1 g / (|g| + 1e-8) -> (0.9, -1.9)
//   adamw:    p *= 1 - 0.1*0.1 first: (0.99, -1.98), then the Adam step -> (0.89, -1.88)
const std::vector<Expected> kExpected = {
    {"sgd", 0.0, {{0.8, -1.85}, {0.66, -1.715}, {0.562, -1.5935}}},
    {"sgd", 0.1, {{0.79, -1.83}, {0.6451, -1.6787}, {0.545119, -1.544043}}},
    {"momentum", 0.0, {{0.8, -1.85}, {0.48, -1.58}, {0.148, -1.229}}},
    {"momentum", 0.1, {{0.79, -1.83}, {0.4561, -1.5257}, {0.114199, -1.134003}}},
    {"nesterov", 0.0, {{0.62, -1.715}, {0.2946, -1.36265}, {0.101218, -0.9909815}}},
    {"nesterov", 0.1, {{0.601, -1.677}, {0.266911, -1.283807}, {0.076699321, -0.877640637}}},
    {"adam", 0.0, {{0.9000000005, -1.90000000067}, {0.800748443383, -1.80023906297}, {0.702970494066, -1.70090287155}}},
    // Adam with L2 decay (added to the gradient): differs from decay-free Adam from step 2.
    {"adam", 1.0, {{0.900000000333, -1.90000000029}, {0.800625582275, -1.80019648981}, {0.702456657443, -1.70073840025}}},
    {"adamw", 0.0, {{0.9000000005, -1.90000000067}, {0.800748443383, -1.80023906297}, {0.702970494066, -1.70090287155}}},
    {"adamw", 0.1, {{0.8900000005, -1.88000000067}, {0.781968759505, -1.76150372771}, {0.676742230032, -1.64473485422}}},
};

class OptimizerUpdate : public ::testing::TestWithParam<Expected> {};

TEST_P(OptimizerUpdate, MatchesHandComputedSteps) {
  const Expected& e = GetParam();
  OptimizerOptions o;
  o.name = e.name;
  o.weight_decay = e.weight_decay;
  auto opt = make_optimizer(o, 2);
  std::vector<float> p = {1.0f, -2.0f}, g(2);
  for (std::size_t step = 0; step < e.params_after_step.size(); ++step) {
    g = {3 * p[0] - 1, p[1] + 0.5f};
    opt->step(p, g, 0.1);
    EXPECT_EQ(opt->steps, static_cast<std::int64_t>(step + 1));
    for (int i = 0; i < 2; ++i)
      EXPECT_NEAR(p[i], e.params_after_step[step][i], 2e-6)
          << e.name << " wd " << e.weight_decay << " step " << step + 1 << " param " << i;
  }
}

// --shard-update: each rank's optimizer steps only its part of the parameters (its state from
// the part's offset); together the parts make the same update as one step over all of them.
TEST_P(OptimizerUpdate, StepsInPartsEqualOneStep) {
  const Expected& e = GetParam();
  OptimizerOptions o;
  o.name = e.name;
  o.weight_decay = e.weight_decay;
  constexpr std::size_t n = 37;
  const std::vector<std::pair<std::size_t, std::size_t>> parts = {{0, 16}, {16, 16}, {16, n}};  // one empty
  auto whole = make_optimizer(o, n);
  std::vector<std::unique_ptr<Optimizer>> ranks;
  for (std::size_t k = 0; k < parts.size(); ++k) ranks.push_back(make_optimizer(o, n));
  std::vector<float> p(n), q(n), g(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = q[i] = 0.1f * static_cast<float>(i) - 1.5f;
  for (int step = 0; step < 3; ++step) {
    for (std::size_t i = 0; i < n; ++i) g[i] = 3 * p[i] - 1;
    whole->step(p, g, 0.1, 0.5f);
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const auto [lo, hi] = parts[k];
      ranks[k]->step_part(std::span<float>(q).subspan(lo, hi - lo), std::span<float>(g).subspan(lo, hi - lo), lo,
                          0.1, 0.5f);
    }
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(p[i], q[i]) << e.name << " step " << step << " param " << i;
  }
  for (std::size_t s = 0; s < whole->state().size(); ++s)
    for (std::size_t k = 0; k < parts.size(); ++k)
      for (std::size_t i = parts[k].first; i < parts[k].second; ++i)
        ASSERT_EQ((*whole->state()[s].second)[i], (*ranks[k]->state()[s].second)[i]);
}

INSTANTIATE_TEST_SUITE_P(AllOptimizers, OptimizerUpdate, ::testing::ValuesIn(kExpected),
                         [](const ::testing::TestParamInfo<Expected>& info) {
                           return info.param.name + (info.param.weight_decay > 0 ? "_decay" : "");
                         });

TEST(Optimizer, StateIsNamedForCheckpoints) {
  OptimizerOptions o;
  o.name = "sgd";
  EXPECT_TRUE(make_optimizer(o, 3)->state().empty());
  o.name = "nesterov";
  auto m = make_optimizer(o, 3);
  ASSERT_EQ(m->state().size(), 1u);
  EXPECT_EQ(m->state()[0].first, "velocity");
  EXPECT_EQ(m->state()[0].second->size(), 3u);
  o.name = "adamw";
  auto a = make_optimizer(o, 3);
  ASSERT_EQ(a->state().size(), 2u);
  EXPECT_EQ(a->state()[0].first, "m");
  EXPECT_EQ(a->state()[1].first, "v");
}

// Restoring state and step count continues the same trajectory (what a resumed run relies on).
TEST(Optimizer, RestoredAdamStateContinuesTheSameTrajectory) {
  OptimizerOptions o;
  o.name = "adam";
  auto first = make_optimizer(o, 2);
  std::vector<float> p = {1.0f, -2.0f}, g(2);
  auto grad = [&] { g = {3 * p[0] - 1, p[1] + 0.5f}; };
  grad();
  first->step(p, g, 0.1);
  auto second = make_optimizer(o, 2);
  for (std::size_t i = 0; i < 2; ++i) *second->state()[i].second = *first->state()[i].second;
  second->steps = first->steps;
  grad();
  second->step(p, g, 0.1);
  EXPECT_NEAR(p[0], 0.800748443383, 2e-6);
  EXPECT_NEAR(p[1], -1.80023906297, 2e-6);
}

TEST(Optimizer, UnknownNameAndBadHyperparametersAreConfigErrors) {
  OptimizerOptions o;
  o.name = "rmsprop";
  EXPECT_THROW(make_optimizer(o, 1), ConfigError);
  EXPECT_THROW(validate(o), ConfigError);
  for (auto [field, value] : std::vector<std::pair<double OptimizerOptions::*, double>>{
           {&OptimizerOptions::momentum, 1.0},
           {&OptimizerOptions::momentum, -0.1},
           {&OptimizerOptions::beta1, 1.0},
           {&OptimizerOptions::beta2, 1.5},
           {&OptimizerOptions::eps, 0.0},
           {&OptimizerOptions::weight_decay, -1e-4}}) {
    OptimizerOptions bad;
    bad.*field = value;
    EXPECT_THROW(validate(bad), ConfigError) << value;
  }
  try {
    OptimizerOptions bad;
    bad.momentum = 1.5;
    validate(bad);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--momentum 1.5"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(validate(OptimizerOptions{}));
}

TEST(ClippedScale, ScalesDownOnlyAboveTheLimit) {
  const std::vector<float> g = {3.0f, 4.0f};  // norm 5
  EXPECT_DOUBLE_EQ(clipped_scale(g, 1.0, 10.0), 1.0);
  EXPECT_DOUBLE_EQ(clipped_scale(g, 1.0, 0.0), 1.0);  // 0: off
  EXPECT_DOUBLE_EQ(clipped_scale(g, 1.0, 1.0), 0.2);  // the gradient used is (0.6, 0.8)
  EXPECT_DOUBLE_EQ(clipped_scale(g, 0.5, 10.0), 0.5);  // norm 2.5 after the mean: unclipped
  EXPECT_DOUBLE_EQ(clipped_scale(g, 0.5, 2.0), 0.4);   // norm 2.5 -> 2
  // The optimizer applies the factor: SGD with lr 1 moves by exactly the clipped gradient.
  auto sgd = make_optimizer(OptimizerOptions{}, 2);
  std::vector<float> p = {0.0f, 0.0f};
  std::vector<float> grad = g;
  sgd->step(p, grad, 1.0, static_cast<float>(clipped_scale(g, 1.0, 1.0)));
  EXPECT_NEAR(p[0], -0.6f, 1e-7);
  EXPECT_NEAR(p[1], -0.8f, 1e-7);
}

TEST(LearningRate, Constant) {
  ScheduleOptions s;
  s.lr = 0.1;
  for (double e : {0.0, 0.5, 3.0, 9.99}) EXPECT_DOUBLE_EQ(learning_rate(s, e, 10), 0.1);
}

TEST(LearningRate, StepDecaysByGammaEveryStepEpochs) {
  ScheduleOptions s;
  s.name = "step";
  s.lr = 0.1;
  s.step_epochs = 2;
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(learning_rate(s, 0, 10), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(s, 1.99, 10), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(s, 2.0, 10), 0.05);
  EXPECT_DOUBLE_EQ(learning_rate(s, 4.5, 10), 0.025);
}

TEST(LearningRate, CosineFromLrToMinLr) {
  ScheduleOptions s;
  s.name = "cosine";
  s.lr = 0.1;
  s.min_lr = 0.01;
  EXPECT_DOUBLE_EQ(learning_rate(s, 0, 10), 0.1);
  EXPECT_NEAR(learning_rate(s, 2.5, 10), 0.01 + 0.045 * (1 + std::cos(M_PI / 4)), 1e-12);  // 0.08682
  EXPECT_NEAR(learning_rate(s, 5, 10), 0.055, 1e-12);
  EXPECT_NEAR(learning_rate(s, 10, 10), 0.01, 1e-12);
}

TEST(LearningRate, WarmupRampsLinearlyThenHandsOver) {
  ScheduleOptions s;
  s.lr = 0.1;
  s.warmup_epochs = 2;
  EXPECT_NEAR(learning_rate(s, 0, 10), 1e-4, 1e-15);  // floored at lr / 1000, never zero
  EXPECT_NEAR(learning_rate(s, 0.5, 10), 0.025, 1e-15);
  EXPECT_NEAR(learning_rate(s, 1, 10), 0.05, 1e-15);
  EXPECT_NEAR(learning_rate(s, 2, 10), 0.1, 1e-15);
  EXPECT_NEAR(learning_rate(s, 7, 10), 0.1, 1e-15);

  // Cosine starts its decay when warmup ends: halfway through the remaining 8 epochs at 6.
  s.name = "cosine";
  EXPECT_NEAR(learning_rate(s, 1, 10), 0.05, 1e-15);
  EXPECT_NEAR(learning_rate(s, 2, 10), 0.1, 1e-15);
  EXPECT_NEAR(learning_rate(s, 6, 10), 0.05, 1e-15);
  EXPECT_NEAR(learning_rate(s, 10, 10), 0.0, 1e-15);

  // Step decay counts from epoch 0; warmup scales whatever the schedule gives.
  s.name = "step";
  s.step_epochs = 1;
  s.gamma = 0.5;
  EXPECT_NEAR(learning_rate(s, 1, 10), 0.1 * 0.5 * 0.5, 1e-15);
  EXPECT_NEAR(learning_rate(s, 3, 10), 0.1 * 0.125, 1e-15);
}

TEST(LearningRate, BadScheduleOptionsAreConfigErrors) {
  ScheduleOptions s;
  s.name = "linear";
  EXPECT_THROW(learning_rate(s, 0, 1), ConfigError);
  EXPECT_THROW(validate(s), ConfigError);
  ScheduleOptions bad_lr;
  bad_lr.lr = 0;
  EXPECT_THROW(validate(bad_lr), ConfigError);
  ScheduleOptions bad_warmup;
  bad_warmup.warmup_epochs = -1;
  EXPECT_THROW(validate(bad_warmup), ConfigError);
  ScheduleOptions bad_gamma;
  bad_gamma.gamma = 0;
  EXPECT_THROW(validate(bad_gamma), ConfigError);
  ScheduleOptions bad_min;
  bad_min.min_lr = 1.0;  // above lr 0.1
  EXPECT_THROW(validate(bad_min), ConfigError);
  EXPECT_NO_THROW(validate(ScheduleOptions{}));
}

}  // namespace
}  // namespace dptrain
