#include "dptrain/evaluation.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <sstream>
#include <type_traits>

#include "dptrain/checkpoint.hpp"
#include "dptrain/data_agreement.hpp"
#include "dptrain/error.hpp"
#include "dptrain/trainer.hpp"

namespace dptrain {
namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream s;
  s << std::setprecision(10) << v;
  return s.str();
}

template <class T>
std::string json_array(const std::vector<T>& values) {
  std::string s = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) s += ", ";
    if constexpr (std::is_integral_v<T>) s += std::to_string(values[i]);
    else s += json_number(values[i]);
  }
  return s + "]";
}

}  // namespace

void check_model_matches_data(const ModelSpec& spec, const std::string& model_path,
                              const DataDescription& data, const DataOptions& options) {
  if (data.cols == spec.inputs()) return;
  throw DataError("model/data width mismatch: the model " + model_path + " (" + spec.describe() +
                  ") takes " + std::to_string(spec.inputs()) + " features, but dataset '" +
                  options.features_name + "' in " + options.files[0] + " has " +
                  std::to_string(data.cols) + " features per row");
}

std::int64_t predicted_class(const ModelSpec& spec, const float* output) {
  if (spec.loss == LossKind::BinaryCrossEntropy) return output[0] > 0.5f ? 1 : 0;
  return std::max_element(output, output + spec.outputs()) - output;
}

void class_probabilities(const ModelSpec& spec, const float* output, float* probabilities) {
  if (spec.loss == LossKind::BinaryCrossEntropy) {
    probabilities[0] = 1.0f - output[0];
    probabilities[1] = output[0];
    return;
  }
  std::copy(output, output + spec.outputs(), probabilities);
}

// ---- sums ----

MetricSums::MetricSums(const ModelSpec& spec) {
  if (spec.classifier()) {
    classes = spec.classes();
    confusion.assign(static_cast<std::size_t>(classes * classes), 0.0);
  } else {
    targets = spec.outputs();
    for (auto* v : {&sum_y, &sum_y2, &sum_squared_error, &sum_absolute_error})
      v->assign(static_cast<std::size_t>(targets), 0.0);
  }
}

void MetricSums::add_rows(const ModelSpec& spec, const float* outputs, const float* labels,
                          std::int64_t n, double loss_sum) {
  rows += static_cast<double>(n);
  loss += loss_sum;
  const std::int64_t k = spec.outputs();
  if (classes > 0) {
    for (std::int64_t r = 0; r < n; ++r) {
      const auto truth = static_cast<std::int64_t>(labels[r]);
      confusion[static_cast<std::size_t>(truth * classes + predicted_class(spec, outputs + r * k))] += 1;
    }
    return;
  }
  for (std::int64_t r = 0; r < n; ++r)
    for (std::int64_t t = 0; t < targets; ++t) {
      const double y = labels[r * targets + t];
      const double e = static_cast<double>(outputs[r * k + t]) - y;
      sum_y[t] += y;
      sum_y2[t] += y * y;
      sum_squared_error[t] += e * e;
      sum_absolute_error[t] += std::abs(e);
    }
}

void MetricSums::add(const MetricSums& o) {
  std::vector<double> mine = flatten();
  const std::vector<double> theirs = o.flatten();
  if (mine.size() != theirs.size()) throw Error("MetricSums::add: sums of different models");
  for (std::size_t i = 0; i < mine.size(); ++i) mine[i] += theirs[i];
  unflatten(mine);
}

std::vector<double> MetricSums::flatten() const {
  std::vector<double> v = {rows, loss};
  for (const auto* part : {&confusion, &sum_y, &sum_y2, &sum_squared_error, &sum_absolute_error})
    v.insert(v.end(), part->begin(), part->end());
  return v;
}

void MetricSums::unflatten(const std::vector<double>& v) {
  if (v.size() != flatten().size()) throw Error("MetricSums::unflatten: wrong length");
  rows = v[0];
  loss = v[1];
  auto it = v.begin() + 2;
  for (auto* part : {&confusion, &sum_y, &sum_y2, &sum_squared_error, &sum_absolute_error}) {
    std::copy(it, it + static_cast<std::ptrdiff_t>(part->size()), part->begin());
    it += static_cast<std::ptrdiff_t>(part->size());
  }
}

void allreduce_metrics(Communicator& comm, MetricSums& sums) {
  std::vector<double> values = sums.flatten();
  comm.allreduce_sum(values, "metric sums");
  sums.unflatten(values);
}

// ---- scoring ----

Scorer::Scorer(const ModelSpec& spec, const AlignedVector<float>& params, int threads,
               std::int64_t block_rows)
    : spec_(spec), params_(params), threads_(std::max(1, threads)),
      block_rows_(std::max<std::int64_t>(1, block_rows)) {
  if (params_.size() != spec_.num_params())
    throw Error("Scorer: " + std::to_string(params_.size()) + " parameters for a model of " +
                std::to_string(spec_.num_params()));
  for (int t = 0; t < threads_; ++t) workspaces_.emplace_back(spec_, block_rows_);
}

void Scorer::score(const float* x, std::int64_t rows, float* outputs) {
  const std::int64_t blocks = (rows + block_rows_ - 1) / block_rows_;
  const std::int64_t d = spec_.inputs(), k = spec_.outputs();
#pragma omp parallel for num_threads(threads_) schedule(dynamic)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t lo = b * block_rows_, hi = std::min(rows, lo + block_rows_);
    forward<float>(spec_, params_.data(), x + lo * d, nullptr, hi - lo,
                   workspaces_[static_cast<std::size_t>(omp_get_thread_num())], outputs + lo * k);
  }
}

MetricSums Scorer::evaluate(const float* x, const float* labels, std::int64_t rows,
                            float* outputs) {
  const std::int64_t blocks = (rows + block_rows_ - 1) / block_rows_;
  const std::int64_t d = spec_.inputs(), k = spec_.outputs(), l = spec_.label_cols();
  std::vector<MetricSums> per_block(static_cast<std::size_t>(blocks), MetricSums(spec_));
#pragma omp parallel for num_threads(threads_) schedule(dynamic)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t lo = b * block_rows_, hi = std::min(rows, lo + block_rows_);
    const BatchStats stats =
        forward<float>(spec_, params_.data(), x + lo * d, labels + lo * l, hi - lo,
                       workspaces_[static_cast<std::size_t>(omp_get_thread_num())], outputs + lo * k);
    per_block[static_cast<std::size_t>(b)].add_rows(spec_, outputs + lo * k, labels + lo * l,
                                                    hi - lo, stats.loss);
  }
  MetricSums total(spec_);
  for (const auto& s : per_block) total.add(s);  // block order: independent of threads
  return total;
}

// ---- metrics ----

Metrics finish_metrics(const MetricSums& s) {
  Metrics m;
  m.classifier = s.classes > 0;
  m.rows = s.rows;
  if (m.classifier) {
    const std::int64_t c = s.classes;
    m.loss = ratio(s.loss, s.rows);
    double correct = 0;
    for (std::int64_t i = 0; i < c; ++i) {
      double true_rows = 0, predicted_rows = 0;
      for (std::int64_t j = 0; j < c; ++j) {
        true_rows += s.confusion[static_cast<std::size_t>(i * c + j)];
        predicted_rows += s.confusion[static_cast<std::size_t>(j * c + i)];
      }
      const double hits = s.confusion[static_cast<std::size_t>(i * c + i)];
      correct += hits;
      const double p = ratio(hits, predicted_rows), r = ratio(hits, true_rows);
      m.precision.push_back(p);
      m.recall.push_back(r);
      m.f1.push_back(ratio(2 * p * r, p + r));
      m.support.push_back(true_rows);
    }
    m.accuracy = ratio(correct, s.rows);
    for (std::int64_t i = 0; i < c; ++i) {
      m.macro_precision += m.precision[i] / static_cast<double>(c);
      m.macro_recall += m.recall[i] / static_cast<double>(c);
      m.macro_f1 += m.f1[i] / static_cast<double>(c);
    }
    for (double v : s.confusion) m.confusion.push_back(static_cast<std::int64_t>(v));
    return m;
  }
  const auto k = static_cast<std::size_t>(s.targets);
  for (std::size_t t = 0; t < k; ++t) {
    const double n = s.rows;
    const double total = s.sum_y2[t] - (n > 0 ? s.sum_y[t] * s.sum_y[t] / n : 0.0);
    const double residual = s.sum_squared_error[t];
    double r2;
    if (total > 0) r2 = 1.0 - residual / total;
    else r2 = residual == 0 ? 1.0 : 0.0;
    m.target_mse.push_back(ratio(residual, n));
    m.target_mae.push_back(ratio(s.sum_absolute_error[t], n));
    m.target_r2.push_back(r2);
    m.mse += m.target_mse.back() / static_cast<double>(k);
    m.mae += m.target_mae.back() / static_cast<double>(k);
    m.r2 += r2 / static_cast<double>(k);
  }
  m.loss = m.mse;
  return m;
}

std::string to_json(const Metrics& m) {
  std::ostringstream s;
  s << "{\"task\": \"" << (m.classifier ? "classification" : "regression")
    << "\", \"rows\": " << json_number(m.rows) << ", \"loss\": " << json_number(m.loss);
  if (m.classifier) {
    s << ", \"accuracy\": " << json_number(m.accuracy) << ", \"classes\": " << m.classes()
      << ", \"precision\": " << json_array(m.precision) << ", \"recall\": " << json_array(m.recall)
      << ", \"f1\": " << json_array(m.f1) << ", \"support\": " << json_array(m.support)
      << ", \"macro_precision\": " << json_number(m.macro_precision)
      << ", \"macro_recall\": " << json_number(m.macro_recall)
      << ", \"macro_f1\": " << json_number(m.macro_f1) << ", \"confusion\": [";
    const auto c = static_cast<std::size_t>(m.classes());
    for (std::size_t i = 0; i < c; ++i) {
      s << (i ? ", " : "")
        << json_array(std::vector<std::int64_t>(m.confusion.begin() + static_cast<std::ptrdiff_t>(i * c),
                                                m.confusion.begin() + static_cast<std::ptrdiff_t>((i + 1) * c)));
    }
    s << "]";
  } else {
    s << ", \"mse\": " << json_number(m.mse) << ", \"mae\": " << json_number(m.mae)
      << ", \"r2\": " << json_number(m.r2) << ", \"target_mse\": " << json_array(m.target_mse)
      << ", \"target_mae\": " << json_array(m.target_mae)
      << ", \"target_r2\": " << json_array(m.target_r2);
  }
  s << "}";
  return s.str();
}

std::string format_table(const Metrics& m) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(4);
  s << "rows      " << static_cast<std::int64_t>(m.rows) << "\n";
  s << "loss      " << m.loss << (m.classifier ? "  (mean cross-entropy)" : "  (mean squared error)")
    << "\n";
  if (!m.classifier) {
    s << "mse       " << m.mse << "\nmae       " << m.mae << "\nr2        " << m.r2 << "\n";
    if (m.target_mse.size() > 1) {
      s << "\ntarget        mse        mae         r2\n";
      for (std::size_t t = 0; t < m.target_mse.size(); ++t)
        s << std::setw(6) << t << std::setw(11) << m.target_mse[t] << std::setw(11)
          << m.target_mae[t] << std::setw(11) << m.target_r2[t] << "\n";
    }
    return s.str();
  }
  const std::int64_t c = m.classes();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < c; ++i) correct += m.confusion[static_cast<std::size_t>(i * c + i)];
  s << "accuracy  " << m.accuracy << "  (" << correct << "/" << static_cast<std::int64_t>(m.rows)
    << ")\n\n";
  s << " class  precision     recall         f1    support\n";
  for (std::int64_t i = 0; i < c; ++i)
    s << std::setw(6) << i << std::setw(11) << m.precision[i] << std::setw(11) << m.recall[i]
      << std::setw(11) << m.f1[i] << std::setw(11) << static_cast<std::int64_t>(m.support[i]) << "\n";
  s << std::setw(6) << "macro" << std::setw(11) << m.macro_precision << std::setw(11)
    << m.macro_recall << std::setw(11) << m.macro_f1 << std::setw(11)
    << static_cast<std::int64_t>(m.rows) << "\n\n";
  // Column width fits the largest count.
  std::int64_t largest = 0;
  for (auto v : m.confusion) largest = std::max(largest, v);
  const int w = std::max<int>(5, static_cast<int>(std::to_string(largest).size()) + 2);
  s << "confusion matrix (rows: true class, columns: predicted class)\n" << std::setw(6) << "";
  for (std::int64_t j = 0; j < c; ++j) s << std::setw(w) << j;
  s << "\n";
  for (std::int64_t i = 0; i < c; ++i) {
    s << std::setw(6) << i;
    for (std::int64_t j = 0; j < c; ++j) s << std::setw(w) << m.confusion[static_cast<std::size_t>(i * c + j)];
    s << "\n";
  }
  return s.str();
}

// ---- the command's work on every rank ----

EvalResult evaluate(const EvalOptions& o, Communicator& comm) {
  const double t0 = now();
  EvalResult result;
  MetricSums sums;
  Checkpoint model;
  DataDescription desc;
  run_agreed(comm, [&] {
    if (o.threads < 1) throw ConfigError("--threads must be at least 1");
    if (o.block_rows < 1) throw ConfigError("--block-rows must be at least 1");
    model = load_checkpoint(o.model);
    desc = describe_data(o.data);
    if (desc.rows == 0) throw DataError(o.data.files[0] + ": the dataset has no rows");
    check_model_matches_data(model.spec, o.model, desc, o.data);
  });
  agree_on_data(comm, o.data, desc, "data");
  run_agreed(comm, [&] {
    result.spec = model.spec;
    sums = MetricSums(model.spec);
    Scorer scorer(model.spec, model.params, o.threads);
    const ShardRange mine = shard_range(desc.rows, comm.size(), comm.rank());
    std::vector<float> outputs;
    std::int64_t lo = mine.begin;
    do {  // at least once, so a rank with no rows still checks the label width
      const std::int64_t hi = std::min(mine.end, lo + o.block_rows);
      const Shard block = load_shard(o.data, desc, ShardRange{lo, hi});
      check_labels(model.spec, block, o.data);
      outputs.resize(static_cast<std::size_t>(block.rows() * model.spec.outputs()));
      sums.add(scorer.evaluate(block.features.data(), block.labels.data(), block.rows(),
                               outputs.data()));
      lo = hi;
    } while (lo < mine.end);
  });
  allreduce_metrics(comm, sums);
  result.metrics = finish_metrics(sums);
  result.seconds = now() - t0;
  return result;
}

}  // namespace dptrain
