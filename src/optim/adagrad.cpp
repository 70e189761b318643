// AdaGrad (Duchi et al. 2011), as PyTorch's torch.optim.Adagrad with initial accumulator 0:
// acc += g^2; p -= lr g / (sqrt(acc) + eps). Its per-parameter rates suit sparse inputs: a
// rare feature keeps a large step. With a compact gradient only the rows present are
// updated (lazy): exact without weight decay, since a zero gradient changes neither acc nor p;
// with --weight-decay the decay of a row is applied only at the steps that touch it.
#include <Eigen/Core>

#include <cmath>

#include "optim/sparse_update.hpp"

namespace dptrain {
namespace {

class Adagrad final : public Optimizer {
 public:
  Adagrad(std::size_t n, const OptimizerOptions& o)
      : acc_(n, 0.0f), eps_(static_cast<float>(o.eps)), wd_(static_cast<float>(o.weight_decay)) {}
  void step_part(std::span<float> p, std::span<float> g, std::size_t offset, double lr, float scale) override {
    const float a = static_cast<float>(lr);
    for (std::size_t i = 0; i < p.size(); ++i) update(p, i, offset + i, g[i], a, scale);
    ++steps;
  }
  void step_sparse(std::span<float> p, std::span<const std::int32_t> columns, std::int64_t width,
                   std::span<const float> g, double lr, float scale) override {
    const float a = static_cast<float>(lr);
    const auto w = static_cast<std::size_t>(width);
    // Each column's `width` parameters are contiguous: update them as one short vector.
    // The columns are scattered over the parameters: fetch a few columns ahead (each update is
    // a couple of cache misses otherwise, and they dominate the step on hashed text).
    constexpr std::size_t kAhead = 8;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i + kAhead < columns.size()) {
        const std::size_t next = static_cast<std::size_t>(columns[i + kAhead]) * w;
        for (std::size_t b = 0; b < w; b += 16) {  // 16 floats: one cache line
          __builtin_prefetch(p.data() + next + b, 1);
          __builtin_prefetch(acc_.data() + next + b, 1);
        }
      }
      update_run(p.data() + static_cast<std::size_t>(columns[i]) * w, acc_.data() + static_cast<std::size_t>(columns[i]) * w,
                 g.data() + i * w, w, a, scale);
    }
    const std::size_t head = columns.size() * w, tail = g.size() - head;
    update_run(p.data() + p.size() - tail, acc_.data() + p.size() - tail, g.data() + head, tail, a, scale);
    ++steps;
  }
  std::vector<std::pair<std::string, std::vector<float>*>> state() override { return {{"accumulator", &acc_}}; }

 private:
  // Parameter i of `p`, whose accumulator is acc_[state].
  void update(std::span<float> p, std::size_t i, std::size_t state, float grad, float lr, float scale) {
    const float gi = grad * scale + wd_ * p[i];
    acc_[state] += gi * gi;
    p[i] -= lr * gi / (std::sqrt(acc_[state]) + eps_);
  }
  // update() on n contiguous parameters, vectorised by Eigen (sqrt included).
  void update_run(float* p, float* acc, const float* g, std::size_t n, float lr, float scale) {
    const auto size = static_cast<Eigen::Index>(n);
    Eigen::Map<Eigen::ArrayXf> P(p, size), A(acc, size);
    Eigen::Map<const Eigen::ArrayXf> G(g, size);
    A += (G * scale + wd_ * P).square();
    P -= lr * (G * scale + wd_ * P) / (A.sqrt() + eps_);
  }
  std::vector<float> acc_;
  float eps_, wd_;
};

}  // namespace

std::unique_ptr<Optimizer> make_adagrad(std::size_t num_params, const OptimizerOptions& options) {
  return std::make_unique<Adagrad>(num_params, options);
}

}  // namespace dptrain
