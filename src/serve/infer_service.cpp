#include "serve/infer_service.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "dptrain/clock.hpp"
#include "dptrain/log.hpp"
#include "serve/protocol.hpp"

namespace dptrain::serve {
namespace {

Reply error_reply(int status, const std::string& reason, const std::string& message) {
  Reply reply;
  reply.status = status;
  reply.body = error_body(message);
  reply.error_reason = reason;
  return reply;
}

}  // namespace

std::string default_model_name(const std::string& model_path) {
  return std::filesystem::path(model_path).stem().string();
}

InferService::InferService(const ServiceOptions& o)
    : name_(o.model_name.empty() ? default_model_name(o.model_path) : o.model_name),
      slot_(o.model_path, o.score_threads),
      batcher_(o.batching, [this](std::vector<std::shared_ptr<InferJob>>& batch) { run_batch(batch); }) {
  if (name_.empty() || name_.find('/') != std::string::npos)
    throw ConfigError("--model-name '" + name_ + "': expected a non-empty name without '/'");
}

InferService::~InferService() { drain(); }

bool InferService::unknown(const std::string& model_name, Reply& reply) const {
  if (model_name == name_) return false;
  reply = error_reply(404, "unknown_model",
                      "unknown model '" + model_name + "'; this server serves '" + name_ + "'");
  return true;
}

Reply InferService::infer(const std::string& model_name, std::string_view body) {
  const double start = now_seconds();
  ++in_flight_;
  const std::shared_ptr<void> answered(nullptr, [this](void*) { --in_flight_; });
  Reply reply;
  if (unknown(model_name, reply)) return reply;
  const std::shared_ptr<const ServedModel> model = slot_.current();
  InferRequest request;
  batcher_.announce();  // a batch starting now may wait for this request while it is parsed
  try {
    request = parse_infer_request(body, model->spec);
  } catch (const RequestError& e) {
    batcher_.withdraw();
    return error_reply(e.status(), "bad_request", e.what());
  } catch (...) {
    batcher_.withdraw();
    throw;
  }
  auto job = std::make_shared<InferJob>();
  job->rows = request.rows;
  job->inputs = std::move(request.inputs);
  std::future<InferJob::Answer> answer = job->answer.get_future();
  switch (batcher_.submit(job, true)) {
    case Admission::accepted: break;
    case Admission::queue_full:
      return error_reply(503, "queue_full",
                         "server busy: " + std::to_string(batcher_.policy().max_queue) +
                             " requests already wait (--max-queue); retry later");
    case Admission::stopped: return error_reply(503, "shutting_down", "server is shutting down");
  }
  try {
    const InferJob::Answer a = answer.get();
    reply.body = infer_response(name_, std::to_string(a.model->version), request, a.model->spec,
                                a.outputs.data());
  } catch (const std::exception& e) {
    return error_reply(500, "internal", std::string("scoring failed: ") + e.what());
  }
  metrics_.observe_latency(now_seconds() - start);
  return reply;
}

void InferService::run_batch(std::vector<std::shared_ptr<InferJob>>& batch) {
  std::size_t answered = 0;
  try {
    const std::shared_ptr<ServedModel> model = slot_.current();
    const std::int64_t d = model->spec.inputs(), k = model->spec.outputs();
    std::int64_t rows = 0;
    for (const auto& job : batch) {
      if (static_cast<std::int64_t>(job->inputs.size()) != job->rows * d)
        throw Error("a request of " + std::to_string(job->inputs.size()) +
                    " values does not fit the model's input width " + std::to_string(d));
      rows += job->rows;
    }
    const float* x = batch.front()->inputs.data();
    if (batch.size() > 1) {  // one contiguous block for one forward pass
      merged_inputs_.resize(static_cast<std::size_t>(rows * d));
      std::int64_t at = 0;
      for (const auto& job : batch) {
        std::copy(job->inputs.begin(), job->inputs.end(), merged_inputs_.begin() + at * d);
        at += job->rows;
      }
      x = merged_inputs_.data();
    }
    merged_outputs_.resize(static_cast<std::size_t>(rows * k));
    model->scorer.score(x, rows, merged_outputs_.data());
    metrics_.observe_batch(rows, static_cast<std::int64_t>(batch.size()));
    std::int64_t at = 0;
    for (auto& job : batch) {
      const auto first = merged_outputs_.begin() + at * k;
      job->answer.set_value({model, std::vector<float>(first, first + job->rows * k)});
      at += job->rows;
      ++answered;
    }
  } catch (...) {
    for (std::size_t i = answered; i < batch.size(); ++i) batch[i]->answer.set_exception(std::current_exception());
  }
}

Reply InferService::model_metadata(const std::string& model_name) const {
  Reply reply;
  if (unknown(model_name, reply)) return reply;
  const auto model = slot_.current();
  reply.body = serve::model_metadata(name_, std::to_string(model->version), model->spec);
  return reply;
}

Reply InferService::model_ready(const std::string& model_name) const {
  Reply reply;
  if (unknown(model_name, reply)) return reply;
  const bool ready = !draining();
  reply.status = ready ? 200 : 503;
  reply.body = nlohmann::json{{"name", name_}, {"ready", ready}}.dump();
  return reply;
}

bool InferService::reload() {
  const auto old = slot_.current();
  try {
    const auto fresh = slot_.reload();
    metrics_.count_reload(true);
    log_info("serve: reloaded " + fresh->path + " as version " + std::to_string(fresh->version) +
             " (" + fresh->spec.describe() + ")");
    return true;
  } catch (const std::exception& e) {
    metrics_.count_reload(false);
    log_warn("serve: reload failed, still serving version " + std::to_string(old->version) +
             ": " + e.what());
    return false;
  }
}

void InferService::drain() {
  draining_ = true;
  batcher_.stop();
}

bool InferService::draining() const { return draining_; }

std::string InferService::metrics_text() const {
  const auto model = slot_.current();
  ServeGauges g;
  g.queue_depth = batcher_.queued();
  g.in_flight = in_flight_;
  g.queue_capacity = batcher_.policy().max_queue;
  g.model_name = name_;
  g.model_version = std::to_string(model->version);
  g.model_description = model->spec.describe();
  return metrics_.render(g);
}

}  // namespace dptrain::serve
