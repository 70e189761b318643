// AdaGrad (Duchi et al. 2011), as PyTorch's torch.optim.Adagrad with initial accumulator 0:
// acc += g^2; p -= lr g / (sqrt(acc) + eps). Its per-parameter rates suit sparse inputs: a
// rare feature keeps a large step. With a compact gradient only the rows present are
// updated (lazy): exact without weight decay, since a zero gradient changes neither acc nor p;
// with --weight-decay the decay of a row is applied only at the steps that touch it.
// --l1: after the step, a proximal soft-threshold (Duchi et al.'s composite AdaGrad): the
// weight moves lr l1 / (sqrt(acc) + eps) towards zero and stops there, so a rare column
// (small acc) must earn its weight; also lazy, applied at the steps that touch a column.
#include <algorithm>
#include <cmath>

#include "optim/sparse_update.hpp"
#include "util/huge_pages.hpp"
#include "util/prefetch.hpp"

namespace dptrain {
namespace {

class Adagrad final : public Optimizer {
 public:
  Adagrad(std::size_t n, const OptimizerOptions& o)
      : acc_(n, 0.0f), eps_(static_cast<float>(o.eps)), wd_(static_cast<float>(o.weight_decay)),
        l1_(static_cast<float>(o.l1)) {
    use_huge_pages(acc_.data(), acc_.size() * sizeof(float));  // read at scattered columns (step_sparse)
  }
  void update_piece(std::span<float> p, std::span<float> g, std::size_t offset, double lr, float scale,
                    std::int64_t) override {
    update_run(p.data(), acc_.data() + offset, g.data(), p.size(), static_cast<float>(lr), scale);
  }
  void step_sparse(std::span<float> p, std::span<const std::int32_t> columns, std::int64_t width,
                   std::span<const float> g, double lr, float scale) override {
    const float a = static_cast<float>(lr);
    const auto w = static_cast<std::size_t>(width);
    // A column's `width` parameters are contiguous but short (one per class), and the columns
    // are scattered over the parameters. Blocks of columns are copied into contiguous buffers,
    // updated there as one long vector (vectorised sqrt and division; a 6-value run is not),
    // and copied back while their cache lines are still near. The columns ahead are fetched
    // early: their cache misses dominate the step on hashed text.
    constexpr std::size_t kBlock = 256, kAhead = 16;
    block_p_.resize(kBlock * w);
    block_acc_.resize(kBlock * w);
    for (std::size_t first = 0; first < columns.size(); first += kBlock) {
      const std::size_t n = std::min(kBlock, columns.size() - first);
      for (std::size_t i = 0; i < n; ++i) {
        if (first + i + kAhead < columns.size()) {
          const std::size_t next = static_cast<std::size_t>(columns[first + i + kAhead]) * w;
          prefetch_run<true>(p.data() + next, w);
          prefetch_run<true>(acc_.data() + next, w);
        }
        const std::size_t at = static_cast<std::size_t>(columns[first + i]) * w;
        for (std::size_t o = 0; o < w; ++o) block_p_[i * w + o] = p[at + o], block_acc_[i * w + o] = acc_[at + o];
      }
      update_run(block_p_.data(), block_acc_.data(), g.data() + first * w, n * w, a, scale);
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t at = static_cast<std::size_t>(columns[first + i]) * w;
        for (std::size_t o = 0; o < w; ++o) p[at + o] = block_p_[i * w + o], acc_[at + o] = block_acc_[i * w + o];
      }
    }
    const std::size_t head = columns.size() * w, tail = g.size() - head;
    update_run(p.data() + p.size() - tail, acc_.data() + p.size() - tail, g.data() + head, tail, a, scale);
    ++steps;
  }
  std::vector<std::pair<std::string, std::vector<float>*>> state() override { return {{"accumulator", &acc_}}; }

 private:
  // Soft-threshold: v moved `by` towards zero, and zero if it would cross it.
  static float shrink(float v, float by) {
    const float m = std::fabs(v) - by;
    return m > 0 ? std::copysign(m, v) : 0.0f;
  }
  // The update of n contiguous parameters and their accumulators. A plain loop, vectorised by the compiler: every value
  // is computed by the same operations (contractions included) whether it falls in the
  // vectorised body or the remainder, so a column's result does not depend on where in a block
  // it lies (Eigen's packet and scalar paths round differently: that broke --deterministic).
  void update_run(float* p, float* acc, const float* g, std::size_t n, float lr, float scale) {
    if (l1_ > 0) {
      for (std::size_t i = 0; i < n; ++i) {
        const float gi = g[i] * scale + wd_ * p[i];
        acc[i] += gi * gi;
        const float root = std::sqrt(acc[i]) + eps_;
        p[i] = shrink(p[i] - lr * gi / root, lr * l1_ / root);
      }
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i] * scale + wd_ * p[i];
      acc[i] += gi * gi;
      p[i] -= lr * gi / (std::sqrt(acc[i]) + eps_);
    }
  }
  std::vector<float> acc_;
  std::vector<float> block_p_, block_acc_;  // step_sparse's block of columns
  float eps_, wd_, l1_;
};

}  // namespace

std::unique_ptr<Optimizer> make_adagrad(std::size_t num_params, const OptimizerOptions& options) {
  return std::make_unique<Adagrad>(num_params, options);
}

}  // namespace dptrain
