#pragma once
// Models trained by gradient descent, all as one structure: a stack of dense layers with an
// activation between them and a loss on top. `linear`, `logistic` and `softmax` are stacks
// with no hidden layer. Parameters live in one flat buffer; layers are Eigen::Map views
// into it, so one allreduce moves the whole model and a checkpoint is one dataset.
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/aligned.hpp"

namespace dptrain {

enum class Activation { ReLU, Tanh, Sigmoid };
enum class LossKind { MeanSquaredError, BinaryCrossEntropy, SoftmaxCrossEntropy };

std::string to_string(Activation a);
std::string to_string(LossKind l);
Activation parse_activation(const std::string& name);
LossKind parse_loss(const std::string& name);

struct ModelSpec {
  std::string name;                  // "linear", "logistic", "softmax", "mlp:256,128"
  std::vector<std::int64_t> widths;  // inputs, hidden..., outputs
  Activation activation = Activation::ReLU;
  LossKind loss = LossKind::MeanSquaredError;

  std::size_t layers() const { return widths.size() - 1; }
  std::int64_t inputs() const { return widths.front(); }
  std::int64_t outputs() const { return widths.back(); }
  bool classifier() const { return loss != LossKind::MeanSquaredError; }
  // Number of classes a classifier predicts (2 for logistic); 0 for regression.
  std::int64_t classes() const;
  // Columns of the label array the loss expects: 1 for classifiers, outputs() for MSE.
  std::int64_t label_cols() const { return classifier() ? 1 : outputs(); }

  std::size_t num_params() const;
  // Layer l's weights are a column-major [widths[l+1] x widths[l]] matrix at weight_offset(l),
  // followed by its bias vector at bias_offset(l).
  std::size_t weight_offset(std::size_t layer) const;
  std::size_t bias_offset(std::size_t layer) const;
  std::string describe() const;  // "784-256-128-10 relu, softmax cross-entropy"
  bool operator==(const ModelSpec&) const = default;
};

// Builds a spec from a --model name. `outputs` is the class count for softmax (ignored by
// logistic, which has one output) or the number of regression targets for linear; for mlp
// the loss says which.
ModelSpec make_model_spec(const std::string& name, std::int64_t features, std::int64_t outputs,
                          LossKind mlp_loss, Activation activation);

// Seeded initialisation, the same on every rank: zeros for models without hidden layers
// (convex problems), He-normal weights for ReLU and Xavier-uniform for tanh/sigmoid.
AlignedVector<float> initial_parameters(const ModelSpec& spec, std::uint64_t seed);

struct BatchStats {
  double loss = 0;     // summed over the rows of the batch
  double correct = 0;  // rows classified correctly (classifiers only)
};

// Buffers for one thread's forward and backward passes over at most `max_rows` rows,
// allocated once: the step loop allocates nothing.
template <class T>
class Workspace {
 public:
  Workspace() = default;
  Workspace(const ModelSpec& spec, std::int64_t max_rows);
  std::int64_t max_rows() const { return max_rows_; }
  std::vector<AlignedVector<T>> activations;  // per layer (output layer: logits, then dLoss/dz)
  AlignedVector<T> scratch;
  // --class-weight: the training loss of a row of class c is multiplied by class_weights[c]
  // (empty: 1 for every class). forward() (validation, eval) never weights.
  std::vector<T> class_weights;

 private:
  std::int64_t max_rows_ = 0;
};

// Called during backprop each time a contiguous range [begin, end) of the gradient is final,
// in a fixed order (last layer first; the first layer in column blocks). This is where
// communication of that range can start while the rest is still being computed.
struct GradientReady {
  virtual void operator()(std::size_t begin, std::size_t end) = 0;
  virtual ~GradientReady() = default;
};

// The ranges GradientReady receives, in order; the same for any batch, even an empty one.
std::vector<std::pair<std::size_t, std::size_t>> gradient_buckets(const ModelSpec& spec);

// Loss and gradient of the loss summed over `rows` rows. `x` is rows x inputs (row-major),
// `y` is rows x label_cols. `grad` (num_params) is overwritten. T is float for training
// and double for gradient checks. `ready`, if given, hears of each finished bucket.
template <class T>
BatchStats forward_backward(const ModelSpec& spec, const T* params, const T* x, const T* y,
                            std::int64_t rows, T* grad, Workspace<T>& ws,
                            GradientReady* ready = nullptr);

// Forward pass only. If `y` is null, no loss is computed. If `outputs` is not null it
// receives rows x outputs() values: class probabilities (softmax), P(class 1) (logistic)
// or predicted values (MSE).
template <class T>
BatchStats forward(const ModelSpec& spec, const T* params, const T* x, const T* y,
                   std::int64_t rows, Workspace<T>& ws, T* outputs = nullptr);

}  // namespace dptrain
