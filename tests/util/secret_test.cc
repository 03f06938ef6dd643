#include "util/secret.h"

#include "gtest/gtest.h"

namespace asidekv::util {
namespace {

TEST(ScrubSecretTest, ReplacesEveryOccurrence) {
  EXPECT_EQ(ScrubSecret("a s3cr3t-pass b s3cr3t-pass", "s3cr3t-pass"), "a **** b ****");
  EXPECT_EQ(ScrubSecret("s3cr3t", "s3cr3t"), "****");
  EXPECT_EQ(ScrubSecret("aaaa", "aa"), "********");
}

TEST(ScrubSecretTest, EmptySecretOrNoHitLeavesTheText) {
  EXPECT_EQ(ScrubSecret("abc", ""), "abc");
  EXPECT_EQ(ScrubSecret("abc", "xyz"), "abc");
  EXPECT_EQ(ScrubSecret("", "xyz"), "");
}

}  // namespace
}  // namespace asidekv::util
