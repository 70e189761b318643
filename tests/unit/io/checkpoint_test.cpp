#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dptrain/checkpoint.hpp"
#include "dptrain/error.hpp"
#include "checkpoint_sample.hpp"

using namespace dptrain;
namespace fs = std::filesystem;

namespace {
Checkpoint sample() { return dptrain::test_data::sample_checkpoint(); }
}  // namespace

TEST(Checkpoint, RoundTripsModelAndTrainingState) {
  const std::string path = (fs::temp_directory_path() / "dptrain-ckpt-test.h5").string();
  const Checkpoint c = sample();
  save_checkpoint(path, c);
  const Checkpoint r = load_checkpoint(path);
  EXPECT_EQ(r.spec, c.spec);
  EXPECT_EQ(r.params, c.params);
  EXPECT_EQ(r.optimizer, "adam");
  EXPECT_EQ(r.optimizer_state, c.optimizer_state);
  EXPECT_EQ(r.optimizer_steps, 12);
  EXPECT_EQ(r.epoch, 3);
  EXPECT_EQ(r.global_step, 12);
  EXPECT_EQ(r.epoch_step, 2);
  EXPECT_EQ(r.seed, 77u);
  EXPECT_EQ(r.data_rows, 40);
  EXPECT_EQ(r.config, "lr=0.1\n");
  EXPECT_FALSE(r.text.has_value());
  fs::remove(path);
}

TEST(Checkpoint, KeepsTheTrainingDataTextSettings) {
  const std::string path = (fs::temp_directory_path() / "dptrain-ckpt-text.h5").string();
  Checkpoint c = sample();
  c.text = TextFeatureOptions{3, 18, "raw", "none"};
  save_checkpoint(path, c);
  const Checkpoint r = load_checkpoint(path);
  ASSERT_TRUE(r.text.has_value());
  EXPECT_EQ(*r.text, *c.text);
  // The settings are part of the checksum: the same model with other settings sums differently.
  Checkpoint other = c;
  other.text->ngrams = 2;
  EXPECT_NE(checksum(other), checksum(c));
  c.text.reset();
  EXPECT_NE(checksum(c), checksum(other));
  fs::remove(path);
}

TEST(Checkpoint, DetectsTruncationAndOtherFiles) {
  const std::string path = (fs::temp_directory_path() / "dptrain-ckpt-trunc.h5").string();
  save_checkpoint(path, sample());
  fs::resize_file(path, fs::file_size(path) / 2);
  try {
    load_checkpoint(path);
    FAIL() << "no exception";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  fs::remove(path);
  EXPECT_THROW(load_checkpoint(path), CheckpointError);
}
