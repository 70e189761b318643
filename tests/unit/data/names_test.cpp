// Names as HDF5 string arrays (names.hpp), the older joined strings, and the checkpoint's
// optional names and early-stopping state (io/checkpoint_extras.cpp).
#include <gtest/gtest.h>

#include "../io/checkpoint_sample.hpp"
#include "../temp_dir.hpp"
#include "dptrain/checkpoint.hpp"
#include "dptrain/error.hpp"
#include "dptrain/names.hpp"

using namespace dptrain;

namespace {
const std::vector<std::string> kClasses = {"Iris, setosa", "versicolor", "virginica \xC3\xBC"};
}  // namespace

TEST(Names, StringArraysRoundTripWithCommasAndUtf8) {
  test_util::TempDir dir("dptrain-names");
  const std::string path = dir / "n.h5";
  {
    H5Writer w(path);
    const float x[2] = {1, 2};
    const std::int64_t y[1] = {0};
    w.write("/features", {1, 2}, x);
    w.write("/labels", {1}, y);
    w.set_string_array("/labels", "classes", kClasses);
    w.set_string_array("/features", "columns", {"a,b"});  // one name with a comma stays one name
    w.set_string_array("/", "empty", {});
    w.close();
  }
  H5Reader r(path);
  EXPECT_EQ(read_class_names(r, "/labels"), kClasses);
  EXPECT_EQ(read_column_names(r, "/features"), std::vector<std::string>{"a,b"});
  EXPECT_TRUE(read_names(r, "/", "empty").empty());
  EXPECT_TRUE(read_names(r, "/", "missing").empty());
  EXPECT_TRUE(read_names(r, "/nowhere", "classes").empty());
}

TEST(Names, OlderJoinedStringsAreSplit) {
  test_util::TempDir dir("dptrain-names-old");
  const std::string path = dir / "old.h5";
  {
    H5Writer w(path);
    const std::int64_t y[1] = {0};
    w.write("/labels", {1}, y);
    w.set_attribute("/labels", "class-names", "spam\nham");  // text convert before string arrays
    w.set_attribute("/", "classes", "cat,dog,bird");           // csv convert before string arrays
    w.set_attribute("/", "widths", std::vector<std::int64_t>{1, 2});
    w.close();
  }
  H5Reader r(path);
  EXPECT_EQ(read_class_names(r, "/labels"), (std::vector<std::string>{"spam", "ham"}));
  EXPECT_EQ(read_names(r, "/", "classes"), (std::vector<std::string>{"cat", "dog", "bird"}));
  EXPECT_TRUE(read_names(r, "/", "widths").empty());  // not strings: no names
}

TEST(Names, ByteOrderMarkAndCounts) {
  EXPECT_EQ(strip_utf8_bom("\xEF\xBB\xBFname"), "name");
  EXPECT_EQ(strip_utf8_bom("name"), "name");
  EXPECT_EQ(names_if_count(kClasses, 3), kClasses);
  EXPECT_TRUE(names_if_count(kClasses, 4).empty());
  EXPECT_EQ(probability_column(kClasses, 0), "p_Iris, setosa");
  EXPECT_EQ(probability_column({}, 2), "p_2");
}

TEST(CheckpointExtras, NamesAndEarlyStoppingStateRoundTripAndAreChecksummed) {
  test_util::TempDir dir("dptrain-ckpt-extras");
  Checkpoint c = test_data::sample_checkpoint();
  const std::uint64_t plain = checksum(c);
  c.class_names = {"no", "yes"};
  c.column_names = {"x", "y, z", "w"};
  c.early_stopping = EarlyStoppingState{"val_loss", 4, 2, 0.375, c.params};
  c.early_stopping->best_params[0] += 1;
  EXPECT_NE(checksum(c), plain);
  save_checkpoint(dir / "c.h5", c);
  const Checkpoint back = load_checkpoint(dir / "c.h5");
  EXPECT_EQ(back.class_names, c.class_names);
  EXPECT_EQ(back.column_names, c.column_names);
  ASSERT_TRUE(back.early_stopping.has_value());
  EXPECT_EQ(back.early_stopping->metric, "val_loss");
  EXPECT_EQ(back.early_stopping->best_epoch, 4);
  EXPECT_EQ(back.early_stopping->epochs_since_best, 2);
  EXPECT_EQ(back.early_stopping->best, 0.375);
  EXPECT_EQ(back.early_stopping->best_params, c.early_stopping->best_params);

  // Without the optional parts the checksum is what it was before they existed.
  Checkpoint bare = test_data::sample_checkpoint();
  save_checkpoint(dir / "bare.h5", bare);
  const Checkpoint bare_back = load_checkpoint(dir / "bare.h5");
  EXPECT_EQ(checksum(bare_back), plain);
  EXPECT_FALSE(bare_back.early_stopping.has_value());
  EXPECT_TRUE(bare_back.class_names.empty());
}
