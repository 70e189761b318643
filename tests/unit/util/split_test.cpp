// Splitting list values: every field (split_fields) or a list as std::getline reads it (split_list).
#include "util/split.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace dptrain {
namespace {

using Fields = std::vector<std::string>;

TEST(SplitTest, FieldsKeepEveryEmptyField) {
  EXPECT_EQ(split_fields("256,128"), (Fields{"256", "128"}));
  EXPECT_EQ(split_fields("a,,b,"), (Fields{"a", "", "b", ""}));
  EXPECT_EQ(split_fields(",a"), (Fields{"", "a"}));
  EXPECT_EQ(split_fields(""), (Fields{""}));
  EXPECT_EQ(split_fields("x\ny", '\n'), (Fields{"x", "y"}));
}

TEST(SplitTest, ListDropsOnlyAnEmptyLastField) {
  EXPECT_EQ(split_list("256,128,"), (Fields{"256", "128"}));
  EXPECT_EQ(split_list("a,,b"), (Fields{"a", "", "b"}));
  EXPECT_EQ(split_list("a,,"), (Fields{"a", ""}));
  EXPECT_EQ(split_list(""), Fields{});
}

TEST(SplitTest, ListMatchesGetline) {
  for (const std::string text : {"", ",", ",,", "a", "a,", ",a", "a,,b", "a,b,,", "1-3,5"}) {
    Fields expected;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) expected.push_back(item);
    EXPECT_EQ(split_list(text), expected) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace dptrain
