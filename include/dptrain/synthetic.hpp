#pragma once
// Synthetic datasets with known ground truth, for tests, demos and benchmarks.
#include <cstdint>
#include <string>

namespace dptrain {

struct SyntheticOptions {
  std::string out;
  std::int64_t rows = 10000;
  std::int64_t features = 20;
  std::int64_t classes = 0;   // 0: regression; 2+: classification by a linear teacher
  std::int64_t targets = 1;   // regression outputs
  double noise = 0.1;         // regression: std of added noise; classification: logit noise
  std::uint64_t seed = 1;
  std::string dtype = "float32";  // features stored as float32 or float64
  std::string pattern = "linear";  // linear | rings (concentric classes no linear model separates)
  std::int64_t chunk_rows = 0;     // 0: contiguous
  int gzip = 0;
};

// Writes /features [rows, features], /labels [rows] (int64 class ids) or [rows] / [rows, K]
// (float targets), and the teacher as /true_weights [K, features] and /true_bias [K].
void write_synthetic(const SyntheticOptions& options);

}  // namespace dptrain
