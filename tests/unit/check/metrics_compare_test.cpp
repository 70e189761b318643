// Metrics files compared record by record: identical and slightly different runs, ignored
// timing fields, arrays (eval --json) flattened with their indices, records or fields in one
// file only, null against a number, and lines that are not JSON objects.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dptrain/error.hpp"
#include "dptrain/metrics_compare.hpp"
#include "../temp_dir.hpp"

namespace dptrain {
namespace {

struct TempDir : test_util::TempDir {
  TempDir() : test_util::TempDir("dptrain-metrics-compare") {}
};

const char* kBase =
    "{\"epoch\": 1, \"train_loss\": 0.9, \"train_accuracy\": 0.6, \"val_loss\": null, \"epoch_s\": 0.5, "
    "\"samples_per_s\": 1000, \"ranks\": 2, \"threads\": 1}\n"
    "{\"epoch\": 2, \"train_loss\": 0.5, \"train_accuracy\": 0.8, \"val_loss\": null, \"epoch_s\": 0.4, "
    "\"samples_per_s\": 1200, \"ranks\": 2, \"threads\": 1}\n";

TEST(MetricsCompare, TimingsAndLayoutAreIgnoredValuesCompared) {
  TempDir dir;
  const auto base = dir.write("base.jsonl", kBase);
  const auto same = dir.write("same.jsonl",
                              "{\"epoch\": 1, \"train_loss\": 0.9, \"train_accuracy\": 0.6, \"val_loss\": null, "
                              "\"epoch_s\": 9, \"samples_per_s\": 5, \"ranks\": 3, \"threads\": 2}\n"
                              "{\"epoch\": 2, \"train_loss\": 0.5, \"train_accuracy\": 0.8, \"val_loss\": null, "
                              "\"epoch_s\": 8, \"samples_per_s\": 6, \"ranks\": 3, \"threads\": 2}\n");
  MetricsCompareOptions o;
  o.tolerance = {0, 0};
  const MetricsComparison r = compare_metrics_files(base, same, o);
  EXPECT_TRUE(r.within_tolerance());
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.values, 8u);  // epoch, train_loss, train_accuracy, val_loss per record
  EXPECT_EQ(r.ignored, (std::vector<std::string>{"epoch_s", "ranks", "samples_per_s", "threads"}));
  const std::string text = format_metrics_comparison(r, base, same, o.tolerance);
  EXPECT_NE(text.find("PASS: all 8 values are identical"), std::string::npos) << text;
}

TEST(MetricsCompare, ADifferentLossFailsUnlessTolerated) {
  TempDir dir;
  const auto base = dir.write("base.jsonl", kBase);
  std::string changed = kBase;
  changed.replace(changed.find("0.5, \"train_accuracy\": 0.8"), 3, "0.51");
  const auto candidate = dir.write("new.jsonl", changed);
  MetricsCompareOptions o;
  o.tolerance = {1e-3, 0};
  const MetricsComparison r = compare_metrics_files(base, candidate, o);
  EXPECT_FALSE(r.within_tolerance());
  EXPECT_EQ(r.beyond, 1u);
  ASSERT_TRUE(r.worst);
  EXPECT_EQ(r.worst->record, "epoch 2");
  EXPECT_EQ(r.worst->field, "train_loss");
  const std::string text = format_metrics_comparison(r, base, candidate, o.tolerance);
  EXPECT_NE(text.find("FAIL: 1 of 8 values differ beyond rtol 0.001, atol 0; worst epoch 2 train_loss: base = 0.5, "
                      "new = 0.51"),
            std::string::npos)
      << text;
  o.tolerance = {0.05, 0};
  EXPECT_TRUE(compare_metrics_files(base, candidate, o).within_tolerance());
  o.ignore.push_back("train_loss");
  o.tolerance = {0, 0};
  EXPECT_TRUE(compare_metrics_files(base, candidate, o).within_tolerance());
}

TEST(MetricsCompare, MissingEpochsFieldsAndNullsAreDifferences) {
  TempDir dir;
  const auto base = dir.write("base.jsonl", kBase);
  const auto short_run = dir.write("short.jsonl",
                                   "{\"epoch\": 1, \"train_loss\": 0.9, \"train_accuracy\": 0.6, \"val_loss\": 1.0}\n");
  const MetricsComparison r = compare_metrics_files(base, short_run, {});
  EXPECT_FALSE(r.within_tolerance());
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_NE(r.differences[0].find("epoch 2 is in"), std::string::npos) << r.differences[0];
  EXPECT_EQ(r.beyond, 1u);  // val_loss: null against 1.0
  EXPECT_EQ(r.worst->field, "val_loss");
  const auto extra = dir.write("extra.jsonl",
                               "{\"epoch\": 1, \"train_loss\": 0.9, \"train_accuracy\": 0.6, \"val_loss\": null}\n"
                               "{\"epoch\": 2, \"train_loss\": 0.5, \"val_loss\": null, \"new_field\": 1}\n");
  const MetricsComparison s = compare_metrics_files(base, extra, {});
  ASSERT_EQ(s.differences.size(), 2u);
  EXPECT_NE(s.differences[0].find("epoch 2: field 'train_accuracy' is in"), std::string::npos) << s.differences[0];
  EXPECT_NE(s.differences[1].find("'new_field'"), std::string::npos) << s.differences[1];
}

TEST(MetricsCompare, EvalJsonArraysAreComparedElementByElement) {
  TempDir dir;
  const auto a = dir.write("a.json",
                           "{\"model\": \"a.h5\", \"seconds\": 0.1, \"accuracy\": 0.9, \"f1\": [0.8, 0.9], "
                           "\"confusion\": [[5, 1], [0, 4]]}\n");
  const auto b = dir.write("b.json",
                           "{\"model\": \"b.h5\", \"seconds\": 0.3, \"accuracy\": 0.9, \"f1\": [0.8, 0.9], "
                           "\"confusion\": [[5, 1], [1, 3]]}\n");
  const MetricsComparison r = compare_metrics_files(a, b, {});
  EXPECT_EQ(r.values, 7u);
  EXPECT_EQ(r.beyond, 2u);
  ASSERT_FALSE(r.largest.empty());
  EXPECT_EQ(r.largest[0].record, "record 1");
  EXPECT_EQ(r.largest[0].field, "confusion[1][0]");
  EXPECT_EQ(r.ignored, (std::vector<std::string>{"model", "seconds"}));  // text and timing
}

TEST(MetricsCompare, BadLinesNameTheFileAndLine) {
  TempDir dir;
  const auto good = dir.write("good.jsonl", kBase);
  const auto bad = dir.write("bad.jsonl", "{\"epoch\": 1}\n\n{\"epoch\": 2, \n");
  try {
    compare_metrics_files(good, bad, {});
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl line 3: not JSON"), std::string::npos) << e.what();
  }
  const auto list = dir.write("list.jsonl", "[1, 2]\n");
  EXPECT_THROW(compare_metrics_files(good, list, {}), DataError);
  EXPECT_THROW(compare_metrics_files(good, dir.write("empty.jsonl", "\n"), {}), DataError);
  EXPECT_THROW(compare_metrics_files(good, (dir.path / "missing.jsonl").string(), {}), DataError);
}

}  // namespace
}  // namespace dptrain
