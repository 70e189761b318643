#pragma once
// Names for the values in the flat parameter buffer, as PyTorch names the same network: an
// nn.Sequential of Linear layers with an activation module between each two, so the Linear
// layers sit at indices 0, 2, 4, ... and their tensors are "0.weight" [out, in] and "0.bias"
// [out] (the keys of its state_dict). Comparisons, reports and exports (ONNX, npz,
// safetensors) all name layers through this one function.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/model.hpp"

namespace dptrain {

// How a tensor's values follow each other in memory: column-major (the first index varies
// fastest, Eigen's default) or row-major (the last index varies fastest, C/NumPy/PyTorch).
enum class StorageOrder { ColumnMajor, RowMajor };

// The index (one entry per dimension of `shape`) of the value at `position` (0-based, in
// storage order). Throws std::out_of_range when position is not inside the shape.
std::vector<std::int64_t> unravel_index(std::size_t position, const std::vector<std::int64_t>& shape,
                                        StorageOrder order);

// "[2, 5]" for an index, "[4, 12]" for a shape.
std::string format_index(const std::vector<std::int64_t>& index);

struct NamedParameter {
  std::string name;                  // "0.weight", "0.bias", "2.weight", ...
  std::size_t layer = 0;             // dense layer l (weights of widths[l] -> widths[l+1])
  std::vector<std::int64_t> shape;   // PyTorch's shape: weight [out, in], bias [out]
  std::size_t offset = 0;            // first value in the flat buffer
  std::size_t size() const;          // number of values
  // The flat buffer stores a weight column-major: value (o, i) of [out, in] is at
  // offset + i * out + o, i.e. transposed relative to PyTorch's row-major tensor.
  StorageOrder order = StorageOrder::ColumnMajor;
  // The [out, in] (or [out]) index of the value at offset + k.
  std::vector<std::int64_t> index_of(std::size_t k) const;
};

// The model's tensors in buffer order; their sizes add up to spec.num_params().
std::vector<NamedParameter> named_parameters(const ModelSpec& spec);

// One tensor's values from the flat buffer, in PyTorch's row-major order (weights
// transposed into [out, in]), as an exporter writes them.
std::vector<float> row_major_values(const NamedParameter& parameter, const float* params);

}  // namespace dptrain
