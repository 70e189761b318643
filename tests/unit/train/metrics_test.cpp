// Metrics files: JSONL/CSV by extension, the CSV row format, the config sidecar.
#include "dptrain/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dptrain/error.hpp"

namespace dptrain {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

EpochReport report(int epoch) {
  EpochReport r;
  r.epoch = epoch;
  r.train_loss = 0.5 / epoch;
  r.train_accuracy = 0.75;
  r.samples_per_s = 1000;
  r.epoch_s = 2;
  r.compute_s = 1.5;
  r.comm_s = 0.25;
  r.io_s = 0;
  r.lr = 0.1;
  r.ranks = 2;
  r.threads = 3;
  return r;
}

TEST(MetricsTest, FormatFollowsTheExtension) {
  EXPECT_EQ(metrics_format_for("run.csv"), MetricsFormat::csv);
  EXPECT_EQ(metrics_format_for("dir/RUN.CSV"), MetricsFormat::csv);
  EXPECT_EQ(metrics_format_for("run.jsonl"), MetricsFormat::jsonl);
  EXPECT_EQ(metrics_format_for("run"), MetricsFormat::jsonl);
  EXPECT_EQ(metrics_format_for("a.csv/run"), MetricsFormat::jsonl);
}

TEST(MetricsTest, ConfigSidecarReplacesTheExtension) {
  EXPECT_EQ(config_sidecar_path("runs/a/metrics.jsonl"), "runs/a/metrics.config.toml");
  EXPECT_EQ(config_sidecar_path("m.csv"), "m.config.toml");
  EXPECT_EQ(config_sidecar_path("runs.v2/metrics"), "runs.v2/metrics.config.toml");
  EXPECT_EQ(config_sidecar_path(".hidden"), ".hidden.config.toml");
}

TEST(MetricsTest, CsvRowHasOneFieldPerColumnAndEmptyFieldsForMissingValues) {
  EpochReport r = report(2);
  r.val_loss = 0.5;
  r.train_loss = NAN;
  EXPECT_EQ(to_csv(r), "2,,0.75,0.5,,1000,2,0,1.5,0.25,0,0.1,0,0,2,3");
  auto count = [](const std::string& s) { return std::count(s.begin(), s.end(), ','); };
  EXPECT_EQ(count(to_csv(r)), count(csv_header()));
}

TEST(MetricsTest, WritesJsonlCsvAndTheConfigNextToThem) {
  const auto dir = std::filesystem::temp_directory_path() / ("dptrain-metrics-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string jsonl = (dir / "run.jsonl").string(), csv = (dir / "other.csv").string();
  {
    MetricsWriter w;
    w.open(jsonl, csv, "epochs=2\nlr=0.1\n");
    EXPECT_TRUE(w.is_open());
    w.write(report(1));
    w.write(report(2));
  }
  std::istringstream lines(read_all(jsonl));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    EXPECT_EQ(line, to_json(report(n)));
  }
  EXPECT_EQ(n, 2);
  EXPECT_EQ(read_all(csv), csv_header() + "\n" + to_csv(report(1)) + "\n" + to_csv(report(2)) + "\n");
  for (const char* sidecar : {"run.config.toml", "other.config.toml"}) {
    const std::string text = read_all((dir / sidecar).string());
    EXPECT_NE(text.find("epochs=2\nlr=0.1\n"), std::string::npos) << sidecar;
  }
  std::filesystem::remove_all(dir);
}

TEST(MetricsTest, CsvByExtensionAndNoFilesWhenNoneAsked) {
  const auto dir = std::filesystem::temp_directory_path() / ("dptrain-metrics2-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  MetricsWriter none;
  none.open("", "", "x=1\n");
  EXPECT_FALSE(none.is_open());
  none.write(report(1));  // nothing to write to: no error

  MetricsWriter w;
  w.open((dir / "m.csv").string(), "", "");
  w.write(report(1));
  EXPECT_EQ(read_all((dir / "m.csv").string()), csv_header() + "\n" + to_csv(report(1)) + "\n");
  MetricsWriter twice;
  EXPECT_THROW(twice.open((dir / "a.csv").string(), (dir / "b.csv").string(), ""), ConfigError);
  MetricsWriter bad;
  try {
    bad.open((dir / "missing" / "m.jsonl").string(), "", "");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--metrics"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("cannot open for writing"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dptrain
