// The model's products (detail::gemm): every transpose combination, column strides wider than
// the rows (the first layer's column blocks), empty shapes and k = 0, against a double-precision
// product of the same values; the same bits from one call to the next, from any thread, with
// the inputs at another alignment (the --deterministic blocks sit at offsets that depend on
// the rank count), and inside and outside OpenMP regions.
#include <gtest/gtest.h>
#include <omp.h>

#include <Eigen/Core>
#include <cmath>
#include <vector>

#include "dptrain/shard.hpp"
#include "model/gemm.hpp"

namespace dptrain {
namespace {

using Index = Eigen::Index;

struct Operand {
  std::vector<float> values;
  Index rows, cols, ld;  // stored column-major, ld >= rows
  float at(Index r, Index c) const { return values[static_cast<std::size_t>(c * ld + r)]; }
};

Operand random_operand(Index rows, Index cols, Index pad, std::uint64_t seed) {
  Random rng(seed);
  const auto size = static_cast<std::size_t>(std::max<Index>(1, (rows + pad) * cols));
  Operand o{std::vector<float>(size), rows, cols, rows + pad};
  for (auto& v : o.values) v = static_cast<float>(2 * rng.uniform() - 1);
  return o;
}

// C = op(A) op(B) by detail::gemm; C's column stride is m + pad.
std::vector<float> product(bool ta, bool tb, Index m, Index n, Index k, const Operand& a, const Operand& b, Index pad) {
  std::vector<float> c(static_cast<std::size_t>(std::max<Index>(1, (m + pad) * n)), 7.0f);
  detail::gemm(ta, tb, m, n, k, a.values.data(), a.ld, b.values.data(), b.ld, c.data(), m + pad);
  return c;
}

TEST(Gemm, EveryTransposeAndStrideMatchesADoubleProduct) {
  const Index m = 37, n = 29, k = 53;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (Index pad : {0, 5}) {
        const Operand a = random_operand(ta ? k : m, ta ? m : k, pad, 1);
        const Operand b = random_operand(tb ? n : k, tb ? k : n, pad, 2);
        const std::vector<float> c = product(ta, tb, m, n, k, a, b, pad);
        for (Index i = 0; i < m; ++i)
          for (Index j = 0; j < n; ++j) {
            double want = 0;
            for (Index l = 0; l < k; ++l)
              want += static_cast<double>(ta ? a.at(l, i) : a.at(i, l)) *
                      static_cast<double>(tb ? b.at(j, l) : b.at(l, j));
            ASSERT_NEAR(c[static_cast<std::size_t>(j * (m + pad) + i)], want, 1e-5 * k)
                << "ta " << ta << " tb " << tb << " pad " << pad << " at " << i << "," << j << " ("
                << detail::gemm_backend() << ")";
          }
        if (pad > 0)  // the padding rows of C are not written
          EXPECT_EQ(c[static_cast<std::size_t>(m)], 7.0f);
      }
}

TEST(Gemm, EmptyShapesAndZeroDepth) {
  const Operand a = random_operand(4, 3, 0, 3), b = random_operand(3, 5, 0, 4);
  std::vector<float> c = product(false, false, 4, 5, 0, a, b, 0);  // k = 0: C = 0
  for (float v : c) EXPECT_EQ(v, 0.0f);
  c = product(false, false, 0, 5, 3, a, b, 0);  // m = 0: nothing written
  EXPECT_EQ(c[0], 7.0f);
  c = product(false, false, 4, 0, 3, a, b, 0);  // n = 0
  EXPECT_EQ(c[0], 7.0f);
}

// --deterministic relies on a block's product having the same bits wherever it is computed.
TEST(Gemm, SameBitsAcrossCallsThreadsAndAlignment) {
  const Index m = 64, n = 24, k = 96;
  const Operand a = random_operand(m, k, 0, 5), b = random_operand(n, k, 0, 6);
  const std::vector<float> reference = product(false, true, m, n, k, a, b, 0);
  EXPECT_EQ(product(false, true, m, n, k, a, b, 0), reference);
  // The same values one float further on in memory (no longer 64-byte aligned).
  Operand a1 = a, b1 = b;
  a1.values.insert(a1.values.begin(), 0.0f);
  b1.values.insert(b1.values.begin(), 0.0f);
  std::vector<float> shifted(static_cast<std::size_t>(m * n + 1));
  detail::gemm(false, true, m, n, k, a1.values.data() + 1, m, b1.values.data() + 1, n, shifted.data() + 1, m);
  EXPECT_TRUE(std::equal(reference.begin(), reference.end(), shifted.begin() + 1)) << detail::gemm_backend();
  std::vector<std::vector<float>> by_thread(3);
#pragma omp parallel num_threads(3)
  by_thread[static_cast<std::size_t>(omp_get_thread_num())] = product(false, true, m, n, k, a, b, 0);
  for (const auto& c : by_thread)
    if (!c.empty()) EXPECT_EQ(c, reference);
  RecordProperty("gemm", detail::gemm_backend());
}

}  // namespace
}  // namespace dptrain
