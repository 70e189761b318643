// --deterministic: the step's gradient and loss, as every rank holds them after the exchange,
// are bitwise the same for p in {1, 2, 3} ranks (in-process communicator) x t in {1, 2}
// threads, whatever order a rank's rows arrive in; and they are the gradient (a double
// reference). Batches are chosen so that micro-blocks straddle rank boundaries, ranks hold
// fewer rows than half a block, and one rank holds none.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "dptrain/communicator.hpp"
#include "dptrain/model.hpp"
#include "dptrain/shard.hpp"
#include "dptrain/train_config.hpp"
#include "train/gradient_sync.hpp"
#include "train/parallel_gradient.hpp"

namespace dptrain {
namespace {

constexpr std::int64_t kRows = 600, kFeatures = 20;

ModelSpec model(const std::vector<std::int64_t>& hidden) {
  ModelSpec spec;
  spec.name = "mlp";
  spec.widths = {kFeatures};
  spec.widths.insert(spec.widths.end(), hidden.begin(), hidden.end());
  spec.widths.push_back(4);
  spec.loss = LossKind::SoftmaxCrossEntropy;
  return spec;
}

struct Data {
  std::vector<float> x, y;
};

Data dataset() {
  Random rng(11);
  Data d;
  for (std::int64_t i = 0; i < kRows * kFeatures; ++i) d.x.push_back(static_cast<float>(rng.uniform() * 2 - 1));
  for (std::int64_t i = 0; i < kRows; ++i) d.y.push_back(static_cast<float>(rng.below(4)));
  return d;
}

struct Result {
  std::vector<float> grad;
  double loss = 0, correct = 0, rows = 0;
};

// One deterministic step of the global batch `ids` on p ranks x t threads; rank 0's view.
Result step(const ModelSpec& spec, const Data& data, const std::vector<std::int64_t>& ids, int p, int t) {
  const AlignedVector<float> params = initial_parameters(spec, 5);
  Result out;
  run_local_ranks(p, [&](Communicator& comm) {
    const ShardRange mine = shard_range(kRows, p, comm.rank());
    std::vector<std::int64_t> my_ids;
    for (const auto id : ids)
      if (mine.contains(id)) my_ids.push_back(id);
    std::reverse(my_ids.begin(), my_ids.end());  // not sorted: the blocks must not care
    AlignedVector<float> x, y;
    for (const auto id : my_ids) {
      x.insert(x.end(), data.x.begin() + id * kFeatures, data.x.begin() + (id + 1) * kFeatures);
      y.push_back(data.y[static_cast<std::size_t>(id)]);
    }
    const auto rows = static_cast<std::int64_t>(my_ids.size());
    TrainConfig config;
    config.options.deterministic = true;
    Timeline timeline(false);
    auto sync = make_gradient_sync(config, comm, spec, timeline, false);
    ParallelGradient gradient(spec, t, std::max<std::int64_t>(1, rows));
    LocalStep local;
    local.rows = rows;
    local.stats = sync->compute(gradient, params.data(), {rows, x.data(), y.data(), my_ids.data()});
    const StepTotals totals = sync->exchange(local, std::nullopt);
    if (comm.rank() != 0) return;
    out.grad.assign(sync->gradient(), sync->gradient() + spec.num_params());
    out.loss = totals.loss;
    out.correct = totals.correct;
    out.rows = totals.rows;
  });
  return out;
}

// The gradient of the same rows in double precision, in one pass.
std::vector<double> reference(const ModelSpec& spec, const Data& data, const std::vector<std::int64_t>& ids) {
  const AlignedVector<float> params = initial_parameters(spec, 5);
  std::vector<double> p(params.begin(), params.end()), x, y, grad(spec.num_params());
  for (const auto id : ids) {
    for (std::int64_t j = 0; j < kFeatures; ++j) x.push_back(data.x[static_cast<std::size_t>(id * kFeatures + j)]);
    y.push_back(data.y[static_cast<std::size_t>(id)]);
  }
  const auto rows = static_cast<std::int64_t>(ids.size());
  Workspace<double> ws(spec, rows);
  forward_backward(spec, p.data(), x.data(), y.data(), rows, grad.data(), ws);
  return grad;
}

std::vector<std::int64_t> batch_ids(std::int64_t count, std::int64_t below, std::uint64_t seed) {
  GlobalPermutation order(static_cast<std::uint64_t>(below), seed, 1);
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < count; ++i) ids.push_back(static_cast<std::int64_t>(order(static_cast<std::uint64_t>(i))));
  return ids;
}

void expect_bitwise_across_layouts(const ModelSpec& spec, const std::vector<std::int64_t>& ids) {
  const Data data = dataset();
  const Result ref = step(spec, data, ids, 1, 1);
  ASSERT_EQ(ref.rows, static_cast<double>(ids.size()));
  const std::vector<double> exact = reference(spec, data, ids);
  double largest = 0;
  for (const double g : exact) largest = std::max(largest, std::abs(g));
  for (std::size_t i = 0; i < exact.size(); ++i)
    ASSERT_NEAR(ref.grad[i], exact[i], 1e-5 * largest) << "parameter " << i;
  for (int p = 1; p <= 3; ++p) {
    for (int t = 1; t <= 2; ++t) {
      const Result r = step(spec, data, ids, p, t);
      EXPECT_EQ(r.rows, ref.rows) << p << "x" << t;
      EXPECT_EQ(r.loss, ref.loss) << p << "x" << t;
      EXPECT_EQ(r.correct, ref.correct) << p << "x" << t;
      ASSERT_EQ(r.grad.size(), ref.grad.size());
      for (std::size_t i = 0; i < r.grad.size(); ++i)
        ASSERT_EQ(r.grad[i], ref.grad[i]) << p << "x" << t << ", parameter " << i;
    }
  }
}

// 150 rows: about 50 per rank at p = 3, so blocks (64 rows) straddle every rank boundary.
TEST(DeterministicBlocks, BitwiseAcrossRanksAndThreadsMlp) {
  expect_bitwise_across_layouts(model({16, 8}), batch_ids(150, kRows, 3));
}

TEST(DeterministicBlocks, BitwiseAcrossRanksAndThreadsSoftmax) {
  expect_bitwise_across_layouts(model({}), batch_ids(150, kRows, 4));
}

// 20 rows: a block spans all three ranks, each holding fewer rows than half a block.
TEST(DeterministicBlocks, BlockAcrossThreeSmallSegments) {
  expect_bitwise_across_layouts(model({8}), batch_ids(20, kRows, 5));
}

// Every row in the first rank's shard at p = 3: the other ranks bring no rows at all.
TEST(DeterministicBlocks, RanksWithoutRows) {
  expect_bitwise_across_layouts(model({8}), batch_ids(70, kRows / 3, 6));
}

}  // namespace
}  // namespace dptrain
