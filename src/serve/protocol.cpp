#include "serve/protocol.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "dptrain/evaluation.hpp"

namespace dptrain::serve {
namespace {

using nlohmann::json;

constexpr const char* kProbabilities = "probabilities";
constexpr const char* kPredictions = "predictions";

// JSON on the wire, compact (not dptrain's file layout of to_json_line); invalid UTF-8, which a
// request can carry into an error message, is replaced instead of throwing.
std::string text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

[[noreturn]] void bad(const std::string& message) { throw RequestError(400, message); }

const char* type_name(const json& j) { return j.type_name(); }

// A value for an error message: primitives as JSON, containers by their type only (never
// dumped whole: a hostile body may nest them deeply or make them huge).
std::string brief(const json& j) {
  return j.is_structured() ? std::string(j.type_name()) : text(j);
}

// Shapes are short arrays of numbers; anything else is described by brief().
std::string shape_text(const json& shape) {
  if (!shape.is_array() || shape.size() > 8) return brief(shape);
  for (const json& d : shape)
    if (d.is_structured()) return brief(shape);
  return text(shape);
}

// The request's one input, checked for name and datatype.
const json& the_input(const json& body) {
  if (!body.is_object()) bad(std::string("request body: expected a JSON object, got ") + type_name(body));
  const auto inputs = body.find("inputs");
  if (inputs == body.end()) bad("request body: no \"inputs\" field");
  if (!inputs->is_array() || inputs->size() != 1)
    bad("\"inputs\": expected an array with exactly one input named \"" + std::string(kInputName) +
        "\"");
  const json& input = inputs->front();
  if (!input.is_object()) bad("inputs[0]: expected an object");
  const auto name = input.find("name");
  if (name == input.end() || !name->is_string() || name->get<std::string>() != kInputName)
    bad("inputs[0].name: expected \"" + std::string(kInputName) + "\"" +
        (name != input.end() ? ", got " + brief(*name) : ""));
  const auto datatype = input.find("datatype");
  if (datatype == input.end() || !datatype->is_string()) bad("inputs[0].datatype: missing");
  const std::string type = datatype->get<std::string>();
  if (type == "BYTES")
    bad("inputs[0].datatype BYTES: this model takes dense numbers (FP32); text input needs a "
        "sparse/text model");
  if (type != "FP32" && type != "FP64")
    bad("inputs[0].datatype \"" + type + "\": expected FP32 (or FP64)");
  return input;
}

// [n, D] with D the model's input width.
std::int64_t checked_rows(const json& input, std::int64_t width) {
  const auto shape = input.find("shape");
  if (shape == input.end()) bad("inputs[0].shape: missing; expected [rows, " + std::to_string(width) + "]");
  const std::string expected = "expected [rows, " + std::to_string(width) + "]";
  if (!shape->is_array() || shape->size() != 2 || !(*shape)[0].is_number_integer() ||
      !(*shape)[1].is_number_integer())
    bad("inputs[0].shape " + shape_text(*shape) +
        ": " + expected);
  const std::int64_t rows = (*shape)[0].get<std::int64_t>(), cols = (*shape)[1].get<std::int64_t>();
  if (cols != width)
    bad("inputs[0].shape " + shape_text(*shape) + ": the model takes " + std::to_string(width) +
        " features per row; " + expected);
  if (rows < 1) bad("inputs[0].shape " + shape_text(*shape) + ": rows must be at least 1");
  return rows;
}

// Appends one number of inputs[0].data to `out`; `index` is its flat position.
void append_value(const json& v, std::size_t index, std::int64_t width, std::vector<float>& out) {
  const auto where = [&] {
    return "inputs[0].data row " + std::to_string(index / static_cast<std::size_t>(width)) +
           ", column " + std::to_string(index % static_cast<std::size_t>(width));
  };
  if (!v.is_number()) bad(where() + ": expected a number, got " + type_name(v) + (v.is_structured() ? "" : " " + text(v)));
  const float x = static_cast<float>(v.get<double>());
  if (!std::isfinite(x)) bad(where() + ": " + text(v) + " is not a finite FP32 number");
  out.push_back(x);
}

// inputs[0].data: rows*width numbers, flat or as rows of `width` numbers.
std::vector<float> checked_data(const json& input, std::int64_t rows, std::int64_t width) {
  const auto data = input.find("data");
  if (data == input.end() || !data->is_array()) bad("inputs[0].data: missing; expected an array of numbers");
  const auto expected = static_cast<std::size_t>(rows) * static_cast<std::size_t>(width);
  std::vector<float> values;
  values.reserve(expected);
  const bool nested = !data->empty() && data->front().is_array();
  if (nested) {
    if (data->size() != static_cast<std::size_t>(rows))
      bad("inputs[0].data: " + std::to_string(data->size()) + " rows for shape [" +
          std::to_string(rows) + ", " + std::to_string(width) + "]");
    for (std::size_t r = 0; r < data->size(); ++r) {
      const json& row = (*data)[r];
      if (!row.is_array() || row.size() != static_cast<std::size_t>(width))
        bad("inputs[0].data row " + std::to_string(r) + ": expected " + std::to_string(width) +
            " numbers, got " + (row.is_array() ? std::to_string(row.size()) : type_name(row)));
      for (const json& v : row) append_value(v, values.size(), width, values);
    }
    return values;
  }
  if (data->size() != expected)
    bad("inputs[0].data: " + std::to_string(data->size()) + " values for shape [" +
        std::to_string(rows) + ", " + std::to_string(width) + "] (expected " +
        std::to_string(expected) + ")");
  for (const json& v : *data) append_value(v, values.size(), width, values);
  return values;
}

std::vector<std::string> requested_outputs(const json& body, const ModelSpec& spec) {
  std::vector<std::string> names;
  const auto outputs = body.find("outputs");
  if (outputs == body.end()) return names;
  if (!outputs->is_array()) bad("\"outputs\": expected an array of {\"name\": ...}");
  const std::vector<std::string> known = output_names(spec);
  for (const json& o : *outputs) {
    const auto name = o.is_object() ? o.find("name") : o.end();
    if (!o.is_object() || name == o.end() || !name->is_string())
      bad("\"outputs\": expected objects with a \"name\", got " + brief(o));
    const std::string n = name->get<std::string>();
    if (std::find(known.begin(), known.end(), n) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      bad("\"outputs\": unknown output \"" + n + "\"; this model answers " + list);
    }
    names.push_back(n);
  }
  return names;
}

void append_float(std::string& s, float v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, ec == std::errc() ? end : buf);
}

// One output object: {"name","shape","datatype","data"}; `value(r, c)` appends one number.
template <class AppendValue>
void append_output(std::string& s, const char* name, std::int64_t rows, std::int64_t cols,
                   const char* datatype, AppendValue value) {
  s += "{\"name\":\"";
  s += name;
  s += "\",\"shape\":[" + std::to_string(rows) + (cols ? "," + std::to_string(cols) : "") + "]";
  s += ",\"datatype\":\"";
  s += datatype;
  s += "\",\"data\":[";
  const std::int64_t per_row = cols ? cols : 1;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < per_row; ++c) {
      if (r || c) s += ',';
      value(s, r, c);
    }
  s += "]}";
}

bool wanted(const InferRequest& request, const std::string& name) {
  return request.outputs.empty() ||
         std::find(request.outputs.begin(), request.outputs.end(), name) != request.outputs.end();
}

}  // namespace

std::vector<std::string> output_names(const ModelSpec& spec) {
  if (spec.classifier()) return {kProbabilities, kPredictions};
  return {kPredictions};
}

InferRequest parse_infer_request(std::string_view body, const ModelSpec& spec) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    std::string message = std::string("malformed JSON: ") + e.what();
    if (body.find("NaN") != std::string_view::npos || body.find("Infinity") != std::string_view::npos)
      message += " (NaN and Infinity are not JSON numbers; every value must be a finite number)";
    bad(message);
  }
  const json& input = the_input(j);
  InferRequest request;
  if (const auto id = j.find("id"); id != j.end()) {
    if (!id->is_string()) bad("\"id\": expected a string, got " + brief(*id));
    request.id = id->get<std::string>();
  }
  request.rows = checked_rows(input, spec.inputs());
  request.inputs = checked_data(input, request.rows, spec.inputs());
  request.outputs = requested_outputs(j, spec);
  return request;
}

std::string infer_response(const std::string& model_name, const std::string& model_version,
                           const InferRequest& request, const ModelSpec& spec, const float* outputs) {
  const std::int64_t n = request.rows, k = spec.outputs();
  std::string s;
  s.reserve(static_cast<std::size_t>(n * (k + 1) * 12 + 256));
  s += "{\"model_name\":" + text(model_name) + ",\"model_version\":" + text(model_version);
  if (!request.id.empty()) s += ",\"id\":" + text(request.id);
  s += ",\"outputs\":[";
  bool first = true;
  const auto next = [&] {
    if (!first) s += ',';
    first = false;
  };
  if (spec.classifier()) {
    const std::int64_t c = spec.classes();
    if (wanted(request, kProbabilities)) {
      next();
      std::vector<float> p(static_cast<std::size_t>(c));
      std::int64_t row = -1;
      append_output(s, kProbabilities, n, c, "FP32", [&](std::string& out, std::int64_t r, std::int64_t i) {
        if (r != row) class_probabilities(spec, outputs + r * k, p.data()), row = r;
        append_float(out, p[static_cast<std::size_t>(i)]);
      });
    }
    if (wanted(request, kPredictions)) {
      next();
      append_output(s, kPredictions, n, 0, "INT64", [&](std::string& out, std::int64_t r, std::int64_t) {
        out += std::to_string(predicted_class(spec, outputs + r * k));
      });
    }
  } else if (wanted(request, kPredictions)) {
    append_output(s, kPredictions, n, k, "FP32", [&](std::string& out, std::int64_t r, std::int64_t i) {
      append_float(out, outputs[r * k + i]);
    });
  }
  s += "]}";
  return s;
}

std::string model_metadata(const std::string& model_name, const std::string& model_version,
                           const ModelSpec& spec) {
  json outputs = json::array();
  if (spec.classifier()) {
    outputs.push_back({{"name", kProbabilities}, {"datatype", "FP32"}, {"shape", {-1, spec.classes()}}});
    outputs.push_back({{"name", kPredictions}, {"datatype", "INT64"}, {"shape", {-1}}});
  } else {
    outputs.push_back({{"name", kPredictions}, {"datatype", "FP32"}, {"shape", {-1, spec.outputs()}}});
  }
  const json j = {
      {"name", model_name},
      {"versions", {model_version}},
      {"platform", "dptrain"},
      {"inputs", {{{"name", kInputName}, {"datatype", "FP32"}, {"shape", {-1, spec.inputs()}}}}},
      {"outputs", outputs},
      {"parameters", {{"description", spec.describe()}}}};
  return text(j);
}

std::string server_metadata() {
  return text(json{{"name", "dptrain"}, {"version", "0.1.0"}, {"extensions", json::array()}});
}

std::string error_body(const std::string& message) { return text(json{{"error", message}}); }

}  // namespace dptrain::serve
