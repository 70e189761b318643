// TrainConfig: the options validated once into typed values; every bad option names itself.
#include "dptrain/train_config.hpp"

#include <gtest/gtest.h>

#include "dptrain/error.hpp"

namespace dptrain {
namespace {

std::string error_of(const TrainOptions& o, int ranks = 1) {
  try {
    validate_train_options(o, ranks);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainConfigTest, DefaultsBecomeTypedValues) {
  const TrainConfig c = validate_train_options(TrainOptions{}, 4);
  EXPECT_EQ(c.sync, SyncMode::gradients);
  EXPECT_TRUE(c.gradient_sync());
  EXPECT_EQ(c.on_nan, NanPolicy::stop);
  EXPECT_EQ(c.resume, ResumeMode::none);
  EXPECT_FALSE(c.loss.has_value());  // auto: chosen from the labels
  EXPECT_EQ(c.activation, Activation::ReLU);
  EXPECT_EQ(c.checkpoint_every.every, 0);
}

TEST(TrainConfigTest, ParsesEveryEnumeratedOption) {
  TrainOptions o;
  o.sync = "params";
  o.on_nan = "skip-step";
  o.loss = "bce";
  o.activation = "tanh";
  o.checkpoint_dir = "ck";
  o.checkpoint_every = "500steps";
  o.resume = "auto";
  const TrainConfig c = validate_train_options(o, 2);
  EXPECT_EQ(c.sync, SyncMode::parameters);
  EXPECT_EQ(c.on_nan, NanPolicy::skip_step);
  EXPECT_EQ(c.loss, LossKind::BinaryCrossEntropy);
  EXPECT_EQ(c.activation, Activation::Tanh);
  EXPECT_EQ(c.checkpoint_every.every, 500);
  EXPECT_TRUE(c.checkpoint_every.in_steps);
  EXPECT_EQ(c.resume, ResumeMode::latest_in_dir);
  EXPECT_EQ(c.resume_path(), "ck");
  o.resume = "ck/ckpt-e00001-s0000000016.h5";
  EXPECT_EQ(validate_train_options(o, 2).resume, ResumeMode::from_path);
  EXPECT_EQ(validate_train_options(o, 2).resume_path(), o.resume);
}

TEST(TrainConfigTest, BadOptionsNameTheOption) {
  TrainOptions o;
  o.sync = "sometimes";
  EXPECT_EQ(error_of(o), "--sync 'sometimes': expected grad or params");
  o = {};
  o.on_nan = "ignore";
  EXPECT_EQ(error_of(o), "--on-nan 'ignore': expected stop or skip-step");
  o = {};
  o.threads = 0;
  EXPECT_EQ(error_of(o), "--threads must be at least 1");
  o = {};
  o.epochs = 0;
  EXPECT_EQ(error_of(o), "--epochs must be at least 1");
  o = {};
  o.resume = "auto";
  EXPECT_EQ(error_of(o), "--resume auto needs --checkpoint-dir");
  o = {};
  o.checkpoint_every = "2epochs";
  EXPECT_EQ(error_of(o), "--checkpoint-every needs --checkpoint-dir");
  o = {};
  o.keep_last = 0;  // would keep nothing, or (as -1 once did) everything
  EXPECT_EQ(error_of(o), "--keep-last must be at least 1");
  o = {};
  o.sync = "params";
  o.deterministic = true;
  EXPECT_EQ(error_of(o), "--deterministic needs --sync grad (local SGD depends on the rank count)");
  o = {};
  o.sync = "params";
  o.batch = 3;
  EXPECT_NE(error_of(o, 4).find("--sync params with --batch 3 on 4 ranks"), std::string::npos);
  EXPECT_EQ(error_of(o, 3), "");
  o = {};
  o.val_fraction = 1;
  EXPECT_EQ(error_of(o), "--val-fraction must be in [0, 1)");
}

}  // namespace
}  // namespace dptrain
