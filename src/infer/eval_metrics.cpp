#include "dptrain/eval_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "dptrain/error.hpp"
#include "dptrain/json.hpp"

namespace dptrain {
namespace {

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

}  // namespace

std::int64_t predicted_class(const ModelSpec& spec, const float* output) {
  if (spec.loss == LossKind::BinaryCrossEntropy) return output[0] > 0.5f ? 1 : 0;
  return std::max_element(output, output + spec.outputs()) - output;
}

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

double MetricSums::correct() const {
  double hits = 0;
  for (std::int64_t i = 0; i < classes; ++i) hits += confusion[static_cast<std::size_t>(i * classes + i)];
  return hits;
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

Json to_json_value(const Metrics& m) {
  Json j;
  j["task"] = m.classifier ? "classification" : "regression";
  j["rows"] = m.rows;
  j["loss"] = m.loss;
  if (m.classifier) {
    j["accuracy"] = m.accuracy;
    j["classes"] = m.classes();
    j["precision"] = m.precision;
    j["recall"] = m.recall;
    j["f1"] = m.f1;
    j["support"] = m.support;
    j["macro_precision"] = m.macro_precision;
    j["macro_recall"] = m.macro_recall;
    j["macro_f1"] = m.macro_f1;
    const auto c = static_cast<std::size_t>(m.classes());
    Json confusion = Json::array();
    for (std::size_t i = 0; i < c; ++i)
      confusion.push_back(std::vector<std::int64_t>(m.confusion.begin() + static_cast<std::ptrdiff_t>(i * c),
                                                    m.confusion.begin() + static_cast<std::ptrdiff_t>((i + 1) * c)));
    j["confusion"] = confusion;
    if (!m.class_names.empty()) j["class_names"] = m.class_names;
  } else {
    j["mse"] = m.mse;
    j["mae"] = m.mae;
    j["r2"] = m.r2;
    j["target_mse"] = m.target_mse;
    j["target_mae"] = m.target_mae;
    j["target_r2"] = m.target_r2;
  }
  return j;
}

std::string to_json(const Metrics& m) { return to_json_line(to_json_value(m)); }

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
  const bool named = static_cast<std::int64_t>(m.class_names.size()) == c;
  s << " class  precision     recall         f1    support" << (named ? "  name" : "") << "\n";
  for (std::int64_t i = 0; i < c; ++i)
    s << std::setw(6) << i << std::setw(11) << m.precision[i] << std::setw(11) << m.recall[i]
      << std::setw(11) << m.f1[i] << std::setw(11) << static_cast<std::int64_t>(m.support[i])
      << (named ? "  " + m.class_names[static_cast<std::size_t>(i)] : std::string()) << "\n";
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

}  // namespace dptrain
