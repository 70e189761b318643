#pragma once
// What one training step sends between ranks, in one place: the gradient sum with the step's
// row count, loss, correct predictions and flags behind it (one allreduce, or gradient buckets
// started during backprop and the rest after), as float or as exact fixed-point integers.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "dptrain/aligned.hpp"
#include "dptrain/communicator.hpp"
#include "dptrain/model.hpp"

namespace dptrain {

// Everything one step moves through the allreduce: the gradient sum followed by
// [rows, loss, correct, failed, stop, non-finite]. In --deterministic mode the same travels as
// fixed-point integers, whose sums are exact.
class StepExchange {
 public:
  StepExchange(std::size_t n_params, bool deterministic)
      : n_(n_params), grad_(n_params + kExtras, 0.0f),
        fixed_(deterministic ? n_params + kExtras : 0, 0) {}
  bool deterministic() const { return !fixed_.empty(); }
  float* grad() { return grad_.data(); }
  std::int64_t* fixed() { return fixed_.data(); }

  struct Totals {
    double rows = 0, loss = 0, correct = 0;
    bool failed = false, stop = false;
  };
  // How reduce() communicates: the whole buffer in one allreduce; only the extras, the
  // gradient buckets having been started during backprop (then it waits for all); or not at
  // all (local SGD steps).
  enum class Mode { Whole, ExtrasAfterBuckets, Local };

  // Sums over ranks. Afterwards grad() holds the global gradient sum as float.
  Totals reduce(Communicator& comm, double rows, const BatchStats& s, bool failed, bool stop,
                Mode mode) {
    const bool communicate = mode == Mode::Whole;
    Totals t;
    if (deterministic()) {
      // compute_fixed left the loss in slot n_ (fixed point); move it behind the extras.
      const std::int64_t loss = failed ? 0 : fixed_[n_];
      if (failed) std::fill(fixed_.begin(), fixed_.end(), 0);
      fixed_[n_] = static_cast<std::int64_t>(rows);
      fixed_[n_ + 1] = loss;
      fixed_[n_ + 2] = static_cast<std::int64_t>(s.correct);
      fixed_[n_ + 3] = failed;
      fixed_[n_ + 4] = stop;
      fixed_[n_ + 5] = !failed && std::isnan(s.loss);
      if (communicate) comm.allreduce_sum(std::span<std::int64_t>(fixed_), "gradient allreduce");
      constexpr double kUnit = 1.0 / 4294967296.0;
      for (std::size_t i = 0; i < n_; ++i) grad_[i] = static_cast<float>(fixed_[i] * kUnit);
      t = {static_cast<double>(fixed_[n_]), fixed_[n_ + 5] > 0 ? NAN : fixed_[n_ + 1] * kUnit,
           static_cast<double>(fixed_[n_ + 2]), fixed_[n_ + 3] > 0, fixed_[n_ + 4] > 0};
    } else {
      if (failed && mode != Mode::ExtrasAfterBuckets) std::fill(grad_.begin(), grad_.end(), 0.0f);
      grad_[n_] = static_cast<float>(rows);
      grad_[n_ + 1] = static_cast<float>(failed ? 0.0 : s.loss);
      grad_[n_ + 2] = static_cast<float>(failed ? 0.0 : s.correct);
      grad_[n_ + 3] = failed;
      grad_[n_ + 4] = stop;
      if (communicate) comm.allreduce_sum(std::span<float>(grad_), "gradient allreduce");
      if (mode == Mode::ExtrasAfterBuckets) {
        comm.start_allreduce_sum(std::span<float>(grad_).subspan(n_), "gradient allreduce");
        comm.finish_pending();
      }
      t = {grad_[n_], grad_[n_ + 1], grad_[n_ + 2], grad_[n_ + 3] > 0, grad_[n_ + 4] > 0};
    }
    return t;
  }

 private:
  static constexpr std::size_t kExtras = 6;
  std::size_t n_;
  AlignedVector<float> grad_;
  std::vector<std::int64_t> fixed_;
};

// Starts the allreduce of each gradient bucket as soon as backprop has finished it.
struct BucketSender final : GradientReady {
  Communicator* comm = nullptr;
  float* grad = nullptr;
  std::size_t started = 0;
  void operator()(std::size_t begin, std::size_t end) override {
    comm->start_allreduce_sum({grad + begin, end - begin}, "gradient allreduce");
    comm->progress();
    ++started;
  }
};

}  // namespace dptrain
