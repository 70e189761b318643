#include "dptrain/optimizer.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "dptrain/error.hpp"
#include "optim/sparse_update.hpp"

namespace dptrain {
namespace {

// Every update is one pass over the parameters: the gradient is scaled (1 / rows, clipping)
// and the L2 term added as it is read, since the step is bound by memory traffic.
class Sgd final : public Optimizer {
 public:
  explicit Sgd(double wd) : wd_(wd) {}
  void update_piece(std::span<float> p, std::span<float> g, std::size_t, double lr, float scale,
                    std::int64_t) override {
    const float a = static_cast<float>(lr), w = static_cast<float>(wd_);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] -= a * (g[i] * scale + w * p[i]);
  }
  void step_sparse(std::span<float> p, std::span<const std::int32_t> columns, std::int64_t width,
                   std::span<const float> g, double lr, float scale) override {
    if (wd_ != 0) return Optimizer::step_sparse(p, columns, width, g, lr, scale);
    const float a = static_cast<float>(lr);
    for_each_sparse(p.size(), columns, width, g.size(), [&](std::size_t i, std::size_t k) { p[i] -= a * (g[k] * scale); });
    ++steps;
  }

 private:
  double wd_;
};

// PyTorch's formulation: v = mu v + g; p -= lr v (nesterov: p -= lr (g + mu v)).
class Momentum final : public Optimizer {
 public:
  Momentum(std::size_t n, double mu, double wd, bool nesterov)
      : velocity_(n, 0.0f), mu_(mu), wd_(wd), nesterov_(nesterov) {}
  void update_piece(std::span<float> p, std::span<float> g, std::size_t offset, double lr, float scale,
                    std::int64_t) override {
    const float a = static_cast<float>(lr), mu = static_cast<float>(mu_), w = static_cast<float>(wd_);
    float* v = velocity_.data() + offset;
    if (nesterov_) {
      for (std::size_t i = 0; i < p.size(); ++i) {
        const float gi = g[i] * scale + w * p[i];
        v[i] = mu * v[i] + gi;
        p[i] -= a * (gi + mu * v[i]);
      }
    } else {
      for (std::size_t i = 0; i < p.size(); ++i) {
        v[i] = mu * v[i] + (g[i] * scale + w * p[i]);
        p[i] -= a * v[i];
      }
    }
  }
  std::vector<std::pair<std::string, std::vector<float>*>> state() override {
    return {{"velocity", &velocity_}};
  }

 private:
  std::vector<float> velocity_;
  double mu_, wd_;
  bool nesterov_;
};

// Adam (L2 decay in the gradient) and AdamW (decoupled decay), with bias correction.
class Adam final : public Optimizer {
 public:
  Adam(std::size_t n, const OptimizerOptions& o, bool decoupled)
      : m_(n, 0.0f), v_(n, 0.0f), o_(o), decoupled_(decoupled) {}
  void update_piece(std::span<float> p, std::span<float> g, std::size_t offset, double lr, float scale,
                    std::int64_t t) override {
    const float w = decoupled_ ? 0.0f : static_cast<float>(o_.weight_decay);
    float* m = m_.data() + offset;
    float* v = v_.data() + offset;
    const double c1 = 1 - std::pow(o_.beta1, static_cast<double>(t));
    const double c2 = 1 - std::pow(o_.beta2, static_cast<double>(t));
    const float b1 = static_cast<float>(o_.beta1), b2 = static_cast<float>(o_.beta2);
    const float step = static_cast<float>(lr / c1);
    const float root_c2 = static_cast<float>(std::sqrt(c2));
    const float eps = static_cast<float>(o_.eps);
    const float decay = decoupled_ ? static_cast<float>(1 - lr * o_.weight_decay) : 1.0f;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const float gi = g[i] * scale + w * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] = p[i] * decay - step * m[i] / (std::sqrt(v[i]) / root_c2 + eps);
    }
  }
  std::vector<std::pair<std::string, std::vector<float>*>> state() override {
    return {{"m", &m_}, {"v", &v_}};
  }

 private:
  std::vector<float> m_, v_;
  OptimizerOptions o_;
  bool decoupled_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& o, std::size_t n) {
  if (o.name == "sgd") return std::make_unique<Sgd>(o.weight_decay);
  if (o.name == "momentum") return std::make_unique<Momentum>(n, o.momentum, o.weight_decay, false);
  if (o.name == "nesterov") return std::make_unique<Momentum>(n, o.momentum, o.weight_decay, true);
  if (o.name == "adam") return std::make_unique<Adam>(n, o, false);
  if (o.name == "adamw") return std::make_unique<Adam>(n, o, true);
  if (o.name == "adagrad") return make_adagrad(n, o);
  throw ConfigError("--optimizer '" + o.name + "': expected sgd, momentum, nesterov, adam, adamw or adagrad");
}

namespace {

void require(bool ok, const std::string& option, double value, const char* expected) {
  if (!ok || std::isnan(value)) {
    std::ostringstream s;
    s << option << " " << value << ": expected " << expected;
    throw ConfigError(s.str());
  }
}

}  // namespace

void validate(const OptimizerOptions& o) {
  make_optimizer(o, 0);  // checks the name
  require(o.momentum >= 0 && o.momentum < 1, "--momentum", o.momentum, "a value in [0, 1)");
  require(o.beta1 >= 0 && o.beta1 < 1, "--beta1", o.beta1, "a value in [0, 1)");
  require(o.beta2 >= 0 && o.beta2 < 1, "--beta2", o.beta2, "a value in [0, 1)");
  require(o.eps > 0, "--eps", o.eps, "a positive value");
  require(o.weight_decay >= 0, "--weight-decay", o.weight_decay, "a value >= 0");
  require(o.l1 >= 0, "--l1", o.l1, "a value >= 0");
  if (o.l1 > 0 && o.name != "adagrad")
    throw ConfigError("--l1 " + std::to_string(o.l1) + " needs --optimizer adagrad (got --optimizer " + o.name + ")");
}

void validate(const ScheduleOptions& s) {
  learning_rate(s, 0, 1);  // checks the name
  require(s.lr > 0 && std::isfinite(s.lr), "--lr", s.lr, "a positive value");
  require(s.warmup_epochs >= 0, "--warmup-epochs", s.warmup_epochs, "a value >= 0");
  require(s.step_epochs > 0, "--lr-step-epochs", s.step_epochs, "a positive value");
  require(s.gamma > 0, "--lr-gamma", s.gamma, "a positive value");
  require(s.min_lr >= 0 && s.min_lr <= s.lr, "--min-lr", s.min_lr, "a value in [0, --lr]");
}

double clipped_scale(std::span<const float> grad, double scale, double max_norm) {
  if (max_norm <= 0) return scale;
  // Eigen vectorises the sum of squares (a plain float loop may not be reordered).
  return clipped_scale(
      Eigen::Map<const Eigen::VectorXf>(grad.data(), static_cast<Eigen::Index>(grad.size())).cast<double>().norm(),
      scale, max_norm);
}

double clipped_scale(double norm, double scale, double max_norm) {
  if (max_norm <= 0) return scale;
  norm *= std::abs(scale);
  return norm > max_norm ? scale * (max_norm / norm) : scale;
}

double learning_rate(const ScheduleOptions& s, double epoch, double total_epochs) {
  double lr = s.lr;
  if (s.name == "step") {
    lr = s.lr * std::pow(s.gamma, std::floor(epoch / std::max(s.step_epochs, 1e-9)));
  } else if (s.name == "cosine") {
    const double span = std::max(total_epochs - s.warmup_epochs, 1e-9);
    const double progress = std::clamp((epoch - s.warmup_epochs) / span, 0.0, 1.0);
    lr = s.min_lr + 0.5 * (s.lr - s.min_lr) * (1 + std::cos(M_PI * progress));
  } else if (s.name != "constant") {
    throw ConfigError("--lr-schedule '" + s.name + "': expected constant, step or cosine");
  }
  if (s.warmup_epochs > 0 && epoch < s.warmup_epochs)
    lr *= std::max(epoch / s.warmup_epochs, 1e-3);
  return lr;
}

}  // namespace dptrain
