#include "serve/serve_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace dptrain::serve {
namespace {

// Prometheus numbers: integers as integers, the rest with enough digits to round-trip.
std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// A label value with \, " and newline escaped.
std::string label(const std::string& v) {
  std::string s;
  for (char c : v) {
    if (c == '\\' || c == '"') s += '\\';
    if (c == '\n') {
      s += "\\n";
      continue;
    }
    s += c;
  }
  return s;
}

void header(std::string& out, const std::string& name, const char* type, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::vector<double> powers_of_two(double first, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; ++i) b.push_back(first * std::pow(2.0, i));
  return b;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[static_cast<std::size_t>(bucket)];
  sum_ += value;
  ++count_;
}

void Histogram::render(const std::string& name, const std::string& help, std::string& out) const {
  header(out, name, "histogram", help);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
    out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

// Latency from 50 us to ~3.3 s; batch sizes 1 to 65536 rows, 1 to 4096 requests.
ServeMetrics::ServeMetrics()
    : latency_(powers_of_two(50e-6, 17)), batch_rows_(powers_of_two(1, 17)),
      batch_requests_(powers_of_two(1, 13)) {}

void ServeMetrics::count_request(const std::string& endpoint, int status, const std::string& error_reason) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
  if (!error_reason.empty()) ++errors_[error_reason];
}

void ServeMetrics::observe_latency(double seconds) {
  std::lock_guard lock(mutex_);
  latency_.observe(seconds);
}

void ServeMetrics::observe_batch(std::int64_t rows, std::int64_t requests) {
  std::lock_guard lock(mutex_);
  rows_ += static_cast<std::uint64_t>(rows);
  batch_rows_.observe(static_cast<double>(rows));
  batch_requests_.observe(static_cast<double>(requests));
}

void ServeMetrics::count_reload(bool ok) {
  std::lock_guard lock(mutex_);
  ++(ok ? reloads_ok_ : reloads_failed_);
}

std::string ServeMetrics::render(const ServeGauges& g) const {
  std::lock_guard lock(mutex_);
  std::string out;
  header(out, "dptrain_serve_requests_total", "counter", "HTTP requests answered, by endpoint and status code.");
  for (const auto& [key, n] : requests_)
    out += "dptrain_serve_requests_total{endpoint=\"" + label(key.first) + "\",code=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  header(out, "dptrain_serve_errors_total", "counter", "Requests refused or failed, by reason.");
  for (const auto& [reason, n] : errors_)
    out += "dptrain_serve_errors_total{reason=\"" + label(reason) + "\"} " + std::to_string(n) + "\n";
  header(out, "dptrain_serve_rows_total", "counter", "Rows scored.");
  out += "dptrain_serve_rows_total " + std::to_string(rows_) + "\n";
  batch_rows_.render("dptrain_serve_batch_rows", "Rows per forward pass (merged requests).", out);
  batch_requests_.render("dptrain_serve_batch_requests", "Requests merged into one forward pass.", out);
  latency_.render("dptrain_serve_request_duration_seconds",
                  "Infer requests: seconds from arrival to answer (parse, queue, score, encode).", out);
  header(out, "dptrain_serve_requests_in_flight", "gauge", "Infer requests received and not yet answered.");
  out += "dptrain_serve_requests_in_flight " + std::to_string(g.in_flight) + "\n";
  header(out, "dptrain_serve_queue_depth", "gauge", "Infer requests waiting for a batch.");
  out += "dptrain_serve_queue_depth " + std::to_string(g.queue_depth) + "\n";
  header(out, "dptrain_serve_queue_capacity", "gauge", "Most requests that may wait (--max-queue).");
  out += "dptrain_serve_queue_capacity " + std::to_string(g.queue_capacity) + "\n";
  header(out, "dptrain_serve_model_reloads_total", "counter", "SIGHUP model reloads, by result.");
  out += "dptrain_serve_model_reloads_total{result=\"ok\"} " + std::to_string(reloads_ok_) + "\n";
  out += "dptrain_serve_model_reloads_total{result=\"failed\"} " + std::to_string(reloads_failed_) + "\n";
  header(out, "dptrain_serve_model_info", "gauge", "The model being served (value 1).");
  out += "dptrain_serve_model_info{name=\"" + label(g.model_name) + "\",version=\"" +
         label(g.model_version) + "\",description=\"" + label(g.model_description) + "\"} 1\n";
  return out;
}

}  // namespace dptrain::serve
