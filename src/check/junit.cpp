#include "dptrain/junit.hpp"

#include "dptrain/compare.hpp"
#include "io/atomic_file.hpp"

#include <cstdio>
#include <ctime>
#include <sstream>

namespace dptrain {
namespace {

std::string number(double v) { return format_number(v, 10); }

void write_properties(std::ostringstream& s, const std::vector<JunitProperty>& properties, const char* indent) {
  if (properties.empty()) return;
  s << indent << "<properties>\n";
  for (const auto& p : properties)
    s << indent << "  <property name=\"" << xml_escape(p.name) << "\" value=\"" << xml_escape(p.value) << "\"/>\n";
  s << indent << "</properties>\n";
}

// "precision 0.9 recall 0.8 ..." for a case's system-out.
std::string as_text(const std::vector<JunitProperty>& properties) {
  std::string out;
  for (const auto& [name, value] : properties) out += (out.empty() ? "" : " ") + name + " " + value;
  return out;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') break;
        out += ch;
    }
  }
  return out;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

std::string to_junit_xml(const JunitSuite& suite) {
  std::size_t failures = 0;
  for (const auto& c : suite.cases) failures += c.failure ? 1 : 0;
  const std::string counts = " tests=\"" + std::to_string(suite.cases.size()) + "\" failures=\"" +
                             std::to_string(failures) + "\" errors=\"0\" skipped=\"0\" time=\"" +
                             number(suite.seconds) + "\"";
  std::ostringstream s;
  s << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s << "<testsuites name=\"" << xml_escape(suite.name) << "\"" << counts << ">\n";
  s << "  <testsuite name=\"" << xml_escape(suite.name) << "\"" << counts << " timestamp=\""
    << xml_escape(suite.timestamp) << "\">\n";
  write_properties(s, suite.properties, "    ");
  for (const auto& c : suite.cases) {
    s << "    <testcase classname=\"" << xml_escape(c.classname) << "\" name=\"" << xml_escape(c.name)
      << "\" time=\"0\">\n";
    write_properties(s, c.properties, "      ");
    if (c.failure)
      s << "      <failure type=\"threshold\" message=\"" << xml_escape(*c.failure) << "\">"
        << xml_escape(*c.failure) << "</failure>\n";
    if (!c.system_out.empty()) s << "      <system-out>" << xml_escape(c.system_out) << "</system-out>\n";
    s << "    </testcase>\n";
  }
  s << "  </testsuite>\n</testsuites>\n";
  return s.str();
}

void write_junit_file(const std::string& path, const JunitSuite& suite) {
  const std::string xml = to_junit_xml(suite);
  write_stream_atomically(path, [&](std::ostream& out) { out << xml; });
}

JunitSuite eval_junit_suite(const EvalResult& r, const EvalRun& run, const std::vector<ThresholdResult>& thresholds) {
  const Metrics& m = r.metrics;
  JunitSuite suite;
  suite.name = "dptrain eval " + run.model;
  suite.timestamp = utc_timestamp();
  suite.seconds = r.seconds;
  std::string data;
  for (const auto& f : run.data) data += (data.empty() ? "" : ",") + f;
  suite.properties = {{"model", run.model},
                      {"model_description", r.spec.describe()},
                      {"data", data},
                      {"ranks", std::to_string(run.ranks)},
                      {"threads", std::to_string(run.threads)},
                      {"rows", number(m.rows)},
                      {"loss", number(m.loss)}};
  if (m.classifier) {
    suite.properties.insert(suite.properties.end(), {{"accuracy", number(m.accuracy)},
                                                     {"macro_precision", number(m.macro_precision)},
                                                     {"macro_recall", number(m.macro_recall)},
                                                     {"macro_f1", number(m.macro_f1)}});
  } else {
    suite.properties.insert(suite.properties.end(),
                            {{"mse", number(m.mse)}, {"mae", number(m.mae)}, {"r2", number(m.r2)}});
  }
  for (const auto& t : thresholds) {
    JunitCase c{"dptrain.eval.thresholds", t.threshold.condition(), std::nullopt,
                {{"metric", t.threshold.metric}, {"value", number(t.value)}, {"limit", number(t.threshold.limit)}},
                t.message()};
    if (!t.passed) c.failure = t.message();
    suite.cases.push_back(std::move(c));
  }
  if (m.classifier) {
    for (std::size_t k = 0; k < m.precision.size(); ++k) {
      const std::vector<JunitProperty> p = {{"precision", number(m.precision[k])},
                                            {"recall", number(m.recall[k])},
                                            {"f1", number(m.f1[k])},
                                            {"support", number(m.support[k])}};
      suite.cases.push_back({"dptrain.eval.classes", "class " + std::to_string(k), std::nullopt, p, as_text(p)});
    }
  } else {
    for (std::size_t k = 0; k < m.target_mse.size(); ++k) {
      const std::vector<JunitProperty> p = {
          {"mse", number(m.target_mse[k])}, {"mae", number(m.target_mae[k])}, {"r2", number(m.target_r2[k])}};
      suite.cases.push_back({"dptrain.eval.targets", "target " + std::to_string(k), std::nullopt, p, as_text(p)});
    }
  }
  return suite;
}

}  // namespace dptrain
