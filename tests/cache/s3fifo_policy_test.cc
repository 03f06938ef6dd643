#include "cache/s3fifo_policy.h"

#include <cstdint>
#include <vector>

#include "cache/ghost_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/policy_driver.h"

namespace asidekv::cache {
namespace {

using ::testing::ElementsAre;

using ::asidekv::testing::HashOf;
using ::asidekv::testing::TestNodeHash;

class S3FifoPolicyTest : public testing::PolicyDriverTest<S3FifoPolicy, 64> {
 protected:
  bool InGhost(int id) const { return policy_.ghost().Contains(HashOf(id)); }
};

TEST_F(S3FifoPolicyTest, EvictOnEmptyReturnsNull) {
  SetCapacity(10);
  EXPECT_EQ(policy_.Evict(), nullptr);
}

TEST_F(S3FifoPolicyTest, SizesQueuesFromCapacity) {
  SetCapacity(1868);
  EXPECT_EQ(policy_.small_capacity(), 186u);
  SetCapacity(10);
  EXPECT_EQ(policy_.small_capacity(), 1u);
  EXPECT_EQ(policy_.name(), "s3fifo");
}

TEST_F(S3FifoPolicyTest, OneHitWonderLeavesFromSmallIntoGhost) {
  SetCapacity(10);
  InsertAll(0, 10);
  EXPECT_EQ(policy_.small().size(), 10u);
  Access(0);  // One hit is not enough to stay.
  EXPECT_THAT(Insert(10), ElementsAre(0));
  EXPECT_TRUE(InGhost(0));
  EXPECT_EQ(policy_.main().size(), 0u);
}

TEST_F(S3FifoPolicyTest, TwoHitsInSmallMoveToMain) {
  SetCapacity(10);
  InsertAll(0, 10);
  Access(0, 2);
  EXPECT_THAT(Insert(10), ElementsAre(1));
  EXPECT_EQ(N(0)->queue, S3FifoPolicy::kMain);
  EXPECT_EQ(N(0)->freq, 0);  // Starts over in main.
  EXPECT_FALSE(InGhost(0));
  EXPECT_TRUE(InGhost(1));
}

TEST_F(S3FifoPolicyTest, GhostHitInsertsIntoMain) {
  SetCapacity(10);
  InsertAll(0, 11);  // Evicts 0.
  ASSERT_TRUE(InGhost(0));
  EXPECT_THAT(Insert(0), ElementsAre(1));
  EXPECT_EQ(N(0)->queue, S3FifoPolicy::kMain);
  EXPECT_FALSE(InGhost(0));  // A ghost hit consumes the ghost entry.
}

TEST_F(S3FifoPolicyTest, MainReinsertsWithFrequencyCappedAtThree) {
  SetCapacity(10);   // small 1, main 9, ghost 9.
  InsertAll(0, 20);  // Evicts 0..9 from small; the ghost keeps the latest 9: 1..9.
  EXPECT_FALSE(InGhost(0));
  for (int id = 1; id <= 9; ++id) {
    EXPECT_THAT(Insert(id), ElementsAre(id + 9));  // Ghost hit: main; small's oldest leaves.
  }
  EXPECT_EQ(policy_.main().size(), 9u);
  Access(1, 5);
  EXPECT_EQ(N(1)->freq, 3);
  Access(2);
  // Main over its share: 1 and 2 go round again (freq 3 -> 2, 1 -> 0), 3 is the victim.
  EXPECT_THAT(Insert(10), ElementsAre(3));
  EXPECT_EQ(N(1)->freq, 2);
  EXPECT_EQ(N(2)->freq, 0);
  // Main, oldest first: 4..9, 10, 1, 2.
  std::vector<int> victims;
  for (int id = 11; id <= 18; ++id) {
    for (int v : Insert(id)) victims.push_back(v);
  }
  EXPECT_THAT(victims, ElementsAre(4, 5, 6, 7, 8, 9, 10, 2));
  EXPECT_EQ(N(1)->queue, S3FifoPolicy::kMain);
  EXPECT_EQ(N(1)->freq, 1);
}

TEST_F(S3FifoPolicyTest, RemoveNeverEntersGhost) {
  SetCapacity(10);
  InsertAll(0, 10);
  Remove(0);
  Remove(5);
  EXPECT_EQ(policy_.ghost().size(), 0u);
  EXPECT_EQ(policy_.small().size(), 8u);
  Insert(0);
  EXPECT_EQ(N(0)->queue, S3FifoPolicy::kSmall);
}

TEST_F(S3FifoPolicyTest, ChargesSizeTheQueues) {
  SetCapacity(100);  // small 10, main 90, ghost 90.
  Insert(0, 6);
  Insert(1, 6);
  EXPECT_EQ(policy_.small().charge(), 12u);
  // 12 + 95 > 100: evicting 0 alone leaves 101, so 1 goes too.
  EXPECT_THAT(Insert(2, 95), ElementsAre(0, 1));
  EXPECT_EQ(policy_.small().charge(), 95u);
  EXPECT_EQ(policy_.ghost().charge(), 12u);
  // The ghost is sized in charge: 95 does not fit in 90.
  EXPECT_THAT(Insert(3, 10), ElementsAre(2));
  EXPECT_FALSE(InGhost(2));
  EXPECT_TRUE(InGhost(0));
  Remove(3);
  EXPECT_EQ(policy_.small().charge(), 0u);
}

TEST_F(S3FifoPolicyTest, GhostStaysBounded) {
  SetCapacity(10);
  InsertAll(0, 60);
  EXPECT_EQ(policy_.ghost().size(), 9u);
  for (int id = 41; id < 50; ++id) EXPECT_TRUE(InGhost(id)) << id;
  EXPECT_FALSE(InGhost(40));
}

TEST_F(S3FifoPolicyTest, HottestPrefersMainThenFrequencyThenRecency) {
  SetCapacity(10);
  InsertAll(0, 11);  // 0 in ghost; small: 1..10.
  Insert(0);         // Ghost hit: main = {0}; evicts 1.
  Access(10, 2);
  Access(5);
  std::vector<PolicyNode*> out;
  policy_.Hottest(4, &out);
  EXPECT_THAT(out, ElementsAre(N(0), N(10), N(5), N(9)));
  out.clear();
  policy_.Hottest(100, &out);
  EXPECT_EQ(out.size(), 10u);
}

TEST(GhostSetTest, RemembersNewestWithinCapacity) {
  GhostSet ghost;
  ghost.SetCapacity(3);
  for (uint64_t h = 1; h <= 5; ++h) ghost.Insert(h, 1);
  EXPECT_EQ(ghost.size(), 3u);
  EXPECT_FALSE(ghost.Contains(2));
  EXPECT_TRUE(ghost.Contains(3));
  EXPECT_TRUE(ghost.Remove(3));
  EXPECT_FALSE(ghost.Remove(3));
  EXPECT_EQ(ghost.charge(), 2u);
  ghost.Insert(6, 1);  // Room freed by the removal: 4 stays.
  EXPECT_TRUE(ghost.Contains(4));
  ghost.Insert(4, 1);  // Re-inserting refreshes: 5 is now the oldest.
  ghost.Insert(7, 1);
  EXPECT_FALSE(ghost.Contains(5));
  EXPECT_TRUE(ghost.Contains(4));
  ghost.SetCapacity(1);
  EXPECT_EQ(ghost.size(), 1u);
  EXPECT_TRUE(ghost.Contains(7));
  ghost.SetCapacity(0);
  EXPECT_EQ(ghost.size(), 0u);
  ghost.Insert(8, 0);  // Charge 0 counts as 1: nothing fits.
  EXPECT_EQ(ghost.size(), 0u);
}

TEST(GhostSetTest, ChurnOfHitsKeepsItConsistent) {
  GhostSet ghost;
  ghost.SetCapacity(100);
  for (uint64_t h = 1; h <= 99999; ++h) {
    ghost.Insert(h, 1);
    if (h % 3 != 0) {
      EXPECT_TRUE(ghost.Remove(h));
    }
  }
  EXPECT_EQ(ghost.size(), 100u);
  EXPECT_EQ(ghost.charge(), 100u);
  EXPECT_TRUE(ghost.Contains(99999));
  EXPECT_FALSE(ghost.Contains(99999 - 300));
}

TEST(GhostSetTest, BoundedByMemoryItRemembersAHashInUnder48Bytes) {
  // A set bounded only by memory: how many hashes 1 MiB holds. With 64-bit hashes, sequence
  // numbers and charges and a FIFO up to twice the live hashes it was 12,799 (82 bytes each).
  constexpr uint64_t kBytes = uint64_t{1} << 20;
  GhostSet ghost;
  ghost.SetCapacity(UINT64_MAX);
  ghost.SetMaxBytes(kBytes);
  ASSERT_GE(ghost.max_hashes(), kBytes / 48);
  // Filled past its bound with churn (hits that leave dead FIFO slots), it stays within it.
  const uint64_t n = 3 * ghost.max_hashes();
  for (uint64_t h = 1; h <= n; ++h) {
    ghost.Insert(h * 0x9E3779B97F4A7C15u, 100);
    if (h % 4 == 0) {
      EXPECT_TRUE(ghost.Remove((h - 1) * 0x9E3779B97F4A7C15u));
    }
    ASSERT_LE(ghost.MemoryBytes(), kBytes);
  }
  EXPECT_LE(ghost.FullBytes(100), kBytes);
  EXPECT_EQ(ghost.size(), ghost.max_hashes());
  EXPECT_TRUE(ghost.Contains(n * 0x9E3779B97F4A7C15u));
  const uint64_t last_hit = n / 4 * 4 - 1;
  EXPECT_FALSE(ghost.Contains(last_hit * 0x9E3779B97F4A7C15u));  // Removed by its hit.
  EXPECT_TRUE(ghost.Contains((last_hit + 1) * 0x9E3779B97F4A7C15u));
}

TEST(GhostSetTest, HashesThatShareTheLow32BitsAreOneGhost) {
  GhostSet ghost;
  ghost.SetCapacity(10);
  ghost.Insert(0x1'0000'0005u, 3);
  EXPECT_TRUE(ghost.Contains(0x2'0000'0005u));
  ghost.Insert(0x2'0000'0005u, 4);  // Replaces the first: one hash, the newer charge.
  EXPECT_EQ(ghost.size(), 1u);
  EXPECT_EQ(ghost.charge(), 4u);
  EXPECT_TRUE(ghost.Remove(5));
  EXPECT_EQ(ghost.charge(), 0u);
}

TEST(GhostSetTest, AChargeOver32BitsIsNotRemembered) {
  GhostSet ghost;
  ghost.SetCapacity(UINT64_MAX);
  ghost.Insert(1, uint64_t{1} << 32);
  EXPECT_EQ(ghost.size(), 0u);
  ghost.Insert(2, UINT32_MAX);
  EXPECT_EQ(ghost.charge(), uint64_t{UINT32_MAX});
}

}  // namespace
}  // namespace asidekv::cache
