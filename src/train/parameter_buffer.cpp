#include "parameter_buffer.hpp"

#include <algorithm>

#include "dptrain/error.hpp"

namespace dptrain {

ParameterBuffer& ParameterBuffer::operator=(AlignedVector<float> values) {
  own_ = std::move(values);
  at_ = own_;
  return *this;
}

void ParameterBuffer::assign(std::span<const float> values) {
  if (values.size() != at_.size())
    throw InternalError("ParameterBuffer::assign: " + std::to_string(values.size()) + " values for " +
                        std::to_string(at_.size()) + " parameters");
  std::copy(values.begin(), values.end(), at_.begin());
}

void ParameterBuffer::live_in(std::span<float> shared) {
  if (shared.size() != at_.size())
    throw InternalError("ParameterBuffer::live_in: " + std::to_string(shared.size()) + " places for " +
                        std::to_string(at_.size()) + " parameters");
  at_ = shared;
  own_ = AlignedVector<float>();
}

void ParameterBuffer::bring_home() {
  if (at_.data() == own_.data()) return;
  own_.assign(at_.begin(), at_.end());
  at_ = own_;
}

AlignedVector<float> ParameterBuffer::take() {
  bring_home();
  at_ = {};
  return std::move(own_);
}

}  // namespace dptrain
