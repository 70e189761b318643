// JUnit XML: escaping, counts, one case per threshold (failed ones with a <failure>) and one
// per class or regression target with the numbers as properties. (The e2e test checks the
// file `eval --junit` writes with xmllint and Python's XML parser.)
#include <gtest/gtest.h>

#include <regex>

#include "dptrain/junit.hpp"

namespace dptrain {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

EvalResult classifier_result() {
  EvalResult r;
  r.spec = make_model_spec("softmax", 4, 3, LossKind::SoftmaxCrossEntropy, Activation::ReLU);
  Metrics& m = r.metrics;
  m.classifier = true;
  m.rows = 30;
  m.loss = 0.5;
  m.accuracy = 0.8;
  m.precision = {0.9, 0.8, 0.7};
  m.recall = {0.85, 0.8, 0.75};
  m.f1 = {0.87, 0.8, 0.72};
  m.support = {10, 10, 10};
  m.macro_f1 = 0.797;
  r.seconds = 0.25;
  return r;
}

TEST(Junit, EscapesMarkupAndDropsControlCharacters) {
  EXPECT_EQ(xml_escape("a<b & \"c\" > 'd'"), "a&lt;b &amp; &quot;c&quot; &gt; &apos;d&apos;");
  EXPECT_EQ(xml_escape(std::string("x\x01y\tz\n")), "xy\tz\n");
}

TEST(Junit, CountsCasesAndFailures) {
  JunitSuite s{"suite <1>", "2026-12-01T08:00:00", 1.5, {{"k", "v&"}}, {}};
  s.cases.push_back({"g", "passes", std::nullopt, {}, ""});
  s.cases.push_back({"g", "fails", std::string("too low: 1 < 2"), {}, "details"});
  const std::string xml = to_junit_xml(s);
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0), 0u);
  EXPECT_EQ(count(xml, "tests=\"2\" failures=\"1\" errors=\"0\""), 2u);  // testsuites and testsuite
  EXPECT_EQ(count(xml, "<testcase "), 2u);
  EXPECT_EQ(count(xml, "<failure "), 1u);
  EXPECT_NE(xml.find("message=\"too low: 1 &lt; 2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"suite &lt;1&gt;\""), std::string::npos);
  EXPECT_NE(xml.find("<property name=\"k\" value=\"v&amp;\"/>"), std::string::npos);
}

TEST(Junit, EvalSuiteHasOneCasePerThresholdAndPerClass) {
  const EvalResult r = classifier_result();
  auto under = parse_thresholds("accuracy=0.85,f1_macro=0.7", Bound::Under);
  const auto results = check_thresholds(r.metrics, under);
  const JunitSuite s = eval_junit_suite(r, {"m.h5", {"a.h5", "b.h5"}, 2, 1}, results);
  ASSERT_EQ(s.cases.size(), 5u);
  EXPECT_EQ(s.cases[0].name, "accuracy >= 0.85");
  ASSERT_TRUE(s.cases[0].failure);
  EXPECT_EQ(*s.cases[0].failure, "accuracy = 0.8 is under 0.85 (--fail-under accuracy=0.85)");
  EXPECT_FALSE(s.cases[1].failure);
  EXPECT_EQ(s.cases[2].name, "class 0");
  EXPECT_EQ(s.cases[4].classname, "dptrain.eval.classes");
  EXPECT_EQ(s.cases[4].properties[1].name, "recall");
  EXPECT_EQ(s.cases[4].properties[1].value, "0.75");
  EXPECT_TRUE(std::regex_match(s.timestamp, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)"))) << s.timestamp;
  bool has_data = false;
  for (const auto& p : s.properties) has_data = has_data || (p.name == "data" && p.value == "a.h5,b.h5");
  EXPECT_TRUE(has_data);
  const std::string xml = to_junit_xml(s);
  EXPECT_EQ(count(xml, "failures=\"1\""), 2u);
}

TEST(Junit, RegressionCasesPerTarget) {
  EvalResult r;
  r.spec = make_model_spec("linear", 3, 2, LossKind::MeanSquaredError, Activation::ReLU);
  r.metrics.target_mse = {0.1, 0.2};
  r.metrics.target_mae = {0.3, 0.4};
  r.metrics.target_r2 = {0.9, 0.8};
  const JunitSuite s = eval_junit_suite(r, {"lin.h5", {"r.h5"}, 1, 1}, {});
  ASSERT_EQ(s.cases.size(), 2u);
  EXPECT_EQ(s.cases[1].name, "target 1");
  EXPECT_EQ(s.cases[1].system_out, "mse 0.2 mae 0.4 r2 0.8");
}

}  // namespace
}  // namespace dptrain
