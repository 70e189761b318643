// Forward and backward passes for the dense stack, with samples as columns: a row-major
// [rows x features] block of the shard is a column-major [features x rows] matrix, so the
// batch needs no transpose and every layer is one GEMM.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "dptrain/model.hpp"
#include "dptrain/error.hpp"
#include "model/gemm.hpp"
#include "model/network_detail.hpp"

namespace dptrain {
namespace detail {  // shared with sparse_network.cpp (network_detail.hpp)

template <class T>
void activate(Activation a, Eigen::Map<Mat<T>>& z) {
  switch (a) {
    case Activation::ReLU: z = z.cwiseMax(T(0)); break;
    case Activation::Tanh: z = z.array().tanh(); break;
    case Activation::Sigmoid: z = (T(1) / (T(1) + (-z.array()).exp())).matrix(); break;
  }
}

// delta *= f'(z), written in terms of the activation a = f(z).
template <class T>
void multiply_derivative(Activation a, const Eigen::Map<Mat<T>>& act, Eigen::Map<Mat<T>>& delta) {
  switch (a) {
    case Activation::ReLU: delta = (act.array() > T(0)).select(delta, T(0)); break;
    case Activation::Tanh: delta.array() *= T(1) - act.array().square(); break;
    case Activation::Sigmoid: delta.array() *= act.array() * (T(1) - act.array()); break;
  }
}

// Loss of the logits `z` (outputs x rows) against `y`; if `gradient`, overwrites z with
// dLoss/dz. If `probs` is set, writes the model outputs there (rows x outputs, row-major).
template <class T>
BatchStats apply_loss(const ModelSpec& spec, Eigen::Map<Mat<T>>& z, const T* y, bool gradient,
                      T* probs, const T* class_weights) {
  BatchStats stats;
  const std::int64_t rows = z.cols();
  const std::int64_t k = z.rows();
  switch (spec.loss) {
    case LossKind::MeanSquaredError: {
      if (probs) Eigen::Map<Mat<T>>(probs, k, rows) = z;
      if (!y) break;
      Eigen::Map<const Mat<T>> target(y, k, rows);
      if (gradient) {
        z -= target;
        stats.loss = static_cast<double>(z.squaredNorm()) / k;
        z *= T(2) / T(k);
      } else {
        stats.loss = static_cast<double>((z - target).squaredNorm()) / k;
      }
      break;
    }
    case LossKind::BinaryCrossEntropy: {
      for (std::int64_t j = 0; j < rows; ++j) {
        const T v = z(0, j);
        const T p = T(1) / (T(1) + std::exp(-v));
        if (probs) probs[j] = p;
        if (!y) continue;
        const T t = y[j];
        const T w = class_weights ? class_weights[t > T(0.5) ? 1 : 0] : T(1);
        stats.loss += static_cast<double>(w) * static_cast<double>(std::max(v, T(0)) - v * t + std::log1p(std::exp(-std::abs(v))));
        stats.correct += ((v > T(0)) == (t > T(0.5))) ? 1.0 : 0.0;
        if (gradient) z(0, j) = (p - t) * w;
      }
      break;
    }
    case LossKind::SoftmaxCrossEntropy: {
      for (std::int64_t j = 0; j < rows; ++j) {
        auto col = z.col(j);
        Eigen::Index best = 0;
        const T m = col.maxCoeff(&best);
        const auto label = y ? static_cast<Eigen::Index>(y[j]) : 0;
        const T label_logit = col(label);
        col.array() = (col.array() - m).exp();
        const T sum = col.sum();
        col /= sum;  // probabilities
        if (probs) std::copy(col.data(), col.data() + k, probs + j * k);
        if (!y) continue;
        // -log p(label) as log-sum-exp: exact even where p(label) underflows to zero.
        const T w = class_weights ? class_weights[label] : T(1);
        stats.loss += static_cast<double>(w) * (std::log(static_cast<double>(sum)) + static_cast<double>(m - label_logit));
        stats.correct += best == label ? 1.0 : 0.0;
        if (gradient) col(label) -= T(1);
        if (gradient && class_weights) col *= w;
      }
      break;
    }
  }
  return stats;
}

}  // namespace detail
using namespace detail;
namespace {

// The workspace's buffers are sized once; more rows would write past them.
template <class T>
void check_capacity(std::int64_t rows, const Workspace<T>& ws) {
  if (rows > ws.max_rows())
    throw InternalError("model workspace holds " + std::to_string(ws.max_rows()) +
                           " rows; asked for " + std::to_string(rows));
}

// Runs the layers; leaves hidden activations and output logits in ws.activations.
template <class T>
void run_layers(const ModelSpec& spec, const T* params, const T* x, std::int64_t rows,
                Workspace<T>& ws) {
  const T* input = x;
  for (std::size_t l = 0; l < spec.layers(); ++l) {
    const auto in = spec.widths[l], out = spec.widths[l + 1];
    Eigen::Map<const Mat<T>> w(params + spec.weight_offset(l), out, in);
    Eigen::Map<const Vec<T>> b(params + spec.bias_offset(l), out);
    Eigen::Map<Mat<T>> z(ws.activations[l].data(), out, rows);
    detail::gemm(false, false, out, rows, in, w.data(), out, input, in, z.data(), out);
    z.colwise() += b;
    if (l + 1 < spec.layers()) activate(spec.activation, z);
    input = z.data();
  }
}

}  // namespace

template <class T>
Workspace<T>::Workspace(const ModelSpec& spec, std::int64_t max_rows) : max_rows_(max_rows) {
  std::int64_t widest = 0;
  for (std::size_t l = 0; l < spec.layers(); ++l) {
    activations.emplace_back(static_cast<std::size_t>(spec.widths[l + 1] * max_rows));
    widest = std::max(widest, spec.widths[l + 1]);
  }
  scratch.resize(static_cast<std::size_t>(widest * max_rows));
}

namespace {

// The first layer's weight gradient is the largest piece (most of an MLP's parameters) and the
// last one backprop finishes; sending it in column blocks of about this many values lets
// most of it travel while the remaining blocks are computed.
constexpr std::int64_t kBucketValues = 32768;

std::int64_t first_layer_blocks(const ModelSpec& spec) {
  const std::int64_t values = spec.widths[0] * spec.widths[1];
  return std::max<std::int64_t>(1, std::min<std::int64_t>(spec.widths[0], values / kBucketValues));
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> gradient_buckets(const ModelSpec& spec) {
  std::vector<std::pair<std::size_t, std::size_t>> buckets;
  for (std::size_t l = spec.layers(); l-- > 1;)
    buckets.emplace_back(spec.weight_offset(l), spec.weight_offset(l + 1));
  const std::int64_t blocks = first_layer_blocks(spec), in = spec.widths[0], out = spec.widths[1];
  for (std::int64_t k = 0; k < blocks; ++k) {
    const std::size_t begin = static_cast<std::size_t>(in * k / blocks * out);
    const std::size_t end = k + 1 == blocks ? spec.weight_offset(1)
                                            : static_cast<std::size_t>(in * (k + 1) / blocks * out);
    buckets.emplace_back(begin, end);
  }
  return buckets;
}

namespace {

// Weight gradient of layer 0 in column blocks, bias first, announcing each block.
template <class T>
void first_layer_gradient(const ModelSpec& spec, const Eigen::Map<Mat<T>>& delta,
                          const Eigen::Map<const Mat<T>>& a_in, T* grad, GradientReady* ready) {
  const auto in = spec.widths[0], out = spec.widths[1];
  Eigen::Map<Vec<T>>(grad + spec.bias_offset(0), out).noalias() = delta.rowwise().sum();
  Eigen::Map<Mat<T>> gw(grad, out, in);
  const std::int64_t blocks = first_layer_blocks(spec);
  for (std::int64_t k = 0; k < blocks; ++k) {
    const std::int64_t c0 = in * k / blocks, c1 = in * (k + 1) / blocks;
    detail::gemm(false, true, out, c1 - c0, delta.cols(), delta.data(), out, a_in.data() + c0, in,
                 gw.data() + c0 * out, out);
    (*ready)(static_cast<std::size_t>(c0 * out),
             k + 1 == blocks ? spec.weight_offset(1) : static_cast<std::size_t>(c1 * out));
  }
}

}  // namespace

template <class T>
BatchStats forward_backward(const ModelSpec& spec, const T* params, const T* x, const T* y,
                            std::int64_t rows, T* grad, Workspace<T>& ws, GradientReady* ready) {
  if (rows == 0) {
    Eigen::Map<Vec<T>>(grad, static_cast<Eigen::Index>(spec.num_params())).setZero();
    if (ready)
      for (const auto& [begin, end] : gradient_buckets(spec)) (*ready)(begin, end);
    return {};
  }
  check_capacity(rows, ws);
  run_layers(spec, params, x, rows, ws);
  const std::size_t last = spec.layers() - 1;
  Eigen::Map<Mat<T>> logits(ws.activations[last].data(), spec.outputs(), rows);
  const BatchStats stats = apply_loss(spec, logits, y, true, static_cast<T*>(nullptr),
                                     ws.class_weights.empty() ? nullptr : ws.class_weights.data());

  // Backward: ws.activations[l] holds dLoss/dz for layer l once we reach it. Every layer's
  // weight and bias gradients are assigned (not accumulated), so `grad` needs no zeroing.
  for (std::size_t l = last + 1; l-- > 0;) {
    const auto in = spec.widths[l], out = spec.widths[l + 1];
    Eigen::Map<Mat<T>> delta(ws.activations[l].data(), out, rows);
    const T* input = l == 0 ? x : ws.activations[l - 1].data();
    Eigen::Map<const Mat<T>> a_in(input, in, rows);
    if (l == 0 && ready) {
      first_layer_gradient(spec, delta, a_in, grad, ready);
      break;
    }
    Eigen::Map<Mat<T>> gw(grad + spec.weight_offset(l), out, in);
    Eigen::Map<Vec<T>> gb(grad + spec.bias_offset(l), out);
    detail::gemm(false, true, out, in, rows, delta.data(), out, input, in, gw.data(), out);
    gb.noalias() = delta.rowwise().sum();
    if (ready && l > 0) (*ready)(spec.weight_offset(l), spec.weight_offset(l + 1));
    if (l == 0) break;
    Eigen::Map<const Mat<T>> w(params + spec.weight_offset(l), out, in);
    Eigen::Map<Mat<T>> back(ws.scratch.data(), in, rows);
    detail::gemm(true, false, in, rows, out, w.data(), out, delta.data(), out, back.data(), in);
    Eigen::Map<Mat<T>> act(ws.activations[l - 1].data(), in, rows);
    multiply_derivative(spec.activation, act, back);
    act = back;  // the previous layer's delta replaces its activation, no longer needed
  }
  return stats;
}

template <class T>
BatchStats forward(const ModelSpec& spec, const T* params, const T* x, const T* y,
                   std::int64_t rows, Workspace<T>& ws, T* outputs) {
  if (rows == 0) return {};
  check_capacity(rows, ws);
  run_layers(spec, params, x, rows, ws);
  Eigen::Map<Mat<T>> logits(ws.activations[spec.layers() - 1].data(), spec.outputs(), rows);
  return apply_loss(spec, logits, y, false, outputs);
}

namespace detail {
template void activate<float>(Activation, Eigen::Map<Mat<float>>&);
template void activate<double>(Activation, Eigen::Map<Mat<double>>&);
template void multiply_derivative<float>(Activation, const Eigen::Map<Mat<float>>&, Eigen::Map<Mat<float>>&);
template void multiply_derivative<double>(Activation, const Eigen::Map<Mat<double>>&, Eigen::Map<Mat<double>>&);
template BatchStats apply_loss<float>(const ModelSpec&, Eigen::Map<Mat<float>>&, const float*, bool, float*, const float*);
template BatchStats apply_loss<double>(const ModelSpec&, Eigen::Map<Mat<double>>&, const double*, bool, double*, const double*);
}  // namespace detail

template class Workspace<float>;
template class Workspace<double>;
template BatchStats forward_backward<float>(const ModelSpec&, const float*, const float*,
                                            const float*, std::int64_t, float*, Workspace<float>&,
                                            GradientReady*);
template BatchStats forward_backward<double>(const ModelSpec&, const double*, const double*,
                                             const double*, std::int64_t, double*,
                                             Workspace<double>&, GradientReady*);
template BatchStats forward<float>(const ModelSpec&, const float*, const float*, const float*,
                                   std::int64_t, Workspace<float>&, float*);
template BatchStats forward<double>(const ModelSpec&, const double*, const double*, const double*,
                                    std::int64_t, Workspace<double>&, double*);

}  // namespace dptrain
