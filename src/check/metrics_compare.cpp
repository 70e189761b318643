#include "dptrain/metrics_compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "dptrain/error.hpp"

namespace dptrain {
namespace {

using Json = nlohmann::json;

struct Record {
  std::string label;                                    // "epoch 3" or "line 2"
  std::map<std::string, std::optional<double>> values;  // flattened numeric fields; null: nothing
};

std::string number(double v) { return format_number(v, 9); }

bool ignored(const std::string& field, const std::vector<std::string>& ignore) {
  for (const auto& name : ignore)
    if (field == name || field.rfind(name + "[", 0) == 0 || field.rfind(name + ".", 0) == 0) return true;
  return false;
}

// Numbers, booleans (0/1) and nulls under their path; text is not compared.
void flatten(const Json& value, const std::string& path, const std::vector<std::string>& ignore, Record& out,
             std::set<std::string>& skipped) {
  if (ignored(path, ignore)) {
    skipped.insert(path);
  } else if (value.is_object()) {
    for (const auto& [key, item] : value.items()) flatten(item, path.empty() ? key : path + "." + key, ignore, out, skipped);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) flatten(value[i], path + "[" + std::to_string(i) + "]", ignore, out, skipped);
  } else if (value.is_number()) {
    out.values[path] = value.get<double>();
  } else if (value.is_boolean()) {
    out.values[path] = value.get<bool>() ? 1.0 : 0.0;
  } else if (value.is_null()) {
    out.values[path] = std::nullopt;
  } else {
    skipped.insert(path);
  }
}

std::vector<Record> read_records(const std::string& path, const std::vector<std::string>& ignore,
                                 std::set<std::string>& skipped) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open the metrics file");
  std::vector<Json> objects;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j;
    try {
      j = Json::parse(line);
    } catch (const Json::parse_error& e) {
      throw DataError(path + " line " + std::to_string(n) + ": not JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw DataError(path + " line " + std::to_string(n) + ": expected one JSON object per line");
    objects.push_back(std::move(j));
  }
  if (objects.empty()) throw DataError(path + ": the metrics file holds no records");
  const bool by_epoch = std::all_of(objects.begin(), objects.end(), [](const Json& j) {
    return j.contains("epoch") && j["epoch"].is_number_integer();
  });
  std::vector<Record> records;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    Record r;
    r.label = by_epoch ? "epoch " + std::to_string(objects[i]["epoch"].get<long long>())
                       : "record " + std::to_string(i + 1);
    flatten(objects[i], "", ignore, r, skipped);
    records.push_back(std::move(r));
  }
  return records;
}

std::string show(const std::optional<double>& v) { return v ? number(*v) : "null"; }

}  // namespace

const std::vector<std::string>& default_ignored_metrics() {
  static const std::vector<std::string> names = {"samples_per_s", "epoch_s", "val_s",   "compute_s", "comm_s",
                                                 "io_s",          "peak_rss_mb", "seconds", "ranks", "threads"};
  return names;
}

MetricsComparison compare_metrics_files(const std::string& base_path, const std::string& new_path,
                                        const MetricsCompareOptions& o) {
  std::set<std::string> skipped;
  const auto base = read_records(base_path, o.ignore, skipped);
  const auto candidate = read_records(new_path, o.ignore, skipped);
  MetricsComparison r;
  r.ignored.assign(skipped.begin(), skipped.end());
  double worst_excess = -1;
  for (const auto& b : base) {
    const auto c = std::find_if(candidate.begin(), candidate.end(), [&](const Record& x) { return x.label == b.label; });
    if (c == candidate.end()) {
      r.differences.push_back(b.label + " is in " + base_path + " but not in " + new_path);
      continue;
    }
    ++r.records;
    for (const auto& [field, bv] : b.values) {
      const auto it = c->values.find(field);
      if (it == c->values.end()) {
        r.differences.push_back(b.label + ": field '" + field + "' is in " + base_path + " but not in " + new_path);
        continue;
      }
      const auto& cv = it->second;
      ++r.values;
      FieldDifference d{b.label, field, bv, cv, 0, false};
      if (!bv && !cv) continue;
      if (bv && cv) {
        d.difference = value_difference(*bv, *cv);
        d.beyond = !o.tolerance.agree(*bv, *cv);
        if (d.difference == 0 && !d.beyond) continue;
      } else {
        d.difference = INFINITY;  // a number against null
        d.beyond = true;
      }
      ++r.differing;
      if (d.beyond) {
        ++r.beyond;
        const double excess = bv && cv ? d.difference - o.tolerance.allowed(*bv, *cv) : INFINITY;
        if (!r.worst || excess > worst_excess) {
          worst_excess = excess;
          r.worst = d;
        }
      }
      r.largest.push_back(d);
    }
    for (const auto& [field, cv] : c->values)
      if (!b.values.count(field))
        r.differences.push_back(b.label + ": field '" + field + "' is in " + new_path + " but not in " + base_path);
  }
  for (const auto& c : candidate)
    if (std::none_of(base.begin(), base.end(), [&](const Record& x) { return x.label == c.label; }))
      r.differences.push_back(c.label + " is in " + new_path + " but not in " + base_path);
  std::stable_sort(r.largest.begin(), r.largest.end(),
                   [](const FieldDifference& a, const FieldDifference& b) { return a.difference > b.difference; });
  if (r.largest.size() > o.top) r.largest.resize(o.top);
  return r;
}

std::string format_metrics_comparison(const MetricsComparison& r, const std::string& base,
                                      const std::string& candidate, const Tolerance& tolerance) {
  std::ostringstream s;
  s << "compare metrics base = " << base << ", new = " << candidate << " (tolerance: " << tolerance.describe()
    << ")\n";
  if (!r.ignored.empty()) {
    s << "not compared:";
    for (const auto& f : r.ignored) s << " " << f;
    s << "\n";
  }
  s << r.records << " record(s), " << r.values << " value(s) compared\n";
  for (const auto& d : r.differences) s << "DIFFERENT: " << d << "\n";
  auto line = [](const FieldDifference& d) {
    return d.record + " " + d.field + ": base = " + show(d.base) + ", new = " + show(d.candidate) +
           ", |base-new| = " + number(d.difference);
  };
  if (!r.largest.empty()) {
    s << "largest differences:\n";
    for (const auto& d : r.largest) s << "  " << line(d) << (d.beyond ? "  BEYOND" : "") << "\n";
  }
  if (!r.differences.empty())
    s << "result: FAIL: the files hold different records or fields (see DIFFERENT above)\n";
  else if (r.beyond > 0)
    s << "result: FAIL: " << r.beyond << " of " << r.values << " values differ beyond " << tolerance.describe()
      << "; worst " << line(*r.worst) << "\n";
  else if (r.differing > 0)
    s << "result: PASS: " << r.differing << " of " << r.values << " values differ, all within "
      << tolerance.describe() << "\n";
  else
    s << "result: PASS: all " << r.values << " values are identical\n";
  return s.str();
}

}  // namespace dptrain
