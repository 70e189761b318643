// The Open Inference Protocol JSON of `dptrain serve`: requests parsed into rows (flat or
// nested data), every malformed request refused with a 400 that names the problem, and
// responses that read back to the exact model outputs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "serve/protocol.hpp"

using namespace dptrain;
using namespace dptrain::serve;
using nlohmann::json;

namespace {

ModelSpec softmax3x4() {  // 3 features, 4 classes
  return make_model_spec("softmax", 3, 4, LossKind::SoftmaxCrossEntropy, Activation::ReLU);
}

std::string body(const std::string& shape, const std::string& data, const std::string& extra = "",
                 const std::string& datatype = "FP32") {
  return R"({"inputs":[{"name":"input","shape":)" + shape + R"(,"datatype":")" + datatype +
         R"(","data":)" + data + "}]" + extra + "}";
}

// The message of the RequestError that parsing `text` throws ("" if it parses).
std::string refusal(const std::string& text, const ModelSpec& spec = softmax3x4()) {
  try {
    parse_infer_request(text, spec);
  } catch (const RequestError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ServeProtocol, ParsesFlatAndNestedData) {
  const ModelSpec spec = softmax3x4();
  const InferRequest flat = parse_infer_request(body("[2,3]", "[1,2,3,4.5,-5,6e-3]", R"(,"id":"r7")"), spec);
  EXPECT_EQ(flat.rows, 2);
  EXPECT_EQ(flat.id, "r7");
  EXPECT_EQ(flat.inputs, (std::vector<float>{1, 2, 3, 4.5f, -5, 6e-3f}));
  EXPECT_TRUE(flat.outputs.empty());
  const InferRequest nested = parse_infer_request(body("[2,3]", "[[1,2,3],[4.5,-5,6e-3]]"), spec);
  EXPECT_EQ(nested.inputs, flat.inputs);
  const InferRequest fp64 = parse_infer_request(body("[1,3]", "[1,2,3]", "", "FP64"), spec);
  EXPECT_EQ(fp64.rows, 1);
}

TEST(ServeProtocol, RefusesBadRequestsNamingTheProblem) {
  const auto has = [](const std::string& message, const std::string& part) {
    EXPECT_NE(message.find(part), std::string::npos) << "'" << message << "' lacks '" << part << "'";
  };
  has(refusal("{\"inputs\": ["), "malformed JSON");
  has(refusal(body("[1,3]", "[1,NaN,3]")), "NaN and Infinity are not JSON numbers");
  has(refusal("[1,2]"), "expected a JSON object");
  has(refusal("{}"), "no \"inputs\"");
  has(refusal(R"({"inputs":[{"name":"input"},{"name":"x"}]})"), "exactly one input");
  has(refusal(R"({"inputs":[{"name":"pixels","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]})"),
      "inputs[0].name: expected \"input\", got \"pixels\"");
  has(refusal(body("[1,3]", "[1,2,3]", "", "BYTES")), "BYTES");
  has(refusal(body("[1,3]", "[1,2,3]", "", "INT8")), "expected FP32");
  has(refusal(body("[1,4]", "[1,2,3,4]")), "the model takes 3 features per row");
  has(refusal(body("[3]", "[1,2,3]")), "expected [rows, 3]");
  has(refusal(body("[0,3]", "[]")), "rows must be at least 1");
  has(refusal(body("[2,3]", "[1,2,3]")), "3 values for shape [2, 3] (expected 6)");
  has(refusal(body("[2,3]", "[[1,2,3],[4,5]]")), "data row 1: expected 3 numbers, got 2");
  has(refusal(body("[1,3]", "[1,\"2\",3]")), "row 0, column 1: expected a number, got string");
  has(refusal(body("[1,3]", "[1,2,1e39]")), "row 0, column 2: 1e+39 is not a finite FP32 number");
  has(refusal(body("[1,3]", "[1,2,3]", R"(,"outputs":[{"name":"logits"}])")),
      "unknown output \"logits\"; this model answers probabilities, predictions");
  has(refusal(body("[1,3]", "[1,2,3]", R"(,"id":5)")), "\"id\": expected a string");
  // Deep nesting is described, not echoed.
  has(refusal(body("[1,3]", "[1,2," + std::string(5000, '[') + std::string(5000, ']') + "]")),
      "expected a number, got array");
  EXPECT_EQ(refusal(body("[1,3]", "[1,2,3]")), "");
}

TEST(ServeProtocol, ClassifierResponseReadsBackExactly) {
  const ModelSpec spec = softmax3x4();
  InferRequest request;
  request.rows = 2;
  request.id = "abc";
  const std::vector<float> outputs = {0.1f, 0.2f, 0.3f, 0.4f, 0.7f, 0.1f, 0.1f, 0.1f};
  const json r = json::parse(infer_response("m", "3", request, spec, outputs.data()));
  EXPECT_EQ(r["model_name"], "m");
  EXPECT_EQ(r["model_version"], "3");
  EXPECT_EQ(r["id"], "abc");
  ASSERT_EQ(r["outputs"].size(), 2u);
  const json& p = r["outputs"][0];
  EXPECT_EQ(p["name"], "probabilities");
  EXPECT_EQ(p["datatype"], "FP32");
  EXPECT_EQ(p["shape"], json::array({2, 4}));
  ASSERT_EQ(p["data"].size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(p["data"][i].get<float>(), outputs[i]);
  const json& c = r["outputs"][1];
  EXPECT_EQ(c["name"], "predictions");
  EXPECT_EQ(c["datatype"], "INT64");
  EXPECT_EQ(c["shape"], json::array({2}));
  EXPECT_EQ(c["data"], json::array({3, 0}));

  request.outputs = {"predictions"};
  const json only = json::parse(infer_response("m", "3", request, spec, outputs.data()));
  ASSERT_EQ(only["outputs"].size(), 1u);
  EXPECT_EQ(only["outputs"][0]["name"], "predictions");
}

TEST(ServeProtocol, LogisticAnswersTwoProbabilitiesAndRegressionValues) {
  const ModelSpec logistic = make_model_spec("logistic", 3, 2, LossKind::BinaryCrossEntropy, Activation::ReLU);
  InferRequest request;
  request.rows = 2;
  const std::vector<float> p1 = {0.25f, 0.75f};
  const json r = json::parse(infer_response("m", "1", request, logistic, p1.data()));
  EXPECT_EQ(r["outputs"][0]["shape"], json::array({2, 2}));
  EXPECT_EQ(r["outputs"][0]["data"], json::array({0.75, 0.25, 0.25, 0.75}));
  EXPECT_EQ(r["outputs"][1]["data"], json::array({0, 1}));
  EXPECT_FALSE(r.contains("id"));

  const ModelSpec linear = make_model_spec("linear", 3, 2, LossKind::MeanSquaredError, Activation::ReLU);
  const std::vector<float> values = {1.5f, -2.0f, 0.1f, 3.0e-8f};
  const json g = json::parse(infer_response("m", "1", request, linear, values.data()));
  ASSERT_EQ(g["outputs"].size(), 1u);
  EXPECT_EQ(g["outputs"][0]["name"], "predictions");
  EXPECT_EQ(g["outputs"][0]["datatype"], "FP32");
  EXPECT_EQ(g["outputs"][0]["shape"], json::array({2, 2}));
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(g["outputs"][0]["data"][i].get<float>(), values[i]);
}

TEST(ServeProtocol, MetadataDescribesInputsAndOutputs) {
  const json m = json::parse(model_metadata("fashion", "2", softmax3x4()));
  EXPECT_EQ(m["name"], "fashion");
  EXPECT_EQ(m["versions"], json::array({"2"}));
  EXPECT_EQ(m["inputs"][0]["name"], "input");
  EXPECT_EQ(m["inputs"][0]["shape"], json::array({-1, 3}));
  EXPECT_EQ(m["outputs"][0]["shape"], json::array({-1, 4}));
  EXPECT_EQ(m["outputs"][1]["datatype"], "INT64");
  EXPECT_EQ(json::parse(error_body("bad \"x\""))["error"], "bad \"x\"");
}
