#pragma once
// What `dptrain serve` counts, and GET /metrics in the Prometheus text exposition format
// (https://prometheus.io/docs/instrumenting/exposition_formats/): requests by endpoint and
// status, errors by reason, rows scored, forward passes, batch sizes, queue depth, request
// latency, model reloads. Every method is thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace dptrain::serve {

// A Prometheus histogram: cumulative counts of observations <= each upper bound, their sum
// and their count. Not thread-safe by itself (ServeMetrics locks).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // "# HELP", "# TYPE" and the _bucket/_sum/_count lines of metric `name`.
  void render(const std::string& name, const std::string& help, std::string& out) const;
  std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; last: above every bound
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// The state /metrics reports that the metrics object does not own.
struct ServeGauges {
  std::int64_t in_flight = 0;       // infer requests received and not yet answered
  std::int64_t queue_depth = 0;     // requests waiting for a batch
  std::int64_t queue_capacity = 0;  // --max-queue
  std::string model_name, model_version, model_description;
};

class ServeMetrics {
 public:
  ServeMetrics();
  // One answered HTTP request; `error_reason` (e.g. "bad_request", "queue_full") when it failed.
  void count_request(const std::string& endpoint, int status, const std::string& error_reason = "");
  // Seconds from an infer request's arrival to its answer being ready.
  void observe_latency(double seconds);
  // One forward pass of `rows` rows merged from `requests` requests.
  void observe_batch(std::int64_t rows, std::int64_t requests);
  void count_reload(bool ok);
  std::string render(const ServeGauges& gauges) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, std::uint64_t> errors_;
  std::uint64_t rows_ = 0;
  Histogram latency_, batch_rows_, batch_requests_;
  std::uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
};

}  // namespace dptrain::serve
