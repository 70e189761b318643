#include "dptrain/named_parameters.hpp"

#include <stdexcept>

namespace dptrain {

std::vector<std::int64_t> unravel_index(std::size_t position, const std::vector<std::int64_t>& shape,
                                        StorageOrder order) {
  std::vector<std::int64_t> index(shape.size(), 0);
  auto rest = static_cast<std::int64_t>(position);
  const std::size_t n = shape.size();
  for (std::size_t step = 0; step < n; ++step) {
    const std::size_t d = order == StorageOrder::ColumnMajor ? step : n - 1 - step;
    if (shape[d] <= 0) throw std::out_of_range("unravel_index: empty dimension");
    index[d] = rest % shape[d];
    rest /= shape[d];
  }
  if (rest != 0)
    throw std::out_of_range("unravel_index: position " + std::to_string(position) +
                            " is outside the shape " + format_index(shape));
  return index;
}

std::string format_index(const std::vector<std::int64_t>& index) {
  std::string s = "[";
  for (std::size_t i = 0; i < index.size(); ++i) s += (i ? ", " : "") + std::to_string(index[i]);
  return s + "]";
}

std::size_t NamedParameter::size() const {
  std::size_t n = 1;
  for (const auto d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

std::vector<std::int64_t> NamedParameter::index_of(std::size_t k) const {
  return unravel_index(k, shape, order);
}

std::vector<NamedParameter> named_parameters(const ModelSpec& spec) {
  std::vector<NamedParameter> out;
  for (std::size_t l = 0; l < spec.layers(); ++l) {
    const std::string prefix = std::to_string(2 * l) + ".";  // activations sit at odd indices
    const std::int64_t in = spec.widths[l], width = spec.widths[l + 1];
    out.push_back({prefix + "weight", l, {width, in}, spec.weight_offset(l), StorageOrder::ColumnMajor});
    out.push_back({prefix + "bias", l, {width}, spec.bias_offset(l), StorageOrder::ColumnMajor});
  }
  return out;
}

std::vector<float> row_major_values(const NamedParameter& p, const float* params) {
  std::vector<float> values(p.size());
  const std::int64_t rows = p.shape[0];
  const std::int64_t cols = p.shape.size() > 1 ? p.shape[1] : 1;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      values[static_cast<std::size_t>(r * cols + c)] = params[p.offset + static_cast<std::size_t>(c * rows + r)];
  return values;
}

}  // namespace dptrain
