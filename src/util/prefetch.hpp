#pragma once
// Software prefetching of short runs scattered over large arrays (a hashed column's weights, its
// AdaGrad state): every cache line of the run is fetched, including the second line of a run
// that straddles a line boundary (a 6-float column does so one time in four).
#include <cstddef>
#include <cstdint>

namespace dptrain {

constexpr std::size_t kCacheLine = 64;

// Fetches the lines of [p, p + n) for reading (write = false) or writing.
template <bool write = false, class T>
inline void prefetch_run(const T* p, std::size_t n) {
  const auto first = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{kCacheLine - 1};
  const auto last = reinterpret_cast<std::uintptr_t>(p + n) - 1;
  for (std::uintptr_t a = first; a <= last; a += kCacheLine)
    __builtin_prefetch(reinterpret_cast<const void*>(a), write ? 1 : 0);
}

}  // namespace dptrain
