#pragma once
// Appending little-endian integers and floats to a byte string (the exporters' file formats
// are all little-endian; so is every machine dptrain runs on, which the static_assert checks).
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace dptrain {

static_assert(std::endian::native == std::endian::little, "the exporters write the host's bytes as little-endian");

template <class T>
void append_le(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

inline void append_floats(std::string& out, const std::vector<float>& values) {
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

}  // namespace dptrain
