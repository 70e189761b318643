// Checkpoint files that are damaged, foreign or crowded by other files (issue 12, classes 1
// and 4): every dataset is checked before it sizes a buffer; the checksum covers everything
// that defines the run; other files in a checkpoint folder and a killed writer's temporary
// files never break saving or resuming.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "io/atomic_file.hpp"
#include "dptrain/checkpoint.hpp"
#include "dptrain/error.hpp"
#include "dptrain/hdf5.hpp"
#include "checkpoint_sample.hpp"

using namespace dptrain;
namespace fs = std::filesystem;

namespace {

Checkpoint sample() { return dptrain::test_data::sample_checkpoint(); }

fs::path fresh_folder(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("dptrain-reliability-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A file with every attribute of a checkpoint, and the given /params and /optimizer/m,
// written as a damaged or foreign file would be.
struct Layout {
  std::vector<std::int64_t> params_dims;
  bool integer_params = false;
  std::vector<std::int64_t> m_dims;
  std::int64_t format_version = kCheckpointFormatVersion;
  std::vector<std::int64_t> counters = {0, 3, 12, 0, 40};
  bool with_seed = true;
};

void write_like_checkpoint(const std::string& path, const Checkpoint& c, const Layout& l) {
  H5Writer w(path);
  std::int64_t values = 1;
  for (auto d : l.params_dims) values *= d;
  if (l.integer_params) {
    const std::vector<std::int64_t> ints(static_cast<std::size_t>(values), 1);
    w.write("/params", l.params_dims, ints.data());
  } else {
    const std::vector<float> floats(static_cast<std::size_t>(values), 0.5f);
    w.write("/params", l.params_dims, floats.data());
  }
  std::int64_t m_values = 1;
  for (auto d : l.m_dims) m_values *= d;
  const std::vector<float> m(static_cast<std::size_t>(m_values), 0.25f);
  w.write("/optimizer/m", l.m_dims, m.data());
  w.set_attribute("/", "format_version", std::vector<std::int64_t>{l.format_version});
  w.set_attribute("/", "model", c.spec.name);
  w.set_attribute("/", "widths", c.spec.widths);
  w.set_attribute("/", "activation", to_string(c.spec.activation));
  w.set_attribute("/", "loss", to_string(c.spec.loss));
  w.set_attribute("/", "optimizer", c.optimizer);
  w.set_attribute("/", "counters", l.counters);
  if (l.with_seed) w.set_attribute("/", "seed", std::vector<std::int64_t>{77});
  w.set_attribute("/", "global_batch", std::vector<std::int64_t>{8});
  w.set_attribute("/", "config", c.config);
  w.set_attribute("/", "checksum", std::vector<std::int64_t>{0});
  w.close();
}

std::string load_error(const std::string& path) {
  try {
    load_checkpoint(path);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(CheckpointSafety, ParamsWithExtraDimensionsAreRefusedBeforeReading) {
  const fs::path dir = fresh_folder("dims");
  const Checkpoint c = sample();
  const auto n = static_cast<std::int64_t>(c.params.size());
  // The right first dimension, but 8 values per row: sized by rows, this overflowed the heap.
  write_like_checkpoint((dir / "a.h5").string(), c, {{n, 8}, false, {n}});
  const std::string e = load_error((dir / "a.h5").string());
  EXPECT_NE(e.find("dataset '/params' is float32 [" + std::to_string(n) + ", 8]; expected float [" +
                   std::to_string(n) + "]"),
            std::string::npos)
      << e;
  fs::remove_all(dir);
}

TEST(CheckpointSafety, ParamsOfIntegerTypeOrWrongLengthAreRefused) {
  const fs::path dir = fresh_folder("type");
  const Checkpoint c = sample();
  const auto n = static_cast<std::int64_t>(c.params.size());
  write_like_checkpoint((dir / "int.h5").string(), c, {{n}, true, {n}});
  EXPECT_NE(load_error((dir / "int.h5").string()).find("'/params' is int64 [" + std::to_string(n) + "]"),
            std::string::npos);
  write_like_checkpoint((dir / "short.h5").string(), c, {{n - 1}, false, {n - 1}});
  EXPECT_NE(load_error((dir / "short.h5").string()).find("expected float [" + std::to_string(n) + "]"),
            std::string::npos);
  fs::remove_all(dir);
}

TEST(CheckpointSafety, OptimizerStateIsCheckedLikeParams) {
  const fs::path dir = fresh_folder("optimizer");
  const Checkpoint c = sample();
  const auto n = static_cast<std::int64_t>(c.params.size());
  write_like_checkpoint((dir / "m.h5").string(), c, {{n}, false, {n, 3}});
  EXPECT_NE(load_error((dir / "m.h5").string()).find("dataset '/optimizer/m' is float32 ["),
            std::string::npos);
  fs::remove_all(dir);
}

TEST(CheckpointSafety, MissingOrShortAttributesAreNamed) {
  const fs::path dir = fresh_folder("attributes");
  const Checkpoint c = sample();
  const auto n = static_cast<std::int64_t>(c.params.size());
  Layout no_seed{{n}, false, {n}};
  no_seed.with_seed = false;
  write_like_checkpoint((dir / "seed.h5").string(), c, no_seed);
  EXPECT_NE(load_error((dir / "seed.h5").string()).find("no 'seed' attribute"), std::string::npos);
  Layout short_counters{{n}, false, {n}};
  short_counters.counters = {1, 2};
  write_like_checkpoint((dir / "counters.h5").string(), c, short_counters);
  EXPECT_NE(load_error((dir / "counters.h5").string()).find("attribute 'counters' has 2 value(s); expected 5"),
            std::string::npos);
  Layout future{{n}, false, {n}};
  future.format_version = 99;
  write_like_checkpoint((dir / "future.h5").string(), c, future);
  EXPECT_NE(load_error((dir / "future.h5").string()).find("format version 99"), std::string::npos);
  fs::remove_all(dir);
}

TEST(CheckpointSafety, ChecksumCoversSeedConfigModelAndOptimizer) {
  const Checkpoint base = sample();
  const std::uint64_t sum = checksum(base);
  auto changed = [&](auto edit) {
    Checkpoint c = sample();
    edit(c);
    return checksum(c) != sum;
  };
  EXPECT_TRUE(changed([](Checkpoint& c) { c.seed = 78; }));
  EXPECT_TRUE(changed([](Checkpoint& c) { c.config = "lr=0.2\n"; }));
  EXPECT_TRUE(changed([](Checkpoint& c) { c.data_rows = 41; }));
  EXPECT_TRUE(changed([](Checkpoint& c) { c.global_batch = 16; }));
  EXPECT_TRUE(changed([](Checkpoint& c) { c.optimizer = "sgd"; }));
  EXPECT_TRUE(changed([](Checkpoint& c) { c.spec.activation = Activation::ReLU; }));
  EXPECT_TRUE(changed([](Checkpoint& c) { c.spec.name = "mlp:5"; }));
  // Version 1 files keep their narrower checksum, so they still load.
  Checkpoint other_seed = sample();
  other_seed.seed = 78;
  EXPECT_EQ(checksum(other_seed, 1), checksum(base, 1));
}

TEST(CheckpointSafety, OtherFilesInTheFolderNeverBreakListingOrPruning) {
  const fs::path dir = fresh_folder("folder");
  const Checkpoint c = sample();
  for (std::int64_t step : {5, 40, 12}) save_checkpoint(checkpoint_path(dir.string(), 1, step), c);
  for (const char* name : {"ckpt-e3.h5", "ckpt-e00001-s0000000099.h5.bak", "ckpt-e-s.h5", "ckpt-e7-sX.h5"})
    std::ofstream(dir / name) << "a user's file";
  const auto files = list_checkpoints(dir.string());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(fs::path(files[0]).filename(), "ckpt-e00001-s0000000040.h5");
  EXPECT_EQ(fs::path(files[2]).filename(), "ckpt-e00001-s0000000005.h5");
  prune_checkpoints(dir.string(), 1);
  EXPECT_EQ(list_checkpoints(dir.string()).size(), 1u);
  EXPECT_TRUE(fs::exists(dir / "ckpt-e3.h5"));  // never ours to delete
  const auto point = find_resume_point(dir.string(), false, [](const std::string&) {});
  ASSERT_TRUE(point.has_value());
  EXPECT_EQ(fs::path(point->path).filename(), "ckpt-e00001-s0000000040.h5");
  EXPECT_EQ(checkpoint_step("ckpt-e00002-s0000000123.h5"), 123);
  EXPECT_FALSE(checkpoint_step("ckpt-e5.h5").has_value());
  fs::remove_all(dir);
}

TEST(CheckpointSafety, TemporaryFilesOfKilledWritersAreRemoved) {
  const fs::path dir = fresh_folder("temp");
  // A process that has ended: its pid is free (until reused, which is unlikely right away).
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  const std::string dead = ".ckpt-e00001-s0000000007.h5.tmp." + std::string(host) + "." + std::to_string(child);
  const std::string live = ".ckpt-e00001-s0000000008.h5.tmp." + std::string(host) + "." + std::to_string(::getppid());
  const std::string other_host = ".ckpt-e00001-s0000000009.h5.tmp.another-host." + std::to_string(child);
  for (const auto& name : {dead, live, other_host}) std::ofstream(dir / name) << "partial";
  prune_checkpoints(dir.string(), 3);
  EXPECT_FALSE(fs::exists(dir / dead));
  EXPECT_TRUE(fs::exists(dir / live));        // its writer still runs
  EXPECT_TRUE(fs::exists(dir / other_host));  // another host's writer may still run
  fs::remove_all(dir);
}

TEST(CheckpointSafety, ReaderNeverWritesPastTheBufferItIsGiven) {
  const fs::path dir = fresh_folder("reader");
  const std::string path = (dir / "x.h5").string();
  {
    H5Writer w(path);
    const std::vector<float> x(4 * 3 * 2, 1.0f);
    w.write("/x", {4, 3, 2}, x.data());
    w.close();
  }
  H5Reader r(path);
  std::vector<float> by_rows(4 + 1, -7.0f);  // sized by row count, plus a guard value
  try {
    r.read_rows("/x", 0, 4, std::span(by_rows).first(4));
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("has shape [4, 3, 2], 6 value(s) per row; expected 1 per row"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(by_rows[4], -7.0f);
  fs::remove_all(dir);
}

TEST(CheckpointSafety, WriteErrorsNameTheUsersFileAndTheSystemsReason) {
  const fs::path dir = fresh_folder("errno");
  const std::string path = (dir / "no-such-folder" / "model.h5").string();
  try {
    save_checkpoint(path, sample());
    FAIL() << "no exception";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind(path + ": ", 0), 0u) << m;
    EXPECT_EQ(m.find(".tmp."), std::string::npos) << m;
    EXPECT_NE(m.find("No such file or directory (ENOENT)"), std::string::npos) << m;
  }
  fs::remove_all(dir);
}
