#pragma once
// A small checkpoint with training state, shared by the checkpoint tests.
#include "dptrain/checkpoint.hpp"

namespace dptrain::test_data {

inline Checkpoint sample_checkpoint() {
  Checkpoint c;
  c.spec = make_model_spec("mlp:4", 3, 2, LossKind::SoftmaxCrossEntropy, Activation::Tanh);
  c.params = initial_parameters(c.spec, 9);
  c.optimizer = "adam";
  c.optimizer_steps = 12;
  c.optimizer_state = {{"m", std::vector<float>(c.params.size(), 0.25f)},
                       {"v", std::vector<float>(c.params.size(), 0.5f)}};
  c.epoch = 3;
  c.global_step = 12;
  c.epoch_step = 2;
  c.seed = 77;
  c.data_rows = 40;
  c.global_batch = 8;
  c.config = "lr=0.1\n";
  return c;
}

}  // namespace dptrain::test_data
