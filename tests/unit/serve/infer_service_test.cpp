// The serving logic without HTTP: a real checkpoint file, concurrent infer calls merged by the
// batcher, answers equal to the scorer on the same rows, refusals, and SIGHUP-style reloads
// that swap a good model in and keep the old one for a bad file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "dptrain/checkpoint.hpp"
#include "dptrain/evaluation.hpp"
#include "serve/infer_service.hpp"

using namespace dptrain;
using namespace dptrain::serve;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kFeatures = 5, kClasses = 3;

Checkpoint model(std::uint64_t seed, std::int64_t features = kFeatures) {
  Checkpoint c;
  c.spec = make_model_spec("mlp:8", features, kClasses, LossKind::SoftmaxCrossEntropy, Activation::Tanh);
  c.params = initial_parameters(c.spec, seed);
  return c;
}

std::vector<float> rows(std::int64_t n, std::uint64_t seed) {
  std::mt19937 gen(static_cast<unsigned>(seed));
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<std::size_t>(n * kFeatures));
  for (float& v : x) v = normal(gen);
  return x;
}

std::string request_body(const std::vector<float>& x) {
  const json j = {{"inputs", {{{"name", "input"},
                               {"shape", {static_cast<std::int64_t>(x.size()) / kFeatures, kFeatures}},
                               {"datatype", "FP32"},
                               {"data", x}}}}};
  return j.dump();
}

// The probabilities the scorer gives for `x` with the model in `c`.
std::vector<float> expected(const Checkpoint& c, const std::vector<float>& x) {
  Scorer scorer(c.spec, c.params, 1);
  const auto n = static_cast<std::int64_t>(x.size()) / kFeatures;
  std::vector<float> out(static_cast<std::size_t>(n * kClasses));
  scorer.score(x.data(), n, out.data());
  return out;
}

void expect_answer(const Reply& reply, const std::vector<float>& probabilities, const std::string& version) {
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json r = json::parse(reply.body);
  EXPECT_EQ(r["model_version"], version);
  const auto got = r["outputs"][0]["data"].get<std::vector<float>>();
  ASSERT_EQ(got.size(), probabilities.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], probabilities[i], 1e-6) << i;
}

class InferServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("dptrain-serve-" + std::to_string(::getpid()) + ".h5")).string();
    save_checkpoint(path_, first_);
  }
  void TearDown() override { fs::remove(path_); }
  ServiceOptions options(std::int64_t max_batch = 32) const {
    ServiceOptions o;
    o.model_path = path_;
    o.batching.max_batch_rows = max_batch;
    o.batching.max_delay = std::chrono::microseconds(2000);
    return o;
  }
  std::string path_;
  Checkpoint first_ = model(1);
};

}  // namespace

TEST_F(InferServiceTest, ConcurrentRequestsGetTheirOwnRowsScored) {
  InferService service(options());
  EXPECT_EQ(service.model_name(), fs::path(path_).stem().string());
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t)
    clients.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        const auto x = rows(1 + (t + i) % 4, static_cast<std::uint64_t>(100 * t + i));
        expect_answer(service.infer(service.model_name(), request_body(x)), expected(first_, x), "1");
      }
    });
  for (auto& c : clients) c.join();
  const std::string metrics = service.metrics_text();
  EXPECT_NE(metrics.find("dptrain_serve_batch_rows_count"), std::string::npos);
  EXPECT_NE(metrics.find("dptrain_serve_request_duration_seconds_count 90"), std::string::npos) << metrics;
}

TEST_F(InferServiceTest, RefusesUnknownModelsAndBadBodies) {
  InferService service(options());
  const Reply unknown = service.infer("other", request_body(rows(1, 1)));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("unknown model 'other'"), std::string::npos) << unknown.body;
  const Reply bad = service.infer(service.model_name(), "{\"inputs\": 3}");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.error_reason, "bad_request");
  EXPECT_EQ(service.model_metadata("other").status, 404);
  const json meta = json::parse(service.model_metadata(service.model_name()).body);
  EXPECT_EQ(meta["inputs"][0]["shape"], json::array({-1, kFeatures}));
  service.drain();
  EXPECT_EQ(service.infer(service.model_name(), request_body(rows(1, 1))).status, 503);
  EXPECT_EQ(service.model_ready(service.model_name()).status, 503);
}

TEST_F(InferServiceTest, ReloadSwapsAGoodModelAndKeepsTheOldOneForABadFile) {
  InferService service(options());
  const auto x = rows(3, 5);
  expect_answer(service.infer(service.model_name(), request_body(x)), expected(first_, x), "1");

  const Checkpoint second = model(2);
  save_checkpoint(path_, second);
  ASSERT_TRUE(service.reload());
  expect_answer(service.infer(service.model_name(), request_body(x)), expected(second, x), "2");
  ASSERT_NE(expected(first_, x), expected(second, x));

  std::ofstream(path_, std::ios::trunc) << "not a model";
  EXPECT_FALSE(service.reload());
  save_checkpoint(path_, model(3, kFeatures + 1));  // loads, but clients send 5 features
  EXPECT_FALSE(service.reload());
  expect_answer(service.infer(service.model_name(), request_body(x)), expected(second, x), "2");
  const std::string metrics = service.metrics_text();
  EXPECT_NE(metrics.find("dptrain_serve_model_reloads_total{result=\"ok\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("dptrain_serve_model_reloads_total{result=\"failed\"} 2"), std::string::npos);
}
