// `dptrain serve`: one process answers Open Inference Protocol (KServe v2) requests over
// HTTP with a trained model; concurrent requests are merged into batches.
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "dptrain/error.hpp"
#include "dptrain/log.hpp"
#include "serve/http_server.hpp"
#include "serve/signal_pipe.hpp"

namespace dptrain::cli {
namespace {

struct ServeCommandOptions {
  serve::ServiceOptions service;
  serve::ServerOptions server;
  double max_delay_ms = 1.0;
};

void serve_until_stopped(const ServeCommandOptions& c) {
  serve::ServiceOptions service_options = c.service;
  if (c.max_delay_ms < 0) throw ConfigError("--max-delay-ms must not be negative");
  if (c.service.score_threads < 1) throw ConfigError("--score-threads must be at least 1");
  service_options.batching.max_delay =
      std::chrono::microseconds(static_cast<std::int64_t>(c.max_delay_ms * 1000.0 + 0.5));
  serve::SignalPipe signals;  // before the startup line: a test may signal as soon as it reads it
  serve::InferService service(service_options);
  serve::HttpServer server(service, c.server);
  server.bind();
  const auto model = service.model();
  const serve::BatchPolicy& b = service.batching();
  std::cout << "dptrain serve: model '" << service.model_name() << "' (" << model->spec.describe()
            << ") from " << model->path << " listening on " << server.url() << " ("
            << c.server.threads << " HTTP threads, " << service_options.score_threads
            << " scoring thread(s), batches of up to " << b.max_batch_rows << " rows within "
            << c.max_delay_ms << " ms, queue of " << b.max_queue << " requests)" << std::endl;

  std::thread watcher([&] {
    while (true) {
      const int sig = signals.wait();
      if (sig == SIGHUP) {
        service.reload();
        continue;
      }
      if (sig != 0)
        log_info(std::string("serve: ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                 ": no new connections; answering the requests in flight");
      server.stop();
      return;
    }
  });
  server.run();        // returns after the in-flight requests were answered
  signals.wake();      // ends the watcher if the server stopped for another reason
  watcher.join();
  service.drain();     // nothing should be queued any more; answer it if it is
  std::cout << "dptrain serve: stopped" << std::endl;
}

}  // namespace

void add_serve_command(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand(
      "serve", "Answer inference requests over HTTP (Open Inference Protocol / KServe v2) with a "
               "trained model; concurrent requests are merged into batches (one process)");
  auto c = std::make_shared<ServeCommandOptions>();
  c->service.score_threads = default_thread_count();
  cmd->add_option("--model,-m", c->service.model_path, "Checkpoint (model) file written by dptrain train")
      ->required();
  cmd->add_option("--model-name", c->service.model_name,
                  "Name in the URL /v2/models/NAME (default: the model file's stem)");
  cmd->add_option("--host", c->server.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", c->server.port, "Port to listen on (0: any free port, printed at start)")
      ->capture_default_str();
  cmd->add_option("--threads", c->server.threads,
                  "HTTP worker threads: connections served at once (each waits for its batch)")
      ->capture_default_str();
  cmd->add_option("--score-threads", c->service.score_threads,
                  "OpenMP threads of each forward pass (default: OMP_NUM_THREADS or 1)")
      ->capture_default_str();
  cmd->add_option("--max-batch", c->service.batching.max_batch_rows,
                  "Most rows merged into one forward pass (1: no merging; a larger request runs alone)")
      ->capture_default_str();
  cmd->add_option("--max-delay-ms", c->max_delay_ms,
                  "Longest a request waits for requests being read to join its batch (0: merge only what is queued)")
      ->capture_default_str();
  cmd->add_option("--max-queue", c->service.batching.max_queue,
                  "Most requests waiting for a batch; more are answered 503 at once")
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", c->server.max_body_bytes,
                  "Largest request body; larger ones are answered 413")
      ->capture_default_str();
  cmd->callback([&run, c] {
    run = [c](MpiCommunicator& comm) {
      run_agreed(comm, [&] {
        if (comm.size() != 1)
          throw ConfigError("serve runs as one process (one HTTP port); start it without mpirun or "
                            "with mpirun -np 1 (this run has " + std::to_string(comm.size()) +
                            " ranks); run several servers behind a load balancer to use more");
        serve_until_stopped(*c);
      });
      return 0;
    };
  });
}

}  // namespace dptrain::cli
