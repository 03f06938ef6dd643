#include "cache/wtinylfu_policy.h"

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/policy_driver.h"

namespace asidekv::cache {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using ::asidekv::testing::HashOf;
using ::asidekv::testing::TestNodeHash;

class WTinyLfuPolicyTest : public testing::PolicyDriverTest<WTinyLfuPolicy, 4096> {};

TEST_F(WTinyLfuPolicyTest, EvictOnEmptyReturnsNull) {
  SetCapacity(10);
  EXPECT_EQ(policy_.Evict(), nullptr);
}

TEST_F(WTinyLfuPolicyTest, WindowStartsAtOnePercentRoundedUp) {
  SetCapacity(1000);
  EXPECT_EQ(policy_.window_target(), 10u);
  SetCapacity(2000);  // Scales with the capacity.
  EXPECT_EQ(policy_.window_target(), 20u);
  WTinyLfuPolicy small(&TestNodeHash);
  small.SetCapacity(10);
  EXPECT_EQ(small.window_target(), 1u);
  EXPECT_GT(small.MemoryBytes(), 0u);
}

TEST_F(WTinyLfuPolicyTest, WindowOverflowFillsMainUntilFull) {
  SetCapacity(10);
  for (int id = 0; id < 10; ++id) EXPECT_THAT(Insert(id), IsEmpty());
  EXPECT_EQ(policy_.window().size() + policy_.main().size(), 10u);
  // Nothing was evicted, and the window holds what exceeds its target only until an eviction.
  EXPECT_THAT(Insert(10), ::testing::SizeIs(1));
  EXPECT_EQ(policy_.window().size(), 1u);
  EXPECT_EQ(policy_.main().size(), 9u);
}

TEST_F(WTinyLfuPolicyTest, AdmitsOnlyKeysMoreFrequentThanTheVictim) {
  SetCapacity(10);
  for (int id = 0; id < 10; ++id) Insert(id);
  for (int id = 0; id < 10; ++id) Access(id, 3);
  // A stream of one-time keys (shorter than the sketch's sample, so nothing is aged yet) never
  // displaces the frequent ones: each new key loses to main's victim and is evicted itself.
  ASSERT_GT(policy_.sketch().sample_size(), 40u + 40u);
  for (int id = 100; id < 140; ++id) {
    const std::vector<int> victims = Insert(id);
    ASSERT_EQ(victims.size(), 1u);
    EXPECT_GE(victims[0], 9) << "a frequent key was evicted for " << id;
  }
  // A key seen often enough gets in.
  Insert(300);
  Access(300, 6);
  EXPECT_THAT(Insert(301), ElementsAre(301));    // 300 was hit in the window: it goes round.
  const std::vector<int> victims = Insert(302);  // 300 is the candidate now, and wins.
  ASSERT_EQ(victims.size(), 1u);
  EXPECT_LT(victims[0], 9);
  EXPECT_EQ(N(300)->queue, WTinyLfuPolicy::kMain);
}

TEST_F(WTinyLfuPolicyTest, ReferencedWindowNodesGoRoundOnce) {
  SetCapacity(200);  // Window of 2.
  for (int id = 0; id < 200; ++id) Insert(id);
  Insert(200);
  Insert(201);
  Access(200);
  // 202 pushes the window over: 200 was hit and goes round, so 201 is the candidate.
  const std::vector<int> victims = Insert(202);
  ASSERT_EQ(victims.size(), 1u);
  EXPECT_NE(victims[0], 200);
}

TEST_F(WTinyLfuPolicyTest, RemoveUnlinksFromEitherQueue) {
  SetCapacity(10);
  for (int id = 0; id < 11; ++id) Insert(id);
  const int in_window = Id(policy_.window().front());
  policy_.OnRemove(N(in_window));
  charged_ -= 1;
  const int in_main = Id(policy_.main().front());
  policy_.OnRemove(N(in_main));
  charged_ -= 1;
  EXPECT_EQ(policy_.window().size() + policy_.main().size(), 8u);
  std::vector<PolicyNode*> hottest;
  policy_.Hottest(100, &hottest);
  EXPECT_EQ(hottest.size(), 8u);
}

TEST_F(WTinyLfuPolicyTest, ClimberGrowsTheWindowForRecencyTraffic) {
  // Every key is requested twice, 30 requests apart, and never again: only recency helps, and a
  // window of 1% of 100 entries misses every second request. The climber must grow the window.
  SetCapacity(100);
  const uint64_t initial = policy_.window_target();
  for (int i = 0; i < 40000; ++i) {
    for (int key : {i % 4000, (i + 4000 - 30) % 4000}) {
      PolicyNode* node = N(key);
      if (node->prev != nullptr) {  // Linked: a hit.
        policy_.OnAccess(node);
      } else {
        Insert(key);
      }
    }
  }
  EXPECT_GT(policy_.window_target(), initial);
}

}  // namespace
}  // namespace asidekv::cache
