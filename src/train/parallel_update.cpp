#include "parallel_update.hpp"

#include <omp.h>

#include <atomic>

#include "parallel_gradient.hpp"
#include "util/finite.hpp"

namespace dptrain {

bool update_in_parallel(Optimizer& optimizer, std::span<float> params, std::span<float> grad, std::size_t offset,
                        double lr, float scale, int threads) {
  // Below a few cache lines a thread each costs more than it saves.
  if (threads <= 1 || grad.size() < 4096) {
    if (!all_finite(grad.data(), grad.size())) return false;
    optimizer.step_part(params, grad, offset, lr, scale);
    return true;
  }
  const std::int64_t step = optimizer.steps + 1;
  std::atomic<bool> finite{true};
#pragma omp parallel num_threads(threads)
  {
    const auto [lo, hi] = thread_part(0, grad.size(), omp_get_thread_num(), omp_get_num_threads());
    if (!all_finite(grad.data() + lo, hi - lo)) finite.store(false, std::memory_order_relaxed);
#pragma omp barrier
    if (finite.load(std::memory_order_relaxed))
      optimizer.update_piece(params.subspan(lo, hi - lo), grad.subspan(lo, hi - lo), offset + lo, lr, scale, step);
  }
  if (!finite) return false;
  optimizer.steps = step;
  return true;
}

}  // namespace dptrain
