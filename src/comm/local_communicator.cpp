// Ranks as threads, for unit tests. Each collective: every rank publishes a pointer to its
// data, waits at a barrier, reads all peers in rank order, waits again. A rank that throws
// poisons the group so the others leave their barrier with an exception instead of hanging.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "dptrain/communicator.hpp"
#include "dptrain/error.hpp"

namespace dptrain {
namespace {

struct Shared {
  explicit Shared(int n) : size(n), slots(n), strings(n) {}
  int size;
  std::mutex mutex;
  std::condition_variable cv;
  int arrived = 0;
  long generation = 0;
  bool poisoned = false;
  std::vector<const void*> slots;
  std::vector<std::string> strings;
  // Point-to-point messages in flight, by (source, dest); sends never block.
  std::map<std::pair<int, int>, std::deque<std::vector<float>>> mail;

  void wait() {
    std::unique_lock lock(mutex);
    if (poisoned) throw CommunicationError("local group poisoned by a failed rank");
    const long gen = generation;
    if (++arrived == size) {
      arrived = 0;
      ++generation;
      cv.notify_all();
      return;
    }
    cv.wait(lock, [&] { return generation != gen || poisoned; });
    if (poisoned) throw CommunicationError("local group poisoned by a failed rank");
  }
  void post(int source, int dest, std::vector<float> message) {
    std::lock_guard lock(mutex);
    mail[{source, dest}].push_back(std::move(message));
    cv.notify_all();
  }
  std::vector<float> take(int source, int dest) {
    std::unique_lock lock(mutex);
    auto& queue = mail[{source, dest}];
    cv.wait(lock, [&] { return !queue.empty() || poisoned; });
    if (queue.empty()) throw CommunicationError("local group poisoned by a failed rank");
    std::vector<float> message = std::move(queue.front());
    queue.pop_front();
    return message;
  }
  void poison() {
    std::lock_guard lock(mutex);
    poisoned = true;
    cv.notify_all();
  }
};

class LocalCommunicator final : public Communicator {
 public:
  LocalCommunicator(std::shared_ptr<Shared> shared, int rank)
      : shared_(std::move(shared)), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return shared_->size; }

  void allreduce_sum(std::span<float> d, const char*) override {
    reduce(d, [](float a, float b) { return a + b; });
  }
  void allreduce_sum(std::span<double> d, const char*) override {
    reduce(d, [](double a, double b) { return a + b; });
  }
  void allreduce_sum(std::span<std::int64_t> d, const char*) override {
    reduce(d, [](std::int64_t a, std::int64_t b) { return a + b; });
  }
  // Ranks as threads need no overlap: the sum happens at once.
  void start_allreduce_sum(std::span<float> d, const char* phase) override { allreduce_sum(d, phase); }
  void finish_pending() override {}
  void allreduce_max(std::span<double> d, const char*) override {
    reduce(d, [](double a, double b) { return std::max(a, b); });
  }
  // Each rank sums its own part over the ranks, in rank order (as reduce() does).
  void reduce_scatter_sum(std::span<const float> d, std::span<float> part, std::span<const std::size_t> parts,
                          const char*) override {
    publish(d.data());
    for (std::size_t i = 0; i < part.size(); ++i) {
      const std::size_t at = parts[rank_] + i;
      float acc = static_cast<const float*>(shared_->slots[0])[at];
      for (int r = 1; r < shared_->size; ++r) acc += static_cast<const float*>(shared_->slots[r])[at];
      part[i] = acc;
    }
    shared_->wait();
  }
  void allgather_parts(std::span<float> d, std::span<const std::size_t> parts, const char*) override {
    publish(d.data());
    for (int r = 0; r < shared_->size; ++r) {
      if (r == rank_) continue;
      const auto* src = static_cast<const float*>(shared_->slots[r]);
      std::copy(src + parts[r], src + parts[r + 1], d.begin() + static_cast<std::ptrdiff_t>(parts[r]));
    }
    shared_->wait();
  }
  void broadcast(std::span<float> d, int root) override {
    publish(d.data());
    if (rank_ != root) {
      const auto* src = static_cast<const float*>(shared_->slots[root]);
      std::copy(src, src + d.size(), d.begin());
    }
    shared_->wait();
  }
  void broadcast(std::string& text, int root) override {
    publish(&text);
    if (rank_ != root) text = *static_cast<const std::string*>(shared_->slots[root]);
    shared_->wait();
  }
  std::vector<std::string> allgather(const std::string& text) override {
    shared_->strings[rank_] = text;
    shared_->wait();
    std::vector<std::string> all = shared_->strings;
    shared_->wait();
    return all;
  }
  void barrier() override { shared_->wait(); }
  void send(std::span<const float> d, int dest, const char*) override {
    shared_->post(rank_, dest, std::vector<float>(d.begin(), d.end()));
  }
  void recv(std::span<float> d, int source, const char* phase) override {
    const std::vector<float> message = shared_->take(source, rank_);
    if (message.size() != d.size())
      throw CommunicationError(std::string(phase) + ": expected " + std::to_string(d.size()) +
                               " values from rank " + std::to_string(source) + ", received " +
                               std::to_string(message.size()));
    std::copy(message.begin(), message.end(), d.begin());
  }
  void poison() { shared_->poison(); }

 private:
  void publish(const void* p) {
    shared_->slots[rank_] = p;
    shared_->wait();
  }
  template <class T, class Op>
  void reduce(std::span<T> d, Op op) {
    std::vector<T> copy(d.begin(), d.end());
    publish(copy.data());
    for (std::size_t i = 0; i < d.size(); ++i) {
      T acc = static_cast<const T*>(shared_->slots[0])[i];
      for (int r = 1; r < shared_->size; ++r) acc = op(acc, static_cast<const T*>(shared_->slots[r])[i]);
      d[i] = acc;
    }
    shared_->wait();
  }

  std::shared_ptr<Shared> shared_;
  int rank_;
};

}  // namespace

std::vector<std::unique_ptr<Communicator>> make_local_group(int size) {
  auto shared = std::make_shared<Shared>(size);
  std::vector<std::unique_ptr<Communicator>> group;
  for (int r = 0; r < size; ++r) group.push_back(std::make_unique<LocalCommunicator>(shared, r));
  return group;
}

void run_local_ranks(int size, const std::function<void(Communicator&)>& body) {
  auto group = make_local_group(size);
  std::vector<std::exception_ptr> errors(size);
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      try {
        body(*group[r]);
      } catch (...) {
        errors[r] = std::current_exception();
        static_cast<LocalCommunicator&>(*group[r]).poison();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace dptrain
