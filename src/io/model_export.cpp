#include "dptrain/model_export.hpp"

#include "dptrain/checkpoint.hpp"
#include "dptrain/error.hpp"
#include "dptrain/named_parameters.hpp"
#include "io/atomic_file.hpp"

namespace dptrain {

ExportFormat parse_export_format(const std::string& name) {
  if (name == "onnx") return ExportFormat::onnx;
  if (name == "npz") return ExportFormat::npz;
  if (name == "safetensors") return ExportFormat::safetensors;
  throw ConfigError("--to '" + name + "': expected onnx, npz or safetensors");
}

std::vector<ExportTensor> state_dict(const ModelSpec& spec, const float* params) {
  std::vector<ExportTensor> tensors;
  for (const NamedParameter& p : named_parameters(spec)) tensors.push_back({p.name, p.shape, row_major_values(p, params)});
  return tensors;
}

void export_model(const std::string& model, ExportFormat format, const std::string& out) {
  const Checkpoint c = load_checkpoint(model);
  const std::vector<ExportTensor> tensors = state_dict(c.spec, c.params.data());
  std::string bytes;
  switch (format) {
    case ExportFormat::onnx: bytes = onnx_model_bytes(c.spec, tensors); break;
    case ExportFormat::npz: bytes = npz_bytes(tensors); break;
    case ExportFormat::safetensors: bytes = safetensors_bytes(c.spec, tensors); break;
  }
  write_stream_atomically(out, [&](std::ostream& s) { s.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace dptrain
