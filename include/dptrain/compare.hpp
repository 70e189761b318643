#pragma once
// `dptrain compare`: two checkpoints (or two prediction files) value by value, tensor by
// tensor, within a tolerance, naming where the largest differences are. Used by CI jobs to
// check a run against a golden model kept in the repository.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dptrain/named_parameters.hpp"

namespace dptrain {

// Two values agree when |a - b| <= max(atol, rtol * max(|a|, |b|)) (Python's math.isclose:
// symmetric, so compare A B and compare B A agree). NaN agrees only with NaN, an infinity
// only with itself. rtol = atol = 0 means bitwise: the same bit patterns (so -0 differs from
// +0 and NaN from a NaN with another payload).
struct Tolerance {
  double rtol = 1e-5;
  double atol = 0;
  bool bitwise() const { return rtol == 0 && atol == 0; }
  bool agree(double a, double b) const;  // floats convert exactly
  double allowed(double a, double b) const;  // max(atol, rtol * max(|a|, |b|))
  std::string describe() const;  // "bitwise" or "rtol 1e-05, atol 0"
};

// A number in a report, with `digits` significant digits ("%.*g": 0.85, 1e-05, nan, inf).
std::string format_number(double v, int digits);

// |a - b|; 0 for NaN against NaN, infinite for NaN against a number.
double value_difference(double a, double b);

// One tensor of a file: a name, a shape and its values in storage order.
struct TensorView {
  std::string name;
  std::vector<std::int64_t> shape;
  StorageOrder order = StorageOrder::RowMajor;
  std::span<const float> values;
};

// One value that differs.
struct ValueDifference {
  std::string tensor;
  std::vector<std::int64_t> index;  // in the tensor's shape
  float a = 0, b = 0;
  double difference = 0;  // |a - b|; infinite when only one of them is NaN
  bool beyond = false;    // outside the tolerance
};

struct TensorComparison {
  std::string name;
  std::vector<std::int64_t> shape;
  std::size_t values = 0;
  std::size_t differing = 0;  // not bitwise equal
  std::size_t beyond = 0;     // outside the tolerance
  std::optional<ValueDifference> largest;  // the first value with the largest |a - b|
  std::optional<ValueDifference> worst;    // the first value furthest beyond the tolerance
};

// Compares two tensors of the same shape. `top` collects the `keep` largest differences
// seen so far over all tensors (largest first).
TensorComparison compare_tensors(const TensorView& a, const TensorView& b, const Tolerance& tolerance,
                                 std::vector<ValueDifference>& top, std::size_t keep);

struct FileComparison {
  std::string kind;  // "checkpoint" or "predictions file"
  std::string description_a, description_b;  // model descriptions
  // Why the two files cannot be compared value for value, or differ in what they describe
  // (model description, training state, tensor names or shapes). Each is a failure.
  std::vector<std::string> differences;
  std::vector<TensorComparison> tensors;
  std::vector<ValueDifference> largest;  // over all tensors, largest first
  std::size_t values = 0, differing = 0, beyond = 0;
  bool within_tolerance() const { return differences.empty() && beyond == 0; }
};

struct CompareOptions {
  Tolerance tolerance;
  std::size_t top = 5;        // largest differences listed
  bool params_only = false;   // checkpoints: the model only, not the optimizer state and counters
};

// Opens both files (checkpoints written by `dptrain train`, or HDF5 files written by
// `dptrain predict`) and compares them. Throws Error naming the file when one cannot be read
// or the two are of different kinds.
FileComparison compare_files(const std::string& a, const std::string& b, const CompareOptions& options);

// The report: what was compared, one line per tensor, the largest differences, the verdict.
std::string format_comparison(const FileComparison& result, const std::string& a, const std::string& b,
                              const Tolerance& tolerance);

}  // namespace dptrain
