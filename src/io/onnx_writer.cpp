// An ONNX model (onnx.proto, IR version 7, opset 13) written as protobuf bytes directly: the
// graph is a handful of messages, so a small varint / length-delimited encoder is less than a
// protobuf build dependency. Field numbers are onnx.proto's.
#include "dptrain/model_export.hpp"
#include "io/little_endian.hpp"

namespace dptrain {
namespace {

// Protobuf wire format: a key (field << 3 | wire type) then the value.
class Message {
 public:
  Message& varint(int field, std::uint64_t value) {
    key(field, 0);
    raw_varint(value);
    return *this;
  }
  Message& bytes(int field, const std::string& value) {
    key(field, 2);
    raw_varint(value.size());
    out_ += value;
    return *this;
  }
  Message& message(int field, const Message& m) { return bytes(field, m.out_); }
  Message& float32(int field, float value) {
    key(field, 5);
    append_le(out_, value);
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  void key(int field, int wire) { raw_varint(static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire)); }
  void raw_varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  std::string out_;
};

constexpr int kFloat = 1;  // TensorProto.DataType.FLOAT
constexpr int kAttributeInt = 2;  // AttributeProto.AttributeType.INT

Message tensor(const std::string& name, const std::vector<std::int64_t>& shape, const std::vector<float>& values) {
  Message t;
  for (const std::int64_t d : shape) t.varint(1, static_cast<std::uint64_t>(d));  // dims
  t.varint(2, kFloat);                                                           // data_type
  t.bytes(8, name);                                                              // name
  std::string raw;
  append_floats(raw, values);
  t.bytes(9, raw);  // raw_data
  return t;
}

// ValueInfoProto of a float tensor [N, width], N symbolic.
Message value_info(const std::string& name, std::int64_t width) {
  Message shape;
  shape.message(1, Message().bytes(2, "N"));                                    // dim { dim_param }
  shape.message(1, Message().varint(1, static_cast<std::uint64_t>(width)));     // dim { dim_value }
  Message tensor_type;
  tensor_type.varint(1, kFloat).message(2, shape);  // elem_type, shape
  return Message().bytes(1, name).message(2, Message().message(1, tensor_type));
}

Message node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output,
             const std::string& attribute = "", std::int64_t value = 0) {
  Message n;
  for (const auto& input : inputs) n.bytes(1, input);
  n.bytes(2, output).bytes(3, output + "_node").bytes(4, op);
  if (!attribute.empty())
    n.message(5, Message().bytes(1, attribute).varint(3, static_cast<std::uint64_t>(value)).varint(20, kAttributeInt));
  return n;
}

const char* activation_op(Activation a) {
  switch (a) {
    case Activation::ReLU: return "Relu";
    case Activation::Tanh: return "Tanh";
    case Activation::Sigmoid: break;
  }
  return "Sigmoid";
}

// The nodes after the last Gemm ("logits"): what predict writes for this loss.
void add_output_nodes(Message& graph, const ModelSpec& spec, std::string& output, std::int64_t& width) {
  switch (spec.loss) {
    case LossKind::SoftmaxCrossEntropy:
      graph.message(1, node("Softmax", {"logits"}, "probabilities", "axis", 1));
      output = "probabilities";
      break;
    case LossKind::BinaryCrossEntropy:
      // predict's two columns: P(class 0) = 1 - p, P(class 1) = p.
      graph.message(5, tensor("one", {}, {1.0f}));
      graph.message(1, node("Sigmoid", {"logits"}, "p1"));
      graph.message(1, node("Sub", {"one", "p1"}, "p0"));
      graph.message(1, node("Concat", {"p0", "p1"}, "probabilities", "axis", 1));
      output = "probabilities";
      width = 2;
      break;
    case LossKind::MeanSquaredError:
      graph.message(1, node("Identity", {"logits"}, "predictions"));
      output = "predictions";
      break;
  }
}

}  // namespace

std::string onnx_model_bytes(const ModelSpec& spec, const std::vector<ExportTensor>& tensors) {
  Message graph;
  std::string x = "input";
  for (std::size_t l = 0; l < spec.layers(); ++l) {
    const ExportTensor& weight = tensors[2 * l];
    const ExportTensor& bias = tensors[2 * l + 1];
    const bool last = l + 1 == spec.layers();
    const std::string z = last ? "logits" : "hidden" + std::to_string(l) + "_linear";
    graph.message(1, node("Gemm", {x, weight.name, bias.name}, z, "transB", 1));
    x = z;
    if (!last) {
      x = "hidden" + std::to_string(l);
      graph.message(1, node(activation_op(spec.activation), {z}, x));
    }
  }
  std::string output;
  std::int64_t width = spec.outputs();
  add_output_nodes(graph, spec, output, width);
  graph.bytes(2, "dptrain " + spec.name);
  for (const ExportTensor& t : tensors) graph.message(5, tensor(t.name, t.shape, t.values));
  graph.message(11, value_info("input", spec.inputs()));
  graph.message(12, value_info(output, width));

  Message model;
  model.varint(1, 7);                   // ir_version
  model.bytes(2, "dptrain");            // producer_name
  model.message(7, graph);              // graph
  model.message(8, Message().bytes(1, "").varint(2, 13));  // opset_import { domain "", version 13 }
  return model.str();
}

}  // namespace dptrain
