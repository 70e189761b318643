// update_in_parallel: the optimizer step split over threads (by thread_part) is bitwise the
// single-threaded step for every optimizer, counts one step, and leaves everything untouched
// when a gradient value is not finite.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "dptrain/optimizer.hpp"
#include "train/parallel_gradient.hpp"
#include "train/parallel_update.hpp"

namespace dptrain {
namespace {

std::vector<float> ramp(std::size_t n, float a, float b) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = a * std::sin(b * static_cast<float>(i));
  return v;
}

TEST(ThreadPart, CoversTheRangeInOrderOnWholeLines) {
  for (const std::size_t begin : {0u, 5u, 4096u}) {
    for (const std::size_t n : {0u, 1u, 17u, 1000u, 117573u}) {
      for (int threads = 1; threads <= 5; ++threads) {
        std::size_t at = begin;
        for (int t = 0; t < threads; ++t) {
          const auto [lo, hi] = thread_part(begin, begin + n, t, threads);
          EXPECT_EQ(lo, at);
          EXPECT_LE(lo, hi);
          if (t > 0 && lo < begin + n) EXPECT_EQ(lo % 16, 0u) << "inner boundary off a 64-byte line";
          at = hi;
        }
        EXPECT_EQ(at, begin + n);
      }
    }
  }
}

TEST(ParallelUpdate, BitwiseTheSingleThreadedStep) {
  const std::size_t n = 50000, offset = 100;
  for (const char* name : {"sgd", "momentum", "nesterov", "adam", "adamw", "adagrad"}) {
    OptimizerOptions o;
    o.name = name;
    o.weight_decay = 1e-3;
    for (int threads = 2; threads <= 4; ++threads) {
      auto one = make_optimizer(o, offset + n), many = make_optimizer(o, offset + n);
      std::vector<float> p1 = ramp(n, 1.0f, 0.01f), pt = p1;
      for (int s = 0; s < 3; ++s) {
        std::vector<float> g = ramp(n, 0.5f + static_cast<float>(s), 0.003f);
        one->step_part(p1, g, offset, 0.05, 0.25f);
        ASSERT_TRUE(update_in_parallel(*many, pt, g, offset, 0.05, 0.25f, threads));
      }
      EXPECT_EQ(many->steps, 3);
      EXPECT_EQ(p1, pt) << name << " on " << threads << " threads";
      for (std::size_t k = 0; k < one->state().size(); ++k)
        EXPECT_EQ(*one->state()[k].second, *many->state()[k].second) << name << " state " << one->state()[k].first;
    }
  }
}

TEST(ParallelUpdate, NonFiniteGradientUpdatesNothing) {
  const std::size_t n = 20000;
  for (const float bad : {std::nanf(""), INFINITY}) {
    for (const std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
      for (int threads : {1, 2, 3}) {
        OptimizerOptions o;
        o.name = "momentum";
        auto opt = make_optimizer(o, n);
        std::vector<float> p = ramp(n, 1.0f, 0.01f), before = p, g = ramp(n, 1.0f, 0.02f);
        g[at] = bad;
        EXPECT_FALSE(update_in_parallel(*opt, p, g, 0, 0.1, 1.0f, threads));
        EXPECT_EQ(p, before);
        EXPECT_EQ(opt->steps, 0);
        for (float v : *opt->state()[0].second) ASSERT_EQ(v, 0.0f);
      }
    }
  }
}

}  // namespace
}  // namespace dptrain
