#pragma once
// FNV-1a, 64-bit: the checkpoint checksum and the data files' fingerprints. Cheap, no
// dependency, and good enough to tell damaged or different bytes apart (not a security hash).
#include <cstddef>
#include <cstdint>
#include <string>

namespace dptrain {

constexpr std::uint64_t kFnv1aOffset = 0xCBF29CE484222325ull;

inline void fnv1a(std::uint64_t& h, const void* data, std::size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
}

// A string with its length first, so "ab" + "c" hashes apart from "a" + "bc".
inline void fnv1a_text(std::uint64_t& h, const std::string& text) {
  const std::uint64_t size = text.size();
  fnv1a(h, &size, sizeof size);
  fnv1a(h, text.data(), text.size());
}

}  // namespace dptrain
