// The work of one training step (threaded gradient, clipping, schedule, optimizer update)
// allocates nothing of its own once its buffers exist: what remains are the matrix library's
// own workspaces (oneDNN's sgemm takes one block per product; Eigen packing blocks for large
// products only), the same for every optimizer. dptrain's malloc settings keep those blocks
// from being returned to the system and faulted back in (runtime_defaults.cpp). And the
// threaded gradient does not depend on the thread count beyond float rounding. Allocations are
// counted by interposing malloc and friends in this executable (glibc exports the real ones as
// __libc_*); Eigen, oneDNN and std::vector all allocate through them.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "dptrain/model.hpp"
#include "dptrain/optimizer.hpp"
#include "dptrain/shard.hpp"
#include "model/gemm.hpp"
#include "train/parallel_gradient.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
void count() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  count();
  return __libc_realloc(p, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  count();
  *out = __libc_memalign(alignment, n);
  return *out ? 0 : 12;  // ENOMEM
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
void free(void* p) { __libc_free(p); }
}

namespace dptrain {
namespace {

ModelSpec mlp(std::vector<std::int64_t> widths) {
  ModelSpec spec;
  spec.name = "mlp";
  spec.widths = std::move(widths);
  spec.activation = Activation::ReLU;
  spec.loss = LossKind::SoftmaxCrossEntropy;
  return spec;
}

struct Batch {
  std::vector<float> x, y;
};

Batch random_batch(const ModelSpec& spec, std::int64_t rows, std::uint64_t seed) {
  Random rng(seed);
  Batch b;
  b.x.resize(static_cast<std::size_t>(rows * spec.inputs()));
  for (auto& v : b.x) v = static_cast<float>(rng.uniform());
  b.y.resize(static_cast<std::size_t>(rows));
  for (auto& v : b.y) v = static_cast<float>(rng.below(static_cast<std::uint64_t>(spec.outputs())));
  return b;
}

// The counter sees allocations (a sanity check of the interposition itself).
TEST(StepAllocation, CounterSeesAllocations) {
  counting = true;
  allocations = 0;
  std::vector<float>* v = new std::vector<float>(1000);
  counting = false;
  delete v;
  EXPECT_GE(allocations.load(), 2);
}

// Counts the allocations of `steps` training steps (threaded gradient, clipping, schedule,
// update) after one warm-up step, which lets OpenMP build its thread team.
long allocations_per_step(const ModelSpec& spec, std::int64_t rows, const char* optimizer_name,
                          int threads) {
  const Batch batch = random_batch(spec, rows, 5);
  AlignedVector<float> params = initial_parameters(spec, 1);
  std::vector<float> grad(spec.num_params());
  ScheduleOptions schedule;
  schedule.name = "cosine";
  schedule.warmup_epochs = 1;
  ParallelGradient gradient(spec, threads, rows);
  OptimizerOptions o;
  o.name = optimizer_name;
  o.weight_decay = 1e-4;
  auto optimizer = make_optimizer(o, params.size());
  auto step = [&](int s) {
    gradient.compute(params.data(), batch.x.data(), batch.y.data(), rows - s, grad.data());
    optimizer->step(params, grad, learning_rate(schedule, 0.1 * s, 3), static_cast<float>(clipped_scale(grad, 1.0, 5.0)));
  };
  step(0);
  constexpr int kSteps = 4;
  allocations = 0;
  counting = true;
  for (int s = 0; s < kSteps; ++s) step(s);
  counting = false;
  return allocations.load() / kSteps;
}

const char* const kOptimizers[] = {"sgd", "momentum", "nesterov", "adam", "adamw"};

// Allocations of one warm float product of this shape by the model's GEMM (detail::gemm).
long allocations_per_product(Eigen::Index m, Eigen::Index n, Eigen::Index k) {
  std::vector<float> a(static_cast<std::size_t>(m * k), 0.5f), b(static_cast<std::size_t>(k * n), 0.25f),
      c(static_cast<std::size_t>(m * n));
  detail::gemm(false, false, m, n, k, a.data(), m, b.data(), k, c.data(), m);
  allocations = 0;
  counting = true;
  detail::gemm(false, false, m, n, k, a.data(), m, b.data(), k, c.data(), m);
  counting = false;
  return allocations.load();
}

// Where every product is small, a step allocates only what its products allocate themselves
// (nothing at all with Eigen's, one block each with oneDNN's): workspaces, per-thread
// gradients and optimizer state are all sized once, before the loop.
TEST(StepAllocation, SmallModelStepsAllocateOnlyInProducts) {
  const ModelSpec spec = mlp({20, 16, 8, 4});
  const long products = 3 * static_cast<long>(spec.layers()) - 1;  // forward, dW, back-propagation
  const long per_product = allocations_per_product(16, 101, 20);
  EXPECT_LE(per_product, 1) << detail::gemm_backend();
  for (const char* name : kOptimizers)
    for (int threads : {1, 2})
      EXPECT_EQ(allocations_per_step(spec, 101, name, threads), per_product * products * threads)
          << name << ", " << threads << " thread(s), " << detail::gemm_backend();
  RecordProperty("gemm", detail::gemm_backend());
}

// Fashion-MNIST's shape at batch 256: the only allocations left are the products' own blocks
// (at most two per product: Eigen's packing blocks when a block exceeds
// EIGEN_STACK_ALLOCATION_LIMIT, 128 KB; oneDNN's one). Their number depends on the layer
// shapes, not on the optimizer and not per sample.
TEST(StepAllocation, LargeModelAllocatesOnlyInProducts) {
  const ModelSpec spec = mlp({784, 256, 128, 10});
  const long products = 3 * static_cast<long>(spec.layers()) - 1;
  for (int threads : {1, 2}) {
    const long sgd = allocations_per_step(spec, 256, "sgd", threads);
    EXPECT_LE(sgd, 2 * products * threads) << threads << " thread(s)";
    for (const char* name : kOptimizers)
      EXPECT_EQ(allocations_per_step(spec, 256, name, threads), sgd) << name << ", " << threads << " thread(s)";
    RecordProperty("product_allocations_per_step_threads_" + std::to_string(threads), std::to_string(sgd));
  }
}

// The slices are summed in thread order: 1, 2 and 3 threads agree up to float rounding,
// on a row count that does not divide evenly.
TEST(ParallelGradient, ThreadCountChangesOnlyRounding) {
  const ModelSpec spec = mlp({20, 16, 8, 4});
  const std::int64_t rows = 101;
  const Batch batch = random_batch(spec, rows, 9);
  const AlignedVector<float> params = initial_parameters(spec, 2);
  ParallelGradient one(spec, 1, rows);
  std::vector<float> reference(spec.num_params());
  const BatchStats ref = one.compute(params.data(), batch.x.data(), batch.y.data(), rows, reference.data());
  double max_ref = 0;
  for (float g : reference) max_ref = std::max(max_ref, std::abs(static_cast<double>(g)));
  ASSERT_GT(max_ref, 0.1);
  for (int threads : {2, 3}) {
    ParallelGradient many(spec, threads, rows);
    std::vector<float> grad(spec.num_params());
    const BatchStats s = many.compute(params.data(), batch.x.data(), batch.y.data(), rows, grad.data());
    EXPECT_NEAR(s.loss, ref.loss, 1e-5 * ref.loss);
    EXPECT_EQ(s.correct, ref.correct);
    for (std::size_t i = 0; i < grad.size(); ++i)
      EXPECT_NEAR(grad[i], reference[i], 1e-5 * max_ref) << threads << " threads, param " << i;
    // Fewer rows than threads leaves some threads empty; still correct.
    std::vector<float> g2(spec.num_params()), r2(spec.num_params());
    const auto a = many.compute(params.data(), batch.x.data(), batch.y.data(), 1, g2.data());
    const auto b = one.compute(params.data(), batch.x.data(), batch.y.data(), 1, r2.data());
    EXPECT_FLOAT_EQ(a.loss, b.loss);
    EXPECT_EQ(g2, r2);
  }
}

}  // namespace
}  // namespace dptrain
