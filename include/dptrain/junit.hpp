#pragma once
// JUnit XML, the report format CI systems (GitLab, Jenkins, GitHub test reporters) render:
// one <testsuites> with one <testsuite> of <testcase>s, each passed or with a <failure>.
// `dptrain eval --junit FILE` writes one case per threshold and one per class (or target).
#include <optional>
#include <string>
#include <vector>

#include "dptrain/evaluation.hpp"
#include "dptrain/thresholds.hpp"

namespace dptrain {

struct JunitProperty {
  std::string name, value;
};

struct JunitCase {
  std::string classname;  // a dotted group, e.g. "dptrain.eval.thresholds"
  std::string name;
  std::optional<std::string> failure;  // the failure message; none: passed
  std::vector<JunitProperty> properties;
  std::string system_out;  // text shown with the case
};

struct JunitSuite {
  std::string name;
  std::string timestamp;  // ISO 8601, UTC
  double seconds = 0;
  std::vector<JunitProperty> properties;
  std::vector<JunitCase> cases;
};

// Text made safe for XML attributes and content: & < > " ' escaped; characters XML 1.0
// does not allow (control characters other than tab, newline, carriage return) dropped.
std::string xml_escape(const std::string& text);

std::string to_junit_xml(const JunitSuite& suite);

// Writes the XML to `path` atomically (temporary file, fsync, rename); throws DataError
// naming the file when it cannot be written.
void write_junit_file(const std::string& path, const JunitSuite& suite);

// The current UTC time as "2026-12-01T08:15:00".
std::string utc_timestamp();

struct EvalRun {
  std::string model;               // checkpoint path
  std::vector<std::string> data;   // data files
  int ranks = 1, threads = 1;
};

// The eval report: suite properties hold the run and the headline metrics; one case per
// threshold (failed when the threshold failed) and one per class (precision, recall, F1,
// support) or regression target (MSE, MAE, R^2), which pass: they carry the numbers.
JunitSuite eval_junit_suite(const EvalResult& result, const EvalRun& run,
                            const std::vector<ThresholdResult>& thresholds);

}  // namespace dptrain
