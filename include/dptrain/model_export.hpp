#pragma once
// `dptrain export`: a trained model in the formats other tools load. Every format names the
// tensors as PyTorch's state_dict of the same nn.Sequential names them (named_parameters.hpp:
// "0.weight" [out, in], "0.bias" [out], "2.weight", ...), row-major float32.
//   onnx         a standard graph: input "input" [N, D]; Gemm (transB=1) per layer with the
//                hidden activation (Relu/Tanh/Sigmoid) between; output "probabilities"
//                [N, classes] (Softmax, or Sigmoid as [1-p, p] for logistic) for classifiers,
//                "predictions" [N, outputs] for regression: what `dptrain predict` writes.
//   npz          numpy.savez layout: one .npy per tensor (np.load(f)["0.weight"]).
//   safetensors  the safetensors layout (8-byte header length, JSON header, raw data).
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/model.hpp"

namespace dptrain {

enum class ExportFormat { onnx, npz, safetensors };

// "onnx" | "npz" | "safetensors"; throws ConfigError naming --to otherwise.
ExportFormat parse_export_format(const std::string& name);

// One tensor of the state_dict, values row-major.
struct ExportTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

// The model's tensors in layer order.
std::vector<ExportTensor> state_dict(const ModelSpec& spec, const float* params);

// The file contents of each format (bytes).
std::string onnx_model_bytes(const ModelSpec& spec, const std::vector<ExportTensor>& tensors);
std::string npz_bytes(const std::vector<ExportTensor>& tensors);
std::string safetensors_bytes(const ModelSpec& spec, const std::vector<ExportTensor>& tensors);

// Loads the checkpoint `model` and writes it to `out` (atomically) in `format`.
void export_model(const std::string& model, ExportFormat format, const std::string& out);

}  // namespace dptrain
