// The dynamic batcher alone (no model, no network): which jobs go together, in what order,
// when the queue refuses, and that stop() answers everything queued.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dptrain/error.hpp"
#include "serve/dynamic_batcher.hpp"

using namespace dptrain;
using namespace dptrain::serve;
using namespace std::chrono_literals;

namespace {

struct TestJob {
  std::int64_t rows = 1;
  int id = 0;
};
using Job = std::shared_ptr<TestJob>;

Job job(int id, std::int64_t rows = 1) { return std::make_shared<TestJob>(TestJob{rows, id}); }

// Records every batch as the list of its job ids. While `hold` is set, a batch blocks after
// being recorded until release(): jobs submitted meanwhile queue up deterministically.
class Recorder {
 public:
  void operator()(std::vector<Job>& batch) {
    std::unique_lock lock(mutex_);
    std::vector<int> ids;
    for (const auto& j : batch) ids.push_back(j->id);
    batches_.push_back(ids);
    changed_.notify_all();
    changed_.wait(lock, [&] { return !hold_; });
  }
  void hold() { std::lock_guard lock(mutex_); hold_ = true; }
  void release() {
    std::lock_guard lock(mutex_);
    hold_ = false;
    changed_.notify_all();
  }
  // Waits (at most 30 s) until `n` batches have started.
  bool wait_for_batches(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 30s, [&] { return batches_.size() >= n; });
  }
  std::vector<std::vector<int>> batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool hold_ = false;
  std::vector<std::vector<int>> batches_;
};

BatchPolicy policy(std::int64_t max_rows, std::chrono::microseconds delay, std::int64_t queue = 100) {
  BatchPolicy p;
  p.max_batch_rows = max_rows;
  p.max_delay = delay;
  p.max_queue = queue;
  return p;
}

using Batches = std::vector<std::vector<int>>;

}  // namespace

TEST(DynamicBatcher, MergesWhatQueuedWhileABatchRan) {
  Recorder rec;
  rec.hold();
  DynamicBatcher<Job> b(policy(8, 0us), std::ref(rec));
  ASSERT_EQ(b.submit(job(1)), Admission::accepted);
  ASSERT_TRUE(rec.wait_for_batches(1));  // job 1 runs alone and is held
  for (int id = 2; id <= 4; ++id) ASSERT_EQ(b.submit(job(id)), Admission::accepted);
  EXPECT_EQ(b.queued(), 3);
  rec.release();
  b.stop();
  EXPECT_EQ(rec.batches(), (Batches{{1}, {2, 3, 4}}));
}

TEST(DynamicBatcher, FillsUpToMaxRowsInArrivalOrderWithoutSplitting) {
  Recorder rec;
  rec.hold();
  DynamicBatcher<Job> b(policy(6, 0us), std::ref(rec));
  b.submit(job(0));
  ASSERT_TRUE(rec.wait_for_batches(1));
  // 3+3 fill a batch; 4 does not fit after them and starts the next; 9 exceeds the limit
  // and runs alone; 1 and 2 follow together.
  const std::int64_t rows[] = {3, 3, 4, 9, 1, 2};
  for (int i = 0; i < 6; ++i) b.submit(job(i + 1, rows[i]));
  rec.release();
  b.stop();
  EXPECT_EQ(rec.batches(), (Batches{{0}, {1, 2}, {3}, {4}, {5, 6}}));
}

TEST(DynamicBatcher, MaxBatchOfOneRowTurnsMergingOff) {
  Recorder rec;
  rec.hold();
  DynamicBatcher<Job> b(policy(1, 0us), std::ref(rec));
  b.submit(job(0));
  ASSERT_TRUE(rec.wait_for_batches(1));
  for (int id = 1; id <= 3; ++id) b.submit(job(id, id == 2 ? 5 : 1));
  rec.release();
  b.stop();
  EXPECT_EQ(rec.batches(), (Batches{{0}, {1}, {2}, {3}}));
}

TEST(DynamicBatcher, RefusesWhenTheQueueIsFull) {
  Recorder rec;
  rec.hold();
  DynamicBatcher<Job> b(policy(100, 0us, 2), std::ref(rec));
  b.submit(job(0));
  ASSERT_TRUE(rec.wait_for_batches(1));  // the running batch does not count
  EXPECT_EQ(b.submit(job(1)), Admission::accepted);
  EXPECT_EQ(b.submit(job(2)), Admission::accepted);
  EXPECT_EQ(b.submit(job(3)), Admission::queue_full);
  EXPECT_EQ(b.queued(), 2);
  rec.release();
  ASSERT_TRUE(rec.wait_for_batches(2));
  EXPECT_EQ(b.submit(job(4)), Admission::accepted);  // room again
  b.stop();
  EXPECT_EQ(rec.batches(), (Batches{{0}, {1, 2}, {4}}));
}

TEST(DynamicBatcher, WaitsForAnnouncedRequestsButNotLongerThanTheDelay) {
  Recorder rec;
  const auto delay = 200ms;
  DynamicBatcher<Job> b(policy(100, delay), std::ref(rec));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) b.announce();
  b.submit(job(1), true);
  b.submit(job(2), true);  // the third announced request never comes
  ASSERT_TRUE(rec.wait_for_batches(1));
  // A lower bound only: the batch may not run before the oldest job waited max_delay.
  EXPECT_GE(std::chrono::steady_clock::now() - start, delay);
  b.withdraw();
  b.stop();
  EXPECT_EQ(rec.batches(), (Batches{{1, 2}}));
}

TEST(DynamicBatcher, ALoneRequestDoesNotWaitForCompany) {
  Recorder rec;
  DynamicBatcher<Job> b(policy(100, std::chrono::hours(1)), std::ref(rec));
  b.submit(job(1));             // nothing announced: runs at once, not in an hour
  ASSERT_TRUE(rec.wait_for_batches(1));
  b.announce();
  b.submit(job(2), true);
  ASSERT_TRUE(rec.wait_for_batches(2));
  b.announce();
  b.announce();
  b.submit(job(3), true);       // waits for the other announced request ...
  b.withdraw();                 // ... until it is withdrawn (a bad request)
  ASSERT_TRUE(rec.wait_for_batches(3));
  b.stop();
  EXPECT_EQ(rec.batches(), (Batches{{1}, {2}, {3}}));
}

TEST(DynamicBatcher, AFullBatchDoesNotWaitForTheDelay) {
  Recorder rec;
  DynamicBatcher<Job> b(policy(3, std::chrono::hours(1)), std::ref(rec));
  b.submit(job(1, 2));
  b.submit(job(2, 1));  // 3 rows: full
  ASSERT_TRUE(rec.wait_for_batches(1));  // well before the hour
  b.stop();
  EXPECT_EQ(rec.batches(), (Batches{{1, 2}}));
}

TEST(DynamicBatcher, StopAnswersEverythingQueuedThenRefuses) {
  Recorder rec;
  rec.hold();
  DynamicBatcher<Job> b(policy(2, std::chrono::hours(1)), std::ref(rec));
  b.submit(job(0, 2));
  ASSERT_TRUE(rec.wait_for_batches(1));
  for (int id = 1; id <= 5; ++id) b.submit(job(id));
  std::thread stopper([&] { b.stop(); });  // whether it stops before or after the release
  rec.release();
  stopper.join();
  // Queued jobs ran in full batches and the last one without waiting an hour for company.
  EXPECT_EQ(rec.batches(), (Batches{{0}, {1, 2}, {3, 4}, {5}}));
  EXPECT_EQ(b.submit(job(6)), Admission::stopped);
}

TEST(DynamicBatcher, ManyThreadsEveryJobRunsOnceAndBatchesRespectTheLimit) {
  std::mutex m;
  std::vector<int> seen;
  std::int64_t largest = 0;
  std::atomic<int> refused{0};
  {
    DynamicBatcher<Job> b(policy(16, 500us, 64), [&](std::vector<Job>& batch) {
      std::lock_guard lock(m);
      std::int64_t rows = 0;
      for (const auto& j : batch) seen.push_back(j->id), rows += j->rows;
      largest = std::max(largest, rows);
    });
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t)
      clients.emplace_back([&, t] {
        for (int i = 0; i < 200; ++i) {
          const int id = t * 1000 + i;
          while (b.submit(job(id, 1 + id % 4)) == Admission::queue_full) {
            ++refused;
            std::this_thread::sleep_for(100us);
          }
        }
      });
    for (auto& c : clients) c.join();
  }  // the destructor stops and drains
  std::sort(seen.begin(), seen.end());
  std::vector<int> expected;
  for (int t = 0; t < 8; ++t)
    for (int i = 0; i < 200; ++i) expected.push_back(t * 1000 + i);
  EXPECT_EQ(seen, expected);
  EXPECT_LE(largest, 16);
}

TEST(DynamicBatcher, RejectsBadPolicies) {
  const auto run = [](std::vector<Job>&) {};
  EXPECT_THROW(DynamicBatcher<Job>(policy(0, 0us), run), ConfigError);
  EXPECT_THROW(DynamicBatcher<Job>(policy(1, -1us), run), ConfigError);
  EXPECT_THROW(DynamicBatcher<Job>(policy(1, 0us, 0), run), ConfigError);
}
