#pragma once
// The model with CSR input rows: the first layer is a sparse x dense product (a row's
// pre-activation is the bias plus value x weight column for each of its stored entries), the
// layers above it are the dense stack of model.hpp. The first layer's weight gradient touches
// only the columns present in the batch; it is kept compact: `grad0` holds out x |columns|
// values, entry k's column at slot[k] (indexed like x.indices, so a slice of rows shares it).
#include <cstdint>

#include "dptrain/csr.hpp"
#include "dptrain/model.hpp"

namespace dptrain {

// Parameters after the first layer's weights (its bias and every later layer): the "tail" of
// the flat buffer, at spec.bias_offset(0).
inline std::size_t sparse_tail_size(const ModelSpec& spec) { return spec.num_params() - spec.bias_offset(0); }

// Loss and gradient summed over the rows of `x`. `grad0` is accumulated into (the caller
// zeroes it); `tail` (sparse_tail_size values) is overwritten. `slot[k]` is the position in
// grad0 of entry k's column (one slot per stored entry, not per input column: the backward pass
// then reads it in order instead of looking a column up in a table as wide as the input).
template <class T>
BatchStats sparse_forward_backward(const ModelSpec& spec, const T* params, const CsrView& x, const T* y,
                                   const std::int32_t* slot, T* grad0, T* tail, Workspace<T>& ws);

// Forward pass only (see forward() in model.hpp).
template <class T>
BatchStats sparse_forward(const ModelSpec& spec, const T* params, const CsrView& x, const T* y, Workspace<T>& ws,
                          T* outputs = nullptr);

}  // namespace dptrain
