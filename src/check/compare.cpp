#include "dptrain/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "dptrain/checkpoint.hpp"
#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"

namespace dptrain {
namespace {

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

std::string number(double v) { return format_number(v, 9); }  // float32 round trip
std::string short_number(double v) { return format_number(v, 3); }

// A tensor read from a file, owning its values.
struct LoadedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  StorageOrder order;
  std::vector<float> values;
  TensorView view() const { return {name, shape, order, values}; }
};

struct LoadedFile {
  std::string kind;
  std::string description;
  std::string training_state;  // checkpoints: optimizer and counters
  std::vector<std::int64_t> layout;  // what must match for values to be compared (widths)
  std::vector<LoadedTensor> tensors;
};

bool is_checkpoint(const H5Reader& r) { return r.has_attribute("/", "format_version") && r.has_dataset("/params"); }

void add_model_tensors(const std::string& prefix, const ModelSpec& spec, const float* values,
                       std::vector<LoadedTensor>& out) {
  for (const auto& p : named_parameters(spec))
    out.push_back({prefix + p.name, p.shape, p.order,
                   std::vector<float>(values + p.offset, values + p.offset + p.size())});
}

LoadedFile load_checkpoint_file(const std::string& path, bool params_only) {
  const Checkpoint c = load_checkpoint(path);
  LoadedFile f;
  f.kind = "checkpoint";
  f.description = c.spec.describe();
  f.layout = c.spec.widths;
  add_model_tensors("", c.spec, c.params.data(), f.tensors);
  if (params_only) return f;
  f.training_state = "optimizer " + (c.optimizer.empty() ? std::string("none") : c.optimizer) +
                     ", epoch " + std::to_string(c.epoch) + ", global step " + std::to_string(c.global_step) +
                     ", epoch step " + std::to_string(c.epoch_step);
  // Optimizer state laid out like the parameters (moments, velocities) gets the layer names.
  for (const auto& [name, values] : c.optimizer_state) {
    if (values.size() == c.spec.num_params())
      add_model_tensors("optimizer/" + name + "/", c.spec, values.data(), f.tensors);
    else
      f.tensors.push_back({"optimizer/" + name, {static_cast<std::int64_t>(values.size())},
                           StorageOrder::RowMajor, values});
  }
  return f;
}

LoadedFile load_predictions_file(const std::string& path, const H5Reader& r) {
  LoadedFile f;
  f.kind = "predictions file";
  f.description = r.has_attribute("/", "model_description") ? r.attribute_string("/", "model_description")
                                                             : std::string("(no model_description attribute)");
  for (const char* name : {"predictions", "probabilities"}) {
    const std::string dataset = std::string("/") + name;
    if (!r.has_dataset(dataset)) continue;
    const DatasetShape shape = r.shape(dataset);
    if (shape.kind == DatasetShape::Kind::Other)
      throw DataError(path + ": dataset '" + dataset + "' is " + shape.type_name + "; expected numbers");
    LoadedTensor t{name, shape.dims, StorageOrder::RowMajor,
                   std::vector<float>(static_cast<std::size_t>(shape.rows() * shape.cols()))};
    if (shape.rows() > 0) r.read_rows(dataset, 0, shape.rows(), std::span(t.values));
    f.tensors.push_back(std::move(t));
  }
  return f;
}

LoadedFile load_file(const std::string& path, bool params_only) {
  {
    H5Reader r(path);
    if (!is_checkpoint(r)) {
      if (r.has_dataset("/predictions")) return load_predictions_file(path, r);
      throw DataError(path + ": neither a dptrain checkpoint (/params and a format_version attribute) nor "
                             "a predictions file (/predictions); for JSONL metrics files use --metrics");
    }
  }  // closed before load_checkpoint opens the file again
  return load_checkpoint_file(path, params_only);
}

void keep_largest(std::vector<ValueDifference>& top, std::size_t keep, ValueDifference d) {
  if (keep == 0 || (top.size() == keep && !(d.difference > top.back().difference))) return;
  const auto at = std::upper_bound(top.begin(), top.end(), d.difference,
                                   [](double v, const ValueDifference& x) { return v > x.difference; });
  top.insert(at, std::move(d));
  if (top.size() > keep) top.pop_back();
}

}  // namespace

std::string format_number(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

double value_difference(double a, double b) {
  if (same_bits(a, b) || a == b) return 0;
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INFINITY;
  return std::abs(a - b);
}

double Tolerance::allowed(double a, double b) const { return std::max(atol, rtol * std::max(std::abs(a), std::abs(b))); }

bool Tolerance::agree(double a, double b) const {
  if (same_bits(a, b)) return true;
  if (bitwise()) return false;
  if (a == b) return true;  // +0 and -0
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return false;
  return value_difference(a, b) <= allowed(a, b);
}

std::string Tolerance::describe() const {
  return bitwise() ? "bitwise" : "rtol " + short_number(rtol) + ", atol " + short_number(atol);
}

TensorComparison compare_tensors(const TensorView& a, const TensorView& b, const Tolerance& tolerance,
                                 std::vector<ValueDifference>& top, std::size_t keep) {
  if (a.shape != b.shape || a.values.size() != b.values.size())
    throw std::invalid_argument("compare_tensors: '" + a.name + "' has shape " + format_index(a.shape) +
                                " and " + format_index(b.shape));
  TensorComparison c;
  c.name = a.name;
  c.shape = a.shape;
  c.values = a.values.size();
  double worst_excess = -1;
  auto describe = [&](std::size_t k, double diff, bool beyond) {
    return ValueDifference{a.name, unravel_index(k, a.shape, a.order), a.values[k], b.values[k], diff, beyond};
  };
  for (std::size_t k = 0; k < c.values; ++k) {
    const float x = a.values[k], y = b.values[k];
    if (same_bits(x, y)) continue;
    ++c.differing;
    const double diff = value_difference(x, y);
    const bool beyond = !tolerance.agree(x, y);
    if (beyond) {
      ++c.beyond;
      const double excess = diff - tolerance.allowed(x, y);
      if (excess > worst_excess || !c.worst) {
        worst_excess = excess;
        c.worst = describe(k, diff, true);
      }
    }
    if (!c.largest || diff > c.largest->difference) c.largest = describe(k, diff, beyond);
    if (keep > 0 && (top.size() < keep || diff > top.back().difference))
      keep_largest(top, keep, describe(k, diff, beyond));
  }
  return c;
}

FileComparison compare_files(const std::string& path_a, const std::string& path_b, const CompareOptions& o) {
  const LoadedFile a = load_file(path_a, o.params_only);
  const LoadedFile b = load_file(path_b, o.params_only);
  if (a.kind != b.kind)
    throw DataError("cannot compare " + path_a + " (a " + a.kind + ") with " + path_b + " (a " + b.kind + ")");
  FileComparison r;
  r.kind = a.kind;
  r.description_a = a.description;
  r.description_b = b.description;
  if (a.description != b.description)
    r.differences.push_back("model descriptions differ: " + path_a + " has " + a.description + "; " +
                            path_b + " has " + b.description);
  if (a.training_state != b.training_state)
    r.differences.push_back("training states differ: " + path_a + " has " + a.training_state + "; " +
                            path_b + " has " + b.training_state + " (--params-only compares the model alone)");
  if (a.layout != b.layout) return r;  // different layers: nothing to compare value by value
  for (const auto& ta : a.tensors) {
    const auto tb = std::find_if(b.tensors.begin(), b.tensors.end(),
                                 [&](const LoadedTensor& t) { return t.name == ta.name; });
    if (tb == b.tensors.end()) {
      r.differences.push_back(ta.name + " is in " + path_a + " but not in " + path_b);
      continue;
    }
    if (ta.shape != tb->shape) {
      r.differences.push_back(ta.name + " has shape " + format_index(ta.shape) + " in " + path_a + " but " +
                              format_index(tb->shape) + " in " + path_b);
      continue;
    }
    r.tensors.push_back(compare_tensors(ta.view(), tb->view(), o.tolerance, r.largest, o.top));
    r.values += r.tensors.back().values;
    r.differing += r.tensors.back().differing;
    r.beyond += r.tensors.back().beyond;
  }
  for (const auto& tb : b.tensors)
    if (std::none_of(a.tensors.begin(), a.tensors.end(), [&](const LoadedTensor& t) { return t.name == tb.name; }))
      r.differences.push_back(tb.name + " is in " + path_b + " but not in " + path_a);
  return r;
}

namespace {

std::string describe_value(const ValueDifference& d) {
  return d.tensor + format_index(d.index) + ": a = " + number(d.a) + ", b = " + number(d.b) +
         ", |a-b| = " + short_number(d.difference);
}

}  // namespace

std::string format_comparison(const FileComparison& r, const std::string& a, const std::string& b,
                              const Tolerance& tolerance) {
  std::ostringstream s;
  s << "compare " << r.kind << "s a = " << a << ", b = " << b << " (tolerance: " << tolerance.describe()
    << ")\n";
  if (r.description_a == r.description_b) s << "model " << r.description_a << "\n";
  for (const auto& d : r.differences) s << "DIFFERENT: " << d << "\n";
  if (!r.tensors.empty()) {
    char line[256];
    std::snprintf(line, sizeof line, "%-28s %-14s %10s %9s %9s  %-10s %s\n", "tensor", "shape", "values",
                  "differ", "beyond", "max |a-b|", "at");
    s << line;
    for (const auto& t : r.tensors) {
      const std::string at = t.largest ? format_index(t.largest->index) : "-";
      const std::string max = t.largest ? short_number(t.largest->difference) : "0";
      std::snprintf(line, sizeof line, "%-28s %-14s %10zu %9zu %9zu  %-10s %s\n", t.name.c_str(),
                    format_index(t.shape).c_str(), t.values, t.differing, t.beyond, max.c_str(), at.c_str());
      s << line;
    }
  }
  if (!r.largest.empty()) {
    s << "largest differences (index in the tensor's shape):\n";
    for (const auto& d : r.largest) s << "  " << describe_value(d) << (d.beyond ? "  BEYOND" : "") << "\n";
  }
  if (!r.differences.empty()) {
    s << "result: FAIL: the files differ in what they hold (see DIFFERENT above)\n";
    return s.str();
  }
  if (r.differing == 0) {
    s << "result: PASS: all " << r.values << " values are bitwise identical\n";
  } else if (r.beyond == 0) {
    s << "result: PASS: " << r.differing << " of " << r.values << " values differ, all within "
      << tolerance.describe() << "\n";
  } else {
    const ValueDifference* worst = nullptr;
    for (const auto& t : r.tensors)
      if (t.worst && (!worst || t.worst->difference > worst->difference)) worst = &*t.worst;
    s << "result: FAIL: " << r.beyond << " of " << r.values << " values differ beyond "
      << tolerance.describe() << "; worst " << describe_value(*worst) << "\n";
  }
  return s.str();
}

}  // namespace dptrain
