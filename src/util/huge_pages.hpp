#pragma once
// Large buffers read at scattered places (a hashed model's parameters and its optimizer state:
// tens of MB touched a few bytes per column) spend their time in TLB misses with 4 KB pages,
// and a virtual machine's nested page walks make each miss dearer. Backing them with 2 MB
// transparent huge pages removes most of those walks.
#include <cstddef>

namespace dptrain {

// Asks the kernel to back the whole 2 MB pages inside [data, data + bytes) with huge pages,
// collapsing the pages already touched (MADV_HUGEPAGE, then MADV_COLLAPSE on Linux 6.1+).
// Best effort: a kernel or setting that refuses leaves the buffer as it was. Buffers under
// 4 MB are left alone.
void use_huge_pages(void* data, std::size_t bytes);

}  // namespace dptrain
