// The logger: levels, rank 0 only by default, [rank R] prefixes with all_ranks.
#include "dptrain/log.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "dptrain/error.hpp"

namespace dptrain {
namespace {

struct Captured {
  std::ostringstream out, err;
};

TEST(LogTest, ParsesLevelsAndRejectsOthersNamingTheOption) {
  EXPECT_EQ(parse_log_level("error"), LogLevel::error);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::warn);
  EXPECT_EQ(parse_log_level("info"), LogLevel::info);
  EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
  try {
    parse_log_level("verbose");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "--log-level 'verbose': expected error, warn, info or debug");
  }
}

TEST(LogTest, OnlyRankZeroPrintsByDefault) {
  Captured r0, r1;
  Logger rank0({}, 0, r0.out, r0.err), rank1({}, 1, r1.out, r1.err);
  rank0.write(LogLevel::info, "hello");
  rank1.write(LogLevel::info, "hello");
  rank1.write(LogLevel::error, "bad");
  EXPECT_EQ(r0.out.str(), "dptrain: hello\n");
  EXPECT_EQ(r1.out.str(), "");
  EXPECT_EQ(r1.err.str(), "");
  EXPECT_EQ(rank1.lines(LogLevel::info), nullptr);
}

TEST(LogTest, LevelFiltersAndRoutesWarningsToStderr) {
  Captured c;
  Logger log({LogLevel::warn, false}, 0, c.out, c.err);
  log.write(LogLevel::debug, "d");
  log.write(LogLevel::info, "i");
  log.write(LogLevel::warn, "w");
  log.write(LogLevel::error, "e");
  EXPECT_EQ(c.out.str(), "");
  EXPECT_EQ(c.err.str(), "dptrain: warning: w\ndptrain: error: e\n");
  EXPECT_EQ(log.lines(LogLevel::info), nullptr);
  EXPECT_NE(log.lines(LogLevel::warn), nullptr);

  Captured d;
  Logger debug({LogLevel::debug, false}, 0, d.out, d.err);
  debug.write(LogLevel::debug, "x");
  EXPECT_EQ(d.out.str(), "dptrain: debug: x\n");
}

TEST(LogTest, AllRanksPrefixesEveryLineWithTheRank) {
  Captured c;
  Logger log({LogLevel::info, true}, 3, c.out, c.err);
  log.write(LogLevel::info, "layout");
  std::ostream* lines = log.lines(LogLevel::info);
  ASSERT_NE(lines, nullptr);
  *lines << "epoch 1/2  loss 0.5\nepoch 2/2";
  *lines << "  loss 0.25" << std::endl;
  EXPECT_EQ(c.out.str(), "[rank 3] dptrain: layout\n[rank 3] epoch 1/2  loss 0.5\n[rank 3] epoch 2/2  loss 0.25\n");
}

}  // namespace
}  // namespace dptrain
