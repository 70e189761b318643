#include "serve/http_server.hpp"

#include <sys/socket.h>

#include <chrono>
#include <httplib.h>
#include <mutex>
#include <thread>

#include "dptrain/error.hpp"
#include "serve/protocol.hpp"

namespace dptrain::serve {
namespace {

// cpp-httplib 0.11 listens with a backlog of 5, too short for a burst of clients connecting
// at once (the kernel drops SYNs and clients retry after a second); the subclass reaches the
// listening socket so that bind() can listen again with a longer backlog.
class Server : public httplib::Server {
 public:
  int listening_socket() const { return svr_sock_; }
};

constexpr int kBacklog = 1024;

Reply reply(int status, std::string body, std::string content_type = "application/json") {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

// The endpoint label of /metrics for a path.
std::string endpoint_of(const std::string& path) {
  if (path.size() > 6 && path.compare(path.size() - 6, 6, "/infer") == 0) return "infer";
  if (path.rfind("/v2/health", 0) == 0) return "health";
  if (path == "/metrics") return "metrics";
  if (path.rfind("/v2", 0) == 0) return "metadata";
  return "other";
}

}  // namespace

struct HttpServer::Impl {
  InferService& service;
  ServerOptions options;
  Server http;
  int port = -1;
  std::mutex mutex;
  bool stop_requested = false, listening = false, finished = false;

  Impl(InferService& s, const ServerOptions& o) : service(s), options(o) {
    const int threads = o.threads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    http.set_tcp_nodelay(true);
    // SO_REUSEADDR (restart at once after a stop) but not cpp-httplib's default SO_REUSEPORT,
    // which would let a second server bind the same port and silently share its traffic.
    http.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    // Idle keep-alive connections hold a worker, and a drain waits for them: close them soon.
    http.set_keep_alive_timeout(2);
    http.set_payload_max_length(o.max_body_bytes);
    http.set_keep_alive_max_count(1000);
    routes();
  }

  void send(httplib::Response& res, const std::string& endpoint, const Reply& r) {
    res.status = r.status;
    res.set_content(r.body, r.content_type.c_str());
    if (r.status == 503) res.set_header("Retry-After", "1");
    service.metrics().count_request(endpoint, r.status, r.error_reason);
  }

  void routes() {
    http.Get("/v2/health/live", [this](const httplib::Request&, httplib::Response& res) {
      send(res, "health", reply(200, "{\"live\":true}"));
    });
    http.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
      const bool ready = !service.draining();
      send(res, "health", reply(ready ? 200 : 503, ready ? "{\"ready\":true}" : "{\"ready\":false}"));
    });
    http.Get("/v2", [this](const httplib::Request&, httplib::Response& res) {
      send(res, "metadata", reply(200, server_metadata()));
    });
    http.Get(R"(/v2/models/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      send(res, "metadata", service.model_metadata(req.matches[1]));
    });
    http.Get(R"(/v2/models/([^/]+)/ready)", [this](const httplib::Request& req, httplib::Response& res) {
      send(res, "health", service.model_ready(req.matches[1]));
    });
    http.Post(R"(/v2/models/([^/]+)/infer)", [this](const httplib::Request& req, httplib::Response& res) {
      send(res, "infer", service.infer(req.matches[1], req.body));
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      send(res, "metrics", reply(200, service.metrics_text(), "text/plain; version=0.0.4"));
    });
    // Errors cpp-httplib answers itself (no route, body too large, unreadable request) get a
    // JSON body too; replies our handlers wrote are left alone.
    http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                       httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      std::string reason = "bad_request", message;
      if (res.status == 404) {
        reason = "no_route";
        message = "no endpoint " + req.method + " " + req.path +
                  "; try GET /v2/health/ready, GET /v2/models/" + service.model_name() +
                  ", POST /v2/models/" + service.model_name() + "/infer, GET /metrics";
      } else if (res.status == 413) {
        reason = "body_too_large";
        message = "request body larger than --max-body-bytes " + std::to_string(options.max_body_bytes);
      } else {
        message = "HTTP " + std::to_string(res.status) + ": the request could not be read as HTTP/1.1";
      }
      res.set_content(error_body(message), "application/json");
      service.metrics().count_request(endpoint_of(req.path), res.status, reason);
      return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler([this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string message = "internal error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        message += std::string(": ") + e.what();
      } catch (...) {
      }
      res.status = 500;
      res.set_content(error_body(message), "application/json");
      service.metrics().count_request(endpoint_of(req.path), 500, "internal");
    });
  }
};

HttpServer::HttpServer(InferService& service, const ServerOptions& options)
    : impl_(std::make_unique<Impl>(service, options)) {
  if (options.threads < 1) throw ConfigError("--threads must be at least 1");
  if (options.port < 0 || options.port > 65535)
    throw ConfigError("--port " + std::to_string(options.port) + ": expected 0 (any free port) to 65535");
  if (options.max_body_bytes < 1) throw ConfigError("--max-body-bytes must be at least 1");
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  Impl& s = *impl_;
  const bool ok = s.options.port == 0 ? (s.port = s.http.bind_to_any_port(s.options.host)) > 0
                                      : s.http.bind_to_port(s.options.host, s.port = s.options.port);
  if (!ok)
    throw ConfigError("--host " + s.options.host + " --port " + std::to_string(s.options.port) +
                      ": cannot listen there (address in use, or not an address of this machine)");
  ::listen(s.http.listening_socket(), kBacklog);
  return s.port;
}

std::string HttpServer::url() const {
  const std::string& host = impl_->options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(impl_->port);
}

void HttpServer::run() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mutex);
    if (!s.stop_requested) s.listening = true;
  }
  if (s.listening) s.http.listen_after_bind();
  std::lock_guard lock(s.mutex);
  s.finished = true;
}

void HttpServer::stop() {
  Impl& s = *impl_;
  std::unique_lock lock(s.mutex);
  s.stop_requested = true;
  if (!s.listening) return;  // run() has not started listening and now never will
  // run() is about to listen or listens: wait until cpp-httplib says it runs (its stop()
  // does nothing before that), unless it already returned.
  while (!s.http.is_running() && !s.finished) {
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    lock.lock();
  }
  lock.unlock();
  s.http.stop();
}

}  // namespace dptrain::serve
