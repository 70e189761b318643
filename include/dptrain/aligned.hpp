#pragma once
// Buffers that Eigen reads are 64-byte aligned. Vectorised reductions (sums, norms,
// matrix-vector products) split their work at alignment boundaries, so the same numbers at
// another address round differently: with plain std::vector the results of a run depended on
// where the heap happened to put its buffers. Aligned buffers make every run repeat exactly.
#include <Eigen/Core>
#include <vector>

namespace dptrain {

template <class T>
using AlignedVector = std::vector<T, Eigen::aligned_allocator<T>>;

}  // namespace dptrain
