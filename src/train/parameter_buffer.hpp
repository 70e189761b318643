#pragma once
// The model's parameters as one flat buffer, where the training loop reads and updates them:
// in memory of their own, or (the node exchange) in memory that every rank of the node maps,
// one copy for all of them, which each rank's update changes in its part, so that no rank
// copies the others' parts after a step (GradientSync::place_parameters).
#include <cstddef>
#include <span>

#include "dptrain/aligned.hpp"

namespace dptrain {

class ParameterBuffer {
 public:
  // Owns `values` from now on.
  ParameterBuffer& operator=(AlignedVector<float> values);
  // Copies `values` (as many as there are parameters) to wherever the parameters are.
  void assign(std::span<const float> values);

  std::span<float> span() const { return at_; }
  float* data() const { return at_.data(); }
  std::size_t size() const { return at_.size(); }

  // The parameters are at `shared` now (their values copied there already): the own copy is
  // freed. The memory must outlive this use or the next bring_home().
  void live_in(std::span<float> shared);
  // Back in memory of their own (a copy of the shared values), before that memory goes away
  // and before anything that writes them on every rank (restoring the best epoch's).
  void bring_home();
  // The values, leaving this buffer empty.
  AlignedVector<float> take();

 private:
  AlignedVector<float> own_;
  std::span<float> at_;
};

}  // namespace dptrain
