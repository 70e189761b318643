// The default compact update: scatter into a dense gradient, then the optimizer's own step.
#include "optim/sparse_update.hpp"

namespace dptrain {

void Optimizer::step_sparse(std::span<float> params, std::span<const std::int32_t> columns, std::int64_t width,
                            std::span<const float> values, double lr, float scale) {
  dense_.assign(params.size(), 0.0f);
  for_each_sparse(params.size(), columns, width, values.size(),
                  [&](std::size_t i, std::size_t k) { dense_[i] = values[k]; });
  step(params, dense_, lr, scale);
}

}  // namespace dptrain
