#pragma once
// The HTTP/1.1 side of `dptrain serve` (cpp-httplib): a fixed pool of worker threads, the
// Open Inference Protocol routes mapped onto an InferService, JSON errors for everything that
// goes wrong, /metrics, and a stop that drains: no new connections, every request already
// received is answered.
//
//   GET  /v2/health/live            GET /v2/health/ready          GET /v2
//   GET  /v2/models/{name}          GET /v2/models/{name}/ready
//   POST /v2/models/{name}/infer    GET /metrics
#include <cstddef>
#include <memory>
#include <string>

#include "serve/infer_service.hpp"

namespace dptrain::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                             // 0: any free port (see bind())
  int threads = 32;                            // HTTP worker threads (connections served at once)
  std::size_t max_body_bytes = 16u << 20;      // larger bodies get 413
};

class HttpServer {
 public:
  HttpServer(InferService& service, const ServerOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns the port (the one picked when --port is 0). Throws ConfigError
  // naming --host/--port when the address cannot be bound.
  int bind();
  std::string url() const;  // http://host:port, as bound
  // Serves until stop(); returns once every connection's current request has been answered.
  void run();
  // Stops accepting and makes run() return after the in-flight requests. Thread-safe.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dptrain::serve
