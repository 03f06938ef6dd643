#include "cache/lru_policy.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace asidekv::cache {
namespace {

using ::testing::ElementsAre;

class LruPolicyTest : public ::testing::Test {
 protected:
  LruPolicyTest() {
    policy_.SetCapacity(100);
    for (PolicyNode& n : nodes_) n.charge = 1;
  }
  PolicyNode* N(int i) { return &nodes_[i]; }
  void Insert(int i) { policy_.OnInsert(N(i), static_cast<uint64_t>(i)); }

  LruPolicy policy_;
  PolicyNode nodes_[8];
};

TEST_F(LruPolicyTest, EvictOnEmptyReturnsNull) { EXPECT_EQ(policy_.Evict(), nullptr); }

TEST_F(LruPolicyTest, EvictsLeastRecentlyUsed) {
  for (int i = 0; i < 4; ++i) Insert(i);
  policy_.OnAccess(N(0));  // Recency, oldest first: 1 2 3 0.
  policy_.OnAccess(N(2));  // 1 3 0 2.
  EXPECT_EQ(policy_.Evict(), N(1));
  EXPECT_EQ(policy_.Evict(), N(3));
  Insert(5);  // 0 2 5.
  EXPECT_EQ(policy_.Evict(), N(0));
  EXPECT_EQ(policy_.Evict(), N(2));
  EXPECT_EQ(policy_.Evict(), N(5));
  EXPECT_EQ(policy_.Evict(), nullptr);
}

TEST_F(LruPolicyTest, RemoveUnlinks) {
  for (int i = 0; i < 3; ++i) Insert(i);
  policy_.OnRemove(N(0));
  policy_.OnRemove(N(2));
  EXPECT_EQ(policy_.Evict(), N(1));
  EXPECT_EQ(policy_.Evict(), nullptr);
  Insert(0);  // A removed node may be inserted again.
  EXPECT_EQ(policy_.Evict(), N(0));
}

TEST_F(LruPolicyTest, HottestIsMostRecentFirst) {
  for (int i = 0; i < 4; ++i) Insert(i);
  policy_.OnAccess(N(1));
  std::vector<PolicyNode*> out;
  policy_.Hottest(3, &out);
  EXPECT_THAT(out, ElementsAre(N(1), N(3), N(2)));
  out.clear();
  policy_.Hottest(10, &out);
  EXPECT_THAT(out, ElementsAre(N(1), N(3), N(2), N(0)));
  out.clear();
  policy_.Hottest(0, &out);
  EXPECT_TRUE(out.empty());
}

TEST_F(LruPolicyTest, NameIsLru) { EXPECT_EQ(policy_.name(), "lru"); }

}  // namespace
}  // namespace asidekv::cache
