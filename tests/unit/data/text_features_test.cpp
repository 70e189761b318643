// The text featurisation (text_features.hpp): tokens, the documented hash, log tf and the L2
// norm, written out by hand for a small line.
#include <gtest/gtest.h>

#include <cmath>

#include "dptrain/error.hpp"
#include "dptrain/text_features.hpp"
#include "util/fnv1a.hpp"

namespace dptrain {
namespace {

std::int32_t column(const std::string& ngram, int bits) {
  std::uint64_t h = kFnv1aOffset;
  fnv1a(h, ngram.data(), ngram.size());
  return static_cast<std::int32_t>(h & ((std::uint64_t{1} << bits) - 1));
}

TEST(TextFeatures, TokensAreLowerCaseAlphanumericRuns) {
  EXPECT_EQ(tokenize("Hello, WORLD-42!  x\tÄb"), (std::vector<std::string>{"hello", "world", "42", "x", "b"}));
  EXPECT_TRUE(tokenize(" ,;- ").empty());
}

TEST(TextFeatures, HashedNgramsWithLogTfAndUnitNorm) {
  TextFeatureOptions o;
  o.ngrams = 2;
  o.hash_bits = 20;
  TextFeaturizer f(o);
  CsrRows rows;
  f.append("New york, new YORK", rows);
  // unigrams new (2), york (2); bigrams "new york" (2), "york new" (1)
  std::map<std::int32_t, double> want;
  want[column("new", 20)] += std::log1p(2.0);
  want[column("york", 20)] += std::log1p(2.0);
  want[column("new york", 20)] += std::log1p(2.0);
  want[column("york new", 20)] += std::log1p(1.0);
  double norm = 0;
  for (const auto& [c, v] : want) norm += v * v;
  ASSERT_EQ(rows.rows(), 1);
  ASSERT_EQ(rows.nnz(), static_cast<std::int64_t>(want.size()));
  std::size_t i = 0;
  for (const auto& [c, v] : want) {  // sorted columns
    EXPECT_EQ(rows.indices[i], c);
    EXPECT_NEAR(rows.values[i], v / std::sqrt(norm), 1e-6);
    ++i;
  }
  f.append("", rows);  // an empty line is an empty row
  EXPECT_EQ(rows.rows(), 2);
  EXPECT_EQ(rows.nnz(), static_cast<std::int64_t>(want.size()));
}

TEST(TextFeatures, RawCountsWithoutNorm) {
  TextFeatureOptions o;
  o.ngrams = 1;
  o.hash_bits = 8;
  o.tf = "raw";
  o.norm = "none";
  TextFeaturizer f(o);
  CsrRows rows;
  f.append("a a a b", rows);
  ASSERT_EQ(rows.nnz(), 2);
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(rows.values[i], rows.indices[i] == column("a", 8) ? 3.0f : 1.0f);
}

TEST(TextFeatures, RefusesBadSettings) {
  TextFeatureOptions o;
  o.hash_bits = 31;
  EXPECT_THROW(validate(o), ConfigError);
  o.hash_bits = 20;
  o.tf = "idf";
  EXPECT_THROW(validate(o), ConfigError);
}

}  // namespace
}  // namespace dptrain
