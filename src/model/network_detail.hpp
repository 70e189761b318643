#pragma once
// The pieces of the dense stack (network.cpp) that the sparse first layer (sparse_network.cpp)
// reuses: activations, their derivatives, and the loss on the output logits.
#include <Eigen/Core>

#include "dptrain/model.hpp"

namespace dptrain::detail {

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

template <class T>
void activate(Activation a, Eigen::Map<Mat<T>>& z);
// delta *= f'(z), written in terms of the activation a = f(z).
template <class T>
void multiply_derivative(Activation a, const Eigen::Map<Mat<T>>& act, Eigen::Map<Mat<T>>& delta);
// Loss of the logits `z` (outputs x rows) against `y`; if `gradient`, overwrites z with
// dLoss/dz. If `probs` is set, writes the model outputs there (rows x outputs, row-major).
// class_weights (--class-weight): one loss weight per class, or nullptr.
template <class T>
BatchStats apply_loss(const ModelSpec& spec, Eigen::Map<Mat<T>>& z, const T* y, bool gradient, T* probs,
                      const T* class_weights = nullptr);

}  // namespace dptrain::detail
