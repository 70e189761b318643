// --fail-under / --fail-over: parsing, usage errors that list the valid metrics, metric
// lookup for classifiers and regression models, and pass/fail at, under and over a limit.
#include <gtest/gtest.h>

#include <cmath>

#include "dptrain/thresholds.hpp"

namespace dptrain {
namespace {

Metrics classifier() {
  Metrics m;
  m.classifier = true;
  m.rows = 10;
  m.loss = 0.4;
  m.accuracy = 0.85;
  m.precision = {0.9, 0.7};
  m.recall = {0.8, 0.75};
  m.f1 = {0.85, 0.72};
  m.support = {5, 5};
  m.macro_precision = 0.8;
  m.macro_recall = 0.775;
  m.macro_f1 = 0.785;
  return m;
}

Metrics regression() {
  Metrics m;
  m.rows = 10;
  m.loss = m.mse = 0.25;
  m.mae = 0.4;
  m.r2 = 0.9;
  m.target_mse = {0.2, 0.3};
  m.target_mae = {0.35, 0.45};
  m.target_r2 = {0.92, 0.88};
  return m;
}

std::string usage_message(const std::string& text, Bound bound) {
  try {
    parse_thresholds(text, bound);
  } catch (const ThresholdUsageError& e) {
    return e.what();
  }
  return "";
}

TEST(Thresholds, ParsesNamesValuesAndBounds) {
  const auto t = parse_thresholds("accuracy=0.85, f1_macro = 0.8,recall.1=0.7", Bound::Under);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].metric, "accuracy");
  EXPECT_DOUBLE_EQ(t[0].limit, 0.85);
  EXPECT_EQ(t[1].metric, "f1_macro");
  EXPECT_EQ(t[2].metric, "recall.1");
  EXPECT_EQ(t[0].option(), "--fail-under accuracy=0.85");
  EXPECT_EQ(t[0].condition(), "accuracy >= 0.85");
  const auto o = parse_thresholds("loss=0.5,mse=1e-2", Bound::Over);
  EXPECT_EQ(o[1].condition(), "mse <= 0.01");
}

TEST(Thresholds, UsageErrorsNameTheItemAndListValidMetrics) {
  const std::string unknown = usage_message("accuracy=0.8,acuracy=0.9", Bound::Under);
  EXPECT_NE(unknown.find("unknown metric 'acuracy'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("macro_f1"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("r2"), std::string::npos) << unknown;
  EXPECT_NE(usage_message("accuracy", Bound::Under).find("expected METRIC=VALUE"), std::string::npos);
  EXPECT_NE(usage_message("accuracy=high", Bound::Under).find("not a finite number"), std::string::npos);
  EXPECT_NE(usage_message("loss=nan", Bound::Over).find("--fail-over 'loss=nan'"), std::string::npos);
  EXPECT_NE(usage_message("", Bound::Under), "");
  EXPECT_NE(usage_message("recall.x=1", Bound::Under).find("unknown metric"), std::string::npos);
  EXPECT_NE(usage_message("accuracy.2=1", Bound::Under).find("unknown metric"), std::string::npos);
}

TEST(Thresholds, MetricValuesForBothKindsOfModel) {
  const Metrics c = classifier();
  EXPECT_DOUBLE_EQ(metric_value(c, "accuracy"), 0.85);
  EXPECT_DOUBLE_EQ(metric_value(c, "f1_macro"), 0.785);
  EXPECT_DOUBLE_EQ(metric_value(c, "macro_f1"), 0.785);
  EXPECT_DOUBLE_EQ(metric_value(c, "recall_macro"), 0.775);
  EXPECT_DOUBLE_EQ(metric_value(c, "precision.0"), 0.9);
  EXPECT_DOUBLE_EQ(metric_value(c, "f1.1"), 0.72);
  EXPECT_DOUBLE_EQ(metric_value(c, "loss"), 0.4);
  EXPECT_THROW(metric_value(c, "mse"), ThresholdUsageError);
  EXPECT_THROW(metric_value(c, "recall.2"), ThresholdUsageError);
  const Metrics r = regression();
  EXPECT_DOUBLE_EQ(metric_value(r, "mse"), 0.25);
  EXPECT_DOUBLE_EQ(metric_value(r, "mae"), 0.4);
  EXPECT_DOUBLE_EQ(metric_value(r, "r2"), 0.9);
  EXPECT_DOUBLE_EQ(metric_value(r, "r2.1"), 0.88);
  EXPECT_THROW(metric_value(r, "accuracy"), ThresholdUsageError);
}

TEST(Thresholds, PassAtTheLimitFailBeyondItAndOnNaN) {
  Metrics c = classifier();
  auto results = check_thresholds(c, parse_thresholds("accuracy=0.85,f1.1=0.8", Bound::Under));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].passed);  // equal to the limit passes
  EXPECT_FALSE(results[1].passed);
  EXPECT_EQ(results[1].message(), "f1.1 = 0.72 is under 0.8 (--fail-under f1.1=0.8)");
  EXPECT_EQ(results[0].message(), "accuracy = 0.85 >= 0.85 (--fail-under accuracy=0.85)");
  results = check_thresholds(c, parse_thresholds("loss=0.3", Bound::Over));
  EXPECT_FALSE(results[0].passed);
  EXPECT_EQ(results[0].message(), "loss = 0.4 is over 0.3 (--fail-over loss=0.3)");
  c.loss = std::nan("");
  results = check_thresholds(c, parse_thresholds("loss=0.3", Bound::Over));
  EXPECT_FALSE(results[0].passed);
  EXPECT_NE(results[0].message().find("not a number"), std::string::npos);
  // A metric that does not apply fails the whole check before any result.
  EXPECT_THROW(check_thresholds(c, parse_thresholds("accuracy=0.1,mse=1", Bound::Under)), ThresholdUsageError);
}

}  // namespace
}  // namespace dptrain
