#pragma once
// The Open Inference Protocol (KServe v2) in JSON, for dense models: parsing an infer request
// into a row-major float block, and writing the infer response, the model metadata and errors.
// https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
//
//   request:  {"id": "...", "inputs": [{"name": "input", "shape": [n, D], "datatype": "FP32",
//              "data": [n*D numbers, flat or as n rows]}], "outputs": [{"name": "..."}]}
//   response: {"model_name", "model_version", "id", "outputs": [
//              {"name": "probabilities", "shape": [n, C], "datatype": "FP32", "data": [...]},
//              {"name": "predictions", "shape": [n], "datatype": "INT64", "data": [...]}]}
//   (regression: one output "predictions" [n, K] FP32)
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dptrain/error.hpp"
#include "dptrain/model.hpp"

namespace dptrain::serve {

// A request the server refuses: an HTTP status (4xx/5xx) and a message naming the problem.
class RequestError : public Error {
 public:
  RequestError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

constexpr const char* kInputName = "input";

struct InferRequest {
  std::string id;                    // echoed in the response; empty when the request has none
  std::int64_t rows = 0;
  std::vector<float> inputs;         // rows x spec.inputs(), row-major
  std::vector<std::string> outputs;  // outputs asked for by name; empty: all of them
};

// Output names a model answers: "probabilities" and "predictions" for classifiers,
// "predictions" for regression.
std::vector<std::string> output_names(const ModelSpec& spec);

// Parses and checks an infer request body for a model with `spec`. Throws RequestError(400)
// naming the problem: malformed JSON, a missing field, a wrong shape, datatype or width,
// a value that is not a finite FP32 number, an unknown output name.
InferRequest parse_infer_request(std::string_view body, const ModelSpec& spec);

// The infer response for `rows` rows of model outputs (rows x spec.outputs(), as Scorer
// writes them). Floats are written in their shortest form that reads back to the same float.
std::string infer_response(const std::string& model_name, const std::string& model_version,
                           const InferRequest& request, const ModelSpec& spec, const float* outputs);

// GET /v2/models/{name}: name, versions, platform, inputs and outputs with shapes (-1: any rows).
std::string model_metadata(const std::string& model_name, const std::string& model_version,
                           const ModelSpec& spec);

// GET /v2: the server's name, version and extensions.
std::string server_metadata();

// {"error": message}
std::string error_body(const std::string& message);

}  // namespace dptrain::serve
