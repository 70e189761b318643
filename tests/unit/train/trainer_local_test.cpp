// Multi-rank training logic on the in-process communicator (ranks as threads).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "dptrain/error.hpp"
#include "dptrain/synthetic.hpp"
#include "dptrain/trainer.hpp"

using namespace dptrain;
namespace fs = std::filesystem;

namespace {
std::string dataset(const std::string& name, std::int64_t classes) {
  const std::string path = (fs::temp_directory_path() / ("dptrain-trainer-test-" + name)).string();
  SyntheticOptions g;
  g.out = path;
  g.rows = 403;  // not divisible by 2, 3 or 4
  g.features = 6;
  g.classes = classes;
  g.seed = 11;
  write_synthetic(g);
  return path;
}

AlignedVector<float> train_on(int ranks, const TrainOptions& o) {
  AlignedVector<float> params;
  run_local_ranks(ranks, [&](Communicator& comm) {
    TrainResult r = train(o, comm, nullptr);
    if (comm.rank() == 0) params = r.params;
  });
  return params;
}

double max_relative_difference(const AlignedVector<float>& a, const AlignedVector<float>& b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return diff / scale;
}
}  // namespace

TEST(TrainerOnLocalRanks, SyncGradMatchesOneRank) {
  TrainOptions o;
  o.data.files = {dataset("softmax.h5", 3)};
  o.model = "softmax";
  o.epochs = 3;
  o.batch = 32;
  o.schedule.lr = 0.3;
  const auto reference = train_on(1, o);
  for (int ranks : {2, 3, 4}) {
    const auto p = train_on(ranks, o);
    ASSERT_EQ(p.size(), reference.size());
    EXPECT_LT(max_relative_difference(p, reference), 1e-5) << ranks << " ranks";
  }
  fs::remove(o.data.files[0]);
}

TEST(TrainerOnLocalRanks, LocalSgdConvergesCloseToSyncGrad) {
  TrainOptions o;
  o.data.files = {dataset("local-sgd.h5", 0)};
  o.model = "linear";
  o.epochs = 20;
  o.batch = 16;
  o.schedule.lr = 0.05;
  double sync_loss = 0, local_loss = 0;
  run_local_ranks(2, [&](Communicator& comm) {
    const auto r = train(o, comm, nullptr);
    if (comm.rank() == 0) sync_loss = r.epochs.back().train_loss;
  });
  o.sync = "params";
  o.average_every = 4;
  run_local_ranks(2, [&](Communicator& comm) {
    const auto r = train(o, comm, nullptr);
    if (comm.rank() == 0) local_loss = r.epochs.back().train_loss;
  });
  // The noise std of the generated targets is 0.1, so the best MSE is about 0.01.
  EXPECT_LT(sync_loss, 0.02);
  EXPECT_LT(local_loss, 0.02);
  fs::remove(o.data.files[0]);
}

TEST(TrainerOnLocalRanks, ABadOptionFailsEveryRankWithOneMessage) {
  TrainOptions o;
  o.data.files = {dataset("bad-option.h5", 3)};
  o.sync = "sometimes";
  std::atomic<int> failures{0};
  run_local_ranks(3, [&](Communicator& comm) {
    try {
      train(o, comm, nullptr);
    } catch (const CollectiveFailure& e) {
      EXPECT_EQ(std::string(e.what()), "--sync 'sometimes': expected grad or params");
      ++failures;
    }
  });
  EXPECT_EQ(failures.load(), 3);
  fs::remove(o.data.files[0]);
}
