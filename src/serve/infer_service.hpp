#pragma once
// What `dptrain serve` does, without HTTP: checks an infer request, queues it for the dynamic
// batcher, waits for its rows of the merged forward pass and writes the answer; model
// metadata and readiness; SIGHUP reloads; the metrics. The HTTP layer (http_server) maps
// paths to these calls and a Reply to a response.
#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "serve/dynamic_batcher.hpp"
#include "serve/model_slot.hpp"
#include "serve/serve_metrics.hpp"

namespace dptrain::serve {

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string error_reason;  // for the errors metric: bad_request, unknown_model, queue_full, ...
};

// The rows of one request in a batch, and where its answer goes.
struct InferJob {
  std::int64_t rows = 0;
  std::vector<float> inputs;  // rows x inputs
  struct Answer {
    std::shared_ptr<const ServedModel> model;  // the model that scored it
    std::vector<float> outputs;                // rows x model->spec.outputs()
  };
  std::promise<Answer> answer;
};

struct ServiceOptions {
  std::string model_path;
  std::string model_name;  // "" = the file's stem
  int score_threads = 1;   // OpenMP threads of each forward pass
  BatchPolicy batching;
};

class InferService {
 public:
  explicit InferService(const ServiceOptions& options);  // loads the model; starts the batcher
  ~InferService();

  Reply infer(const std::string& model_name, std::string_view body);
  Reply model_metadata(const std::string& model_name) const;
  Reply model_ready(const std::string& model_name) const;
  // Loads the model file again (SIGHUP); logs the outcome; false keeps the old model.
  bool reload();
  // Refuses new requests, answers every queued one, stops the batch thread.
  void drain();
  bool draining() const;

  const std::string& model_name() const { return name_; }
  std::shared_ptr<const ServedModel> model() const { return slot_.current(); }
  const BatchPolicy& batching() const { return batcher_.policy(); }
  ServeMetrics& metrics() { return metrics_; }
  std::string metrics_text() const;

 private:
  void run_batch(std::vector<std::shared_ptr<InferJob>>& batch);
  // 404 naming the model this server serves, or nothing when `model_name` is it.
  bool unknown(const std::string& model_name, Reply& reply) const;

  std::string name_;
  ModelSlot slot_;
  mutable ServeMetrics metrics_;
  std::vector<float> merged_inputs_, merged_outputs_;  // batch thread only
  std::atomic<bool> draining_{false};
  std::atomic<std::int64_t> in_flight_{0};  // infer calls received and not yet answered
  DynamicBatcher<std::shared_ptr<InferJob>> batcher_;  // last: its thread uses the members above
};

// "models/fashion.h5" -> "fashion"
std::string default_model_name(const std::string& model_path);

}  // namespace dptrain::serve
