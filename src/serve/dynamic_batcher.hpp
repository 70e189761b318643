#pragma once
// The dynamic batcher of `dptrain serve`: requests that arrive close together are merged into
// one forward pass, as Triton's and TF Serving's batchers do. One batch thread takes, in
// arrival order, as many waiting requests as fit in `max_batch_rows` rows; it waits for more
// only until the oldest waiting request has waited `max_delay`, and only while more requests
// have been announced (their bodies are being read and checked): a lone request does not wait
// for company that is not coming. While a batch runs, new requests queue up, so under load
// batches fill without any delay. The queue is bounded:
// submit() refuses a request when `max_queue` requests already wait, so an overloaded server
// answers "busy" at once instead of growing its memory and latency without limit.
//
// The batcher knows nothing of models or HTTP: a batch is a vector of jobs handed to a
// function, which must answer every job itself (and must not throw).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dptrain/error.hpp"

namespace dptrain::serve {

struct BatchPolicy {
  std::int64_t max_batch_rows = 128;               // rows per forward pass (1: no merging)
  std::chrono::microseconds max_delay{1000};      // longest wait for announced requests
  std::int64_t max_queue = 1024;                   // requests waiting, not yet in a batch

  // Throws ConfigError naming the option (--max-batch, --max-delay-ms, --max-queue).
  void check() const {
    if (max_batch_rows < 1) throw ConfigError("--max-batch must be at least 1 row");
    if (max_delay.count() < 0) throw ConfigError("--max-delay-ms must not be negative");
    if (max_queue < 1) throw ConfigError("--max-queue must be at least 1 request");
  }
};

enum class Admission { accepted, queue_full, stopped };

// Job: a pointer-like type (e.g. std::shared_ptr<T>) whose target has `std::int64_t rows`.
// A job with more rows than max_batch_rows is run alone, never split.
template <class Job>
class DynamicBatcher {
 public:
  using Clock = std::chrono::steady_clock;
  using RunBatch = std::function<void(std::vector<Job>& batch)>;

  DynamicBatcher(const BatchPolicy& policy, RunBatch run) : policy_(policy), run_(std::move(run)) {
    policy_.check();
    thread_ = std::thread([this] { loop(); });
  }
  ~DynamicBatcher() { stop(); }
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // A request is on its way (being read and checked): a batch that could still take rows
  // waits for it, up to max_delay. Each announce() is followed by submit(job, true) or
  // withdraw().
  void announce() {
    std::lock_guard lock(mutex_);
    ++announced_;
  }
  void withdraw() {
    {
      std::lock_guard lock(mutex_);
      --announced_;
    }
    wake_.notify_one();
  }

  // Queues a job unless the queue is full or the batcher is stopping; never blocks on a batch.
  // `announced`: the job was announce()d (and is no longer on its way, whatever the answer).
  Admission submit(Job job, bool announced = false) {
    {
      std::lock_guard lock(mutex_);
      if (announced) --announced_;
      if (stopping_) return Admission::stopped;
      if (static_cast<std::int64_t>(queue_.size()) >= policy_.max_queue) return Admission::queue_full;
      queued_rows_ += job->rows;
      queue_.push_back(Waiting{std::move(job), Clock::now()});
    }
    wake_.notify_one();
    return Admission::accepted;
  }

  // Refuses new jobs, runs every queued one (without waiting for batches to fill) and joins
  // the batch thread. Idempotent.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  // Jobs waiting for a batch (not counting the batch being run).
  std::int64_t queued() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::int64_t>(queue_.size());
  }
  const BatchPolicy& policy() const { return policy_; }

 private:
  struct Waiting {
    Job job;
    Clock::time_point arrived;
  };

  void loop() {
    std::vector<Job> batch;
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      const auto deadline = queue_.front().arrived + policy_.max_delay;
      while (!stopping_ && queued_rows_ < policy_.max_batch_rows && announced_ > 0 &&
             Clock::now() < deadline)
        wake_.wait_until(lock, deadline);
      // The oldest job always goes; later ones join while the rows fit, in arrival order.
      std::int64_t rows = 0;
      batch.clear();
      while (!queue_.empty() &&
             (batch.empty() || rows + queue_.front().job->rows <= policy_.max_batch_rows)) {
        rows += queue_.front().job->rows;
        batch.push_back(std::move(queue_.front().job));
        queue_.pop_front();
      }
      queued_rows_ -= rows;
      lock.unlock();
      run_(batch);
      batch.clear();  // release the jobs before waiting again
      lock.lock();
    }
  }

  BatchPolicy policy_;
  RunBatch run_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Waiting> queue_;
  std::int64_t queued_rows_ = 0;
  std::int64_t announced_ = 0;  // requests on their way
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace dptrain::serve
