#pragma once
// Walking a compact gradient (Optimizer::step_sparse): the parameter index and the value
// index of every entry, in order.
#include <cstdint>
#include <memory>
#include <span>

#include "dptrain/optimizer.hpp"

namespace dptrain {

// f(parameter index, value index) for each column's `width` entries, then for the tail.
template <class F>
void for_each_sparse(std::size_t num_params, std::span<const std::int32_t> columns, std::int64_t width,
                     std::size_t values, F&& f) {
  const auto w = static_cast<std::size_t>(width);
  std::size_t k = 0;
  for (const std::int32_t c : columns)
    for (std::size_t o = 0; o < w; ++o) f(static_cast<std::size_t>(c) * w + o, k++);
  const std::size_t tail = values - k;
  for (std::size_t i = num_params - tail; i < num_params; ++i) f(i, k++);
}

// AdaGrad (optimizer.hpp): acc += g^2; p -= lr g / (sqrt(acc) + eps), g including the L2 term.
std::unique_ptr<Optimizer> make_adagrad(std::size_t num_params, const OptimizerOptions& options);

}  // namespace dptrain
