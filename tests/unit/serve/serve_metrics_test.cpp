// GET /metrics of `dptrain serve`: Prometheus histograms are cumulative with +Inf, _sum and
// _count; counters are labelled by endpoint, code and reason; label values are escaped.
#include <gtest/gtest.h>

#include "serve/serve_metrics.hpp"

using namespace dptrain::serve;

namespace {
bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}
}  // namespace

TEST(ServeMetrics, HistogramBucketsAreCumulative) {
  Histogram h({1, 2, 4});
  for (double v : {0.5, 1.0, 1.5, 3.0, 9.0}) h.observe(v);
  std::string out;
  h.render("x", "help text", out);
  EXPECT_TRUE(has_line(out, "# HELP x help text")) << out;
  EXPECT_TRUE(has_line(out, "# TYPE x histogram")) << out;
  EXPECT_TRUE(has_line(out, "x_bucket{le=\"1\"} 2")) << out;  // le is inclusive
  EXPECT_TRUE(has_line(out, "x_bucket{le=\"2\"} 3")) << out;
  EXPECT_TRUE(has_line(out, "x_bucket{le=\"4\"} 4")) << out;
  EXPECT_TRUE(has_line(out, "x_bucket{le=\"+Inf\"} 5")) << out;
  EXPECT_TRUE(has_line(out, "x_sum 15")) << out;
  EXPECT_TRUE(has_line(out, "x_count 5")) << out;
}

TEST(ServeMetrics, CountsRequestsErrorsBatchesAndGauges) {
  ServeMetrics m;
  m.count_request("infer", 200);
  m.count_request("infer", 200);
  m.count_request("infer", 503, "queue_full");
  m.observe_batch(6, 3);
  m.observe_batch(2, 1);
  m.observe_latency(0.002);
  m.count_reload(false);
  ServeGauges g;
  g.in_flight = 4;
  g.queue_depth = 3;
  g.queue_capacity = 8;
  g.model_name = "m\"x";
  g.model_version = "2";
  g.model_description = "softmax 3-4";
  const std::string out = m.render(g);
  EXPECT_TRUE(has_line(out, "dptrain_serve_requests_total{endpoint=\"infer\",code=\"200\"} 2")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_requests_total{endpoint=\"infer\",code=\"503\"} 1")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_errors_total{reason=\"queue_full\"} 1")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_rows_total 8")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_batch_rows_sum 8")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_batch_requests_count 2")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_request_duration_seconds_count 1")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_requests_in_flight 4")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_queue_depth 3")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_queue_capacity 8")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_model_reloads_total{result=\"failed\"} 1")) << out;
  EXPECT_TRUE(has_line(out, "dptrain_serve_model_info{name=\"m\\\"x\",version=\"2\",description=\"softmax 3-4\"} 1"))
      << out;
}
