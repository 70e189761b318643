#include "util/huge_pages.hpp"

#include <sys/mman.h>

#include <cstdint>

// Linux 6.1's synchronous collapse; Debian 12's glibc headers predate it (older kernels refuse it).
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

namespace dptrain {

void use_huge_pages(void* data, std::size_t bytes) {
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  if (data == nullptr || bytes < 2 * kHuge) return;
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end <= begin) return;
  void* start = reinterpret_cast<void*>(begin);
  if (madvise(start, end - begin, MADV_HUGEPAGE) != 0) return;
  madvise(start, end - begin, MADV_COLLAPSE);  // if refused (EINVAL, ENOMEM), khugepaged may still do it later
}

}  // namespace dptrain
