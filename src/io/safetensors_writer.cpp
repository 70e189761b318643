// safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range in the data that follows (padded with spaces to 8 bytes), then
// the raw little-endian values. __metadata__ holds strings only.
#include <nlohmann/json.hpp>

#include "dptrain/model_export.hpp"
#include "io/little_endian.hpp"

namespace dptrain {

std::string safetensors_bytes(const ModelSpec& spec, const std::vector<ExportTensor>& tensors) {
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"},
                            {"producer", "dptrain"},
                            {"model", spec.name},
                            {"activation", to_string(spec.activation)},
                            {"loss", to_string(spec.loss)}};
  std::string data;
  for (const ExportTensor& t : tensors) {
    const std::size_t begin = data.size();
    append_floats(data, t.values);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out;
  append_le<std::uint64_t>(out, text.size());
  return out + text + data;
}

}  // namespace dptrain
