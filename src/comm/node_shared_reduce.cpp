#include "dptrain/node_shared_reduce.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>

#include "util/finite.hpp"
#include "wait_backoff.hpp"

namespace dptrain {

std::size_t NodeSharedReduce::bytes_per_rank(std::size_t values, std::size_t published) {
  return kHeader + (padded(values) + padded(published)) * sizeof(float);
}

NodeSharedReduce::NodeSharedReduce(std::unique_ptr<NodeSharedMemory> memory, std::size_t values, std::size_t published)
    : memory_(std::move(memory)), values_(values), published_(published), rank_(memory_->rank()),
      size_(memory_->size()) {}

// Each rank counts its arrivals in its own counter (release), then reads the others' (acquire):
// no counter is ever reset, so a fast rank arriving at the next barrier cannot confuse a slow
// one still leaving this one.
void NodeSharedReduce::barrier(const char* phase) {
  const std::uint64_t gen = ++generation_;
  std::atomic_ref<std::uint64_t>(*counter(rank_)).store(gen, std::memory_order_release);
  const double stall_s = memory_->stall_timeout_seconds();
  for (int q = 0; q < size_; ++q) {
    std::atomic_ref<std::uint64_t> theirs(*counter(q));
    if (theirs.load(std::memory_order_acquire) >= gen) continue;
    WaitBackoff backoff(memory_->spin_seconds());
    while (theirs.load(std::memory_order_acquire) < gen) {
      const double waited = backoff.pause();
      if (stall_s > 0 && waited > stall_s) report_stall(phase, waited);
    }
  }
}

// The lowest rank that arrived reports (the others give it time to, then end the job too).
void NodeSharedReduce::report_stall(const char* phase, double waited) const {
  std::string missing;
  int reporter = -1;
  for (int q = 0; q < size_; ++q) {
    const bool arrived = std::atomic_ref<std::uint64_t>(*counter(q)).load(std::memory_order_acquire) >= generation_;
    if (!arrived) missing += (missing.empty() ? "" : ", ") + std::to_string(q);
    if (arrived && reporter < 0) reporter = q;
  }
  if (reporter != rank_) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    memory_->abort_stalled("");
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.0f", waited);
  char timeout[32];
  std::snprintf(timeout, sizeof timeout, "%.0f", memory_->stall_timeout_seconds());
  memory_->abort_stalled("rank " + std::to_string(rank_) + " waited " + seconds + " s in '" + phase +
                         "' (--stall-timeout " + timeout + "); rank(s) " + missing +
                         " did not arrive (dead or stalled); aborting the job");
  std::abort();  // not reached: abort_stalled ends the process
}

// In blocks that stay in L1: the block's sum is finished before it is handed on, so `out` may
// be one of the buffers being summed.
double NodeSharedReduce::sum(std::size_t begin, std::size_t end, float* out, bool squares) const {
  return sum_blocks(begin, end, squares, [&](std::size_t lo, std::span<float> sums) {
    std::copy(sums.begin(), sums.end(), out + (lo - begin));
  });
}

double NodeSharedReduce::sum_blocks(std::size_t begin, std::size_t end, bool squares,
                                    const std::function<void(std::size_t, std::span<float>)>& use) const {
  constexpr std::size_t kBlock = 1024;
  alignas(64) float block[kBlock];
  double check = 0;
  for (std::size_t lo = begin; lo < end; lo += kBlock) {
    const std::size_t n = std::min(kBlock, end - lo);
    const float* first = buffer(0).data() + lo;
    std::copy(first, first + n, block);
    for (int q = 1; q < size_; ++q) {
      const float* b = buffer(q).data() + lo;
      for (std::size_t i = 0; i < n; ++i) block[i] += b[i];
    }
    const Eigen::Map<const Eigen::ArrayXf> sums(block, static_cast<Eigen::Index>(n));
    if (squares) {
      check += sums.cast<double>().square().sum();
    } else if (!all_finite(block, n)) {
      check = NAN;
    }
    use(lo, std::span<float>(block, n));
  }
  return check;
}

void NodeSharedReduce::sum_fixed(std::size_t begin, std::size_t end, double unit, float* out) const {
  constexpr std::size_t kBlock = 512;
  alignas(64) std::int64_t block[kBlock];
  for (std::size_t lo = begin; lo < end; lo += kBlock) {
    const std::size_t n = std::min(kBlock, end - lo);
    const std::int64_t* first = fixed_buffer(0).data() + lo;
    std::copy(first, first + n, block);
    for (int q = 1; q < size_; ++q) {
      const std::int64_t* b = fixed_buffer(q).data() + lo;
      for (std::size_t i = 0; i < n; ++i) block[i] += b[i];
    }
    for (std::size_t i = 0; i < n; ++i) out[lo - begin + i] = static_cast<float>(static_cast<double>(block[i]) * unit);
  }
}

}  // namespace dptrain
