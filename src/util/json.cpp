#include "dptrain/json.hpp"

#include <cmath>
#include <sstream>

namespace dptrain {

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  if (v == std::floor(v) && std::abs(v) < 9007199254740992.0) {
    std::ostringstream whole;
    whole << static_cast<long long>(v);
    return whole.str();
  }
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

namespace {

void write(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out += ", ";
        first = false;
        out += Json(key).dump();
        out += ": ";
        write(out, item);
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        write(out, v[i]);
      }
      out += ']';
      return;
    }
    case Json::value_t::number_float:
      out += json_number(v.get<double>());
      return;
    default:  // strings (escaped), integers, booleans, null
      out += v.dump();
  }
}

}  // namespace

std::string to_json_line(const Json& value) {
  std::string out;
  write(out, value);
  return out;
}

}  // namespace dptrain
