#include "dptrain/synthetic.hpp"

#include <cmath>
#include <vector>

#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"
#include "dptrain/shard.hpp"

namespace dptrain {

void write_synthetic(const SyntheticOptions& o) {
  if (o.out.empty()) throw ConfigError("gen: --out is required");
  if (o.rows < 1 || o.features < 1) throw ConfigError("gen: --rows and --features must be positive");
  if (o.classes == 1) throw ConfigError("gen: --classes must be 0 (regression) or at least 2");
  if (o.dtype != "float32" && o.dtype != "float64")
    throw ConfigError("gen: --dtype '" + o.dtype + "': expected float32 or float64");
  if (o.pattern != "linear" && o.pattern != "rings")
    throw ConfigError("gen: --pattern '" + o.pattern + "': expected linear or rings");
  const bool classify = o.classes >= 2;
  const std::int64_t k = classify ? o.classes : std::max<std::int64_t>(1, o.targets);
  const std::int64_t d = o.features;
  Random rng(o.seed);
  std::vector<double> w(static_cast<std::size_t>(k * d)), b(static_cast<std::size_t>(k));
  const double scale = (classify ? 3.0 : 1.0) / std::sqrt(static_cast<double>(d));
  for (auto& v : w) v = scale * rng.normal();
  for (auto& v : b) v = classify ? 0.5 * rng.normal() : rng.normal();

  std::vector<double> x(static_cast<std::size_t>(o.rows * d));
  std::vector<std::int64_t> class_ids;
  std::vector<double> targets;
  if (classify) class_ids.resize(static_cast<std::size_t>(o.rows));
  else targets.resize(static_cast<std::size_t>(o.rows * k));
  std::vector<double> logits(static_cast<std::size_t>(k));
  for (std::int64_t r = 0; r < o.rows; ++r) {
    double* row = x.data() + r * d;
    for (std::int64_t c = 0; c < d; ++c) row[c] = rng.normal();
    if (o.pattern == "rings") {
      // Class by distance from the origin in the first two features: concentric rings.
      const double radius = std::sqrt(row[0] * row[0] + (d > 1 ? row[1] * row[1] : 0.0));
      const std::int64_t ring = std::min<std::int64_t>(k - 1, static_cast<std::int64_t>(radius / 0.9));
      if (classify) class_ids[r] = ring;
      else targets[r * k] = radius;
      continue;
    }
    for (std::int64_t j = 0; j < k; ++j) {
      double z = b[j];
      for (std::int64_t c = 0; c < d; ++c) z += w[j * d + c] * row[c];
      logits[j] = z;
    }
    if (classify) {
      std::int64_t best = 0;
      for (std::int64_t j = 0; j < k; ++j) {
        logits[j] += o.noise * rng.normal();
        if (logits[j] > logits[best]) best = j;
      }
      class_ids[r] = best;
    } else {
      for (std::int64_t j = 0; j < k; ++j) targets[r * k + j] = logits[j] + o.noise * rng.normal();
    }
  }
  write_file_atomically(o.out, [&](H5Writer& out) {
    H5Writer::Layout layout{o.chunk_rows, o.gzip, o.gzip > 0};
    if (layout.gzip_level > 0 && layout.chunk_rows <= 0) layout.chunk_rows = 4096;
    if (o.dtype == "float64") {
      out.write("/features", {o.rows, d}, x.data(), layout);
    } else {
      std::vector<float> xf(x.begin(), x.end());
      out.write("/features", {o.rows, d}, xf.data(), layout);
    }
    if (classify) {
      out.write("/labels", {o.rows}, class_ids.data(), layout);
    } else if (k == 1) {
      std::vector<float> t(targets.begin(), targets.end());
      out.write("/labels", {o.rows}, t.data(), layout);
    } else {
      std::vector<float> t(targets.begin(), targets.end());
      out.write("/labels", {o.rows, k}, t.data(), layout);
    }
    out.write("/true_weights", {k, d}, w.data());
    out.write("/true_bias", {k}, b.data());
    out.set_attribute("/", "generator", "dptrain gen " + o.pattern);
  });
}

}  // namespace dptrain
