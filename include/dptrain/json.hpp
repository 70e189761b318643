#pragma once
// The one JSON writer. Documents are built as nlohmann::ordered_json values (keys keep their
// insertion order) and written as one line in dptrain's layout — `{"key": 1, "list": [1, 2]}`
// — with every floating-point number through json_number, so metrics files, eval reports and
// timelines format numbers alike.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dptrain {

using Json = nlohmann::ordered_json;

// A number as JSON text: 9 significant digits (enough to tell floats apart), whole numbers
// below 2^53 in full, and null when not finite.
std::string json_number(double v);

// A JSON value as one line (", " between items, ": " after keys).
std::string to_json_line(const Json& value);

// A JSON number, or null for nothing.
inline Json json_optional(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

}  // namespace dptrain
