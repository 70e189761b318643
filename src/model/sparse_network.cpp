// Forward and backward passes with a sparse first layer; samples are columns, as in
// network.cpp. Weights are column-major [out x in], so an input column's weights are
// contiguous: each stored entry of a row adds one scaled column.
#include <string>

#include "dptrain/error.hpp"
#include "dptrain/sparse_model.hpp"
#include "model/gemm.hpp"
#include "model/network_detail.hpp"
#include "util/prefetch.hpp"

namespace dptrain {
namespace {

using detail::Mat;
using detail::Vec;

// Entries ahead whose weight column (forward) or gradient column (backward) is fetched early:
// columns are scattered over the parameters, and their cache misses dominate the sparse product.
constexpr std::int64_t kAhead = 16;

template <class T>
void check_rows(std::int64_t rows, const Workspace<T>& ws) {
  if (rows > ws.max_rows())
    throw InternalError("model workspace holds " + std::to_string(ws.max_rows()) + " rows; asked for " +
                        std::to_string(rows));
}

// All layers; leaves hidden activations and the output logits in ws.activations.
template <class T>
void run_sparse_layers(const ModelSpec& spec, const T* params, const CsrView& x, Workspace<T>& ws) {
  const std::int64_t out = spec.widths[1], rows = x.rows;
  Eigen::Map<Mat<T>> z(ws.activations[0].data(), out, rows);
  Eigen::Map<const Vec<T>> b(params + spec.bias_offset(0), out);
  z.colwise() = b;
  // Plain loops over the `out` values of a column: short, contiguous, vectorised by the
  // compiler without Eigen's per-expression overhead (this loop is the whole forward pass).
  for (std::int64_t j = 0; j < rows; ++j) {
    T* zj = z.data() + j * out;
    for (std::int64_t k = x.indptr[j]; k < x.indptr[j + 1]; ++k) {
      if (k + kAhead < x.indptr[x.rows]) prefetch_run(params + static_cast<std::int64_t>(x.indices[k + kAhead]) * out, out);
      const T v = static_cast<T>(x.values[k]);
      const T* w = params + static_cast<std::int64_t>(x.indices[k]) * out;
      for (std::int64_t o = 0; o < out; ++o) zj[o] += v * w[o];
    }
  }
  for (std::size_t l = 1; l < spec.layers(); ++l) {
    Eigen::Map<Mat<T>> prev(ws.activations[l - 1].data(), spec.widths[l], rows);
    detail::activate(spec.activation, prev);
    Eigen::Map<const Mat<T>> w(params + spec.weight_offset(l), spec.widths[l + 1], spec.widths[l]);
    Eigen::Map<const Vec<T>> bl(params + spec.bias_offset(l), spec.widths[l + 1]);
    Eigen::Map<Mat<T>> zl(ws.activations[l].data(), spec.widths[l + 1], rows);
    detail::gemm(false, false, spec.widths[l + 1], rows, spec.widths[l], w.data(), spec.widths[l + 1], prev.data(),
                 spec.widths[l], zl.data(), spec.widths[l + 1]);
    zl.colwise() += bl;
  }
}

}  // namespace

template <class T>
BatchStats sparse_forward_backward(const ModelSpec& spec, const T* params, const CsrView& x, const T* y,
                                   const std::int32_t* slot, T* grad0, T* tail, Workspace<T>& ws) {
  const std::size_t tail_offset = spec.bias_offset(0);
  Eigen::Map<Vec<T>> tail_grad(tail, static_cast<Eigen::Index>(sparse_tail_size(spec)));
  const std::int64_t rows = x.rows;
  if (rows == 0) {
    tail_grad.setZero();
    return {};
  }
  check_rows(rows, ws);
  run_sparse_layers(spec, params, x, ws);
  const std::size_t last = spec.layers() - 1;
  Eigen::Map<Mat<T>> logits(ws.activations[last].data(), spec.outputs(), rows);
  const BatchStats stats = detail::apply_loss(spec, logits, y, true, static_cast<T*>(nullptr));
  // Dense layers above the first, as in network.cpp; each delta replaces its activation.
  for (std::size_t l = last; l >= 1; --l) {
    const auto in = spec.widths[l], out = spec.widths[l + 1];
    Eigen::Map<Mat<T>> delta(ws.activations[l].data(), out, rows);
    Eigen::Map<Mat<T>> act(ws.activations[l - 1].data(), in, rows);
    detail::gemm(false, true, out, in, rows, delta.data(), out, act.data(), in,
                 tail + spec.weight_offset(l) - tail_offset, out);
    Eigen::Map<Vec<T>>(tail + spec.bias_offset(l) - tail_offset, out).noalias() = delta.rowwise().sum();
    Eigen::Map<const Mat<T>> w(params + spec.weight_offset(l), out, in);
    Eigen::Map<Mat<T>> back(ws.scratch.data(), in, rows);
    detail::gemm(true, false, in, rows, out, w.data(), out, delta.data(), out, back.data(), in);
    detail::multiply_derivative(spec.activation, act, back);
    act = back;
  }
  // First layer: the bias, then one column of grad0 per stored entry.
  const std::int64_t out = spec.widths[1];
  Eigen::Map<Mat<T>> delta(ws.activations[0].data(), out, rows);
  Eigen::Map<Vec<T>>(tail, out).noalias() = delta.rowwise().sum();
  for (std::int64_t j = 0; j < rows; ++j) {
    const T* dj = delta.data() + j * out;
    for (std::int64_t k = x.indptr[j]; k < x.indptr[j + 1]; ++k) {
      if (k + kAhead < x.indptr[x.rows]) prefetch_run<true>(grad0 + static_cast<std::int64_t>(slot[k + kAhead]) * out, out);
      const T v = static_cast<T>(x.values[k]);
      T* g = grad0 + static_cast<std::int64_t>(slot[k]) * out;
      for (std::int64_t o = 0; o < out; ++o) g[o] += v * dj[o];
    }
  }
  return stats;
}

template <class T>
BatchStats sparse_forward(const ModelSpec& spec, const T* params, const CsrView& x, const T* y, Workspace<T>& ws,
                          T* outputs) {
  if (x.rows == 0) return {};
  check_rows(x.rows, ws);
  run_sparse_layers(spec, params, x, ws);
  Eigen::Map<Mat<T>> logits(ws.activations[spec.layers() - 1].data(), spec.outputs(), x.rows);
  return detail::apply_loss(spec, logits, y, false, outputs);
}

template BatchStats sparse_forward_backward<float>(const ModelSpec&, const float*, const CsrView&, const float*,
                                                   const std::int32_t*, float*, float*, Workspace<float>&);
template BatchStats sparse_forward_backward<double>(const ModelSpec&, const double*, const CsrView&, const double*,
                                                    const std::int32_t*, double*, double*, Workspace<double>&);
template BatchStats sparse_forward<float>(const ModelSpec&, const float*, const CsrView&, const float*,
                                          Workspace<float>&, float*);
template BatchStats sparse_forward<double>(const ModelSpec&, const double*, const CsrView&, const double*,
                                           Workspace<double>&, double*);

}  // namespace dptrain
