#include <cmath>
#include <sstream>

#include "dptrain/error.hpp"
#include "dptrain/model.hpp"
#include "dptrain/shard.hpp"
#include "util/split.hpp"

namespace dptrain {

std::string to_string(Activation a) {
  switch (a) {
    case Activation::ReLU: return "relu";
    case Activation::Tanh: return "tanh";
    case Activation::Sigmoid: return "sigmoid";
  }
  return "?";
}

std::string to_string(LossKind l) {
  switch (l) {
    case LossKind::MeanSquaredError: return "mse";
    case LossKind::BinaryCrossEntropy: return "bce";
    case LossKind::SoftmaxCrossEntropy: return "ce";
  }
  return "?";
}

Activation parse_activation(const std::string& n) {
  if (n == "relu") return Activation::ReLU;
  if (n == "tanh") return Activation::Tanh;
  if (n == "sigmoid") return Activation::Sigmoid;
  throw ConfigError("--activation '" + n + "': expected relu, tanh or sigmoid");
}

LossKind parse_loss(const std::string& n) {
  if (n == "mse") return LossKind::MeanSquaredError;
  if (n == "bce") return LossKind::BinaryCrossEntropy;
  if (n == "ce") return LossKind::SoftmaxCrossEntropy;
  throw ConfigError("loss '" + n + "': expected mse, bce or ce");
}

std::int64_t ModelSpec::classes() const {
  switch (loss) {
    case LossKind::BinaryCrossEntropy: return 2;
    case LossKind::SoftmaxCrossEntropy: return outputs();
    default: return 0;
  }
}

std::size_t ModelSpec::weight_offset(std::size_t layer) const {
  std::size_t off = 0;
  for (std::size_t l = 0; l < layer; ++l) off += static_cast<std::size_t>((widths[l] + 1) * widths[l + 1]);
  return off;
}

std::size_t ModelSpec::bias_offset(std::size_t layer) const {
  return weight_offset(layer) + static_cast<std::size_t>(widths[layer] * widths[layer + 1]);
}

std::size_t ModelSpec::num_params() const { return weight_offset(layers()); }

std::string ModelSpec::describe() const {
  std::ostringstream s;
  s << name << " ";
  for (std::size_t i = 0; i < widths.size(); ++i) s << (i ? "-" : "") << widths[i];
  if (layers() > 1) s << " " << to_string(activation);
  s << ", loss " << to_string(loss) << ", " << num_params() << " parameters";
  return s.str();
}

ModelSpec make_model_spec(const std::string& name, std::int64_t features, std::int64_t outputs,
                          LossKind mlp_loss, Activation activation) {
  ModelSpec spec;
  spec.name = name;
  spec.activation = activation;
  if (features < 1) throw ConfigError("the data has no feature columns");
  if (name == "linear") {
    spec.loss = LossKind::MeanSquaredError;
    spec.widths = {features, std::max<std::int64_t>(1, outputs)};
  } else if (name == "logistic") {
    spec.loss = LossKind::BinaryCrossEntropy;
    spec.widths = {features, 1};
  } else if (name == "softmax") {
    if (outputs < 2) throw ConfigError("--model softmax needs at least 2 classes; got " + std::to_string(outputs));
    spec.loss = LossKind::SoftmaxCrossEntropy;
    spec.widths = {features, outputs};
  } else if (name.rfind("mlp:", 0) == 0 || name == "mlp") {
    spec.loss = mlp_loss;
    spec.widths = {features};
    std::string sizes = name.size() > 4 ? name.substr(4) : "";
    if (sizes.empty()) throw ConfigError("--model mlp needs hidden sizes, e.g. mlp:256,128");
    for (const std::string& item : split_list(sizes)) {
      char* end = nullptr;
      const long w = std::strtol(item.c_str(), &end, 10);
      if (item.empty() || *end != '\0' || w < 1)
        throw ConfigError("--model '" + name + "': hidden size '" + item + "' is not a positive integer");
      spec.widths.push_back(w);
    }
    if (mlp_loss == LossKind::BinaryCrossEntropy) spec.widths.push_back(1);
    else spec.widths.push_back(std::max<std::int64_t>(1, outputs));
    if (mlp_loss == LossKind::SoftmaxCrossEntropy && outputs < 2)
      throw ConfigError("--model " + name + " as a classifier needs at least 2 classes");
  } else {
    throw ConfigError("--model '" + name + "': expected linear, logistic, softmax or mlp:H1,H2,...");
  }
  return spec;
}

AlignedVector<float> initial_parameters(const ModelSpec& spec, std::uint64_t seed) {
  AlignedVector<float> params(spec.num_params(), 0.0f);
  if (spec.layers() == 1) return params;
  Random rng(seed ^ 0xA5A5A5A5ull);
  for (std::size_t l = 0; l < spec.layers(); ++l) {
    const double fan_in = static_cast<double>(spec.widths[l]);
    const double fan_out = static_cast<double>(spec.widths[l + 1]);
    float* w = params.data() + spec.weight_offset(l);
    const std::size_t n = static_cast<std::size_t>(spec.widths[l] * spec.widths[l + 1]);
    if (spec.activation == Activation::ReLU) {
      const double std = std::sqrt(2.0 / fan_in);
      for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<float>(std * rng.normal());
    } else {
      const double bound = std::sqrt(6.0 / (fan_in + fan_out));
      for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<float>(bound * (2 * rng.uniform() - 1));
    }
  }
  return params;
}

}  // namespace dptrain
