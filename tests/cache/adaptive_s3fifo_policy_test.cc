// AdaptiveS3FifoPolicy: S3-FIFO whose small/main split follows ghost hits (cache/s3fifo_policy.h,
// "Adaptive split"). What the fixed split shares with it is tested in s3fifo_policy_test.cc.

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "cache/ghost_set.h"
#include "cache/s3fifo_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/policy_driver.h"

namespace asidekv::cache {
namespace {

using ::asidekv::testing::HashOf;

constexpr int kNodes = 4096;

class AdaptiveS3FifoPolicyTest : public testing::PolicyDriverTest<AdaptiveS3FifoPolicy, kNodes> {
 protected:
  bool Linked(int id) { return N(id)->prev != nullptr; }
  // A read-through request: a hit is an access, a miss inserts. True on a hit.
  bool Request(int id) {
    if (Linked(id)) {
      Access(id);
      return true;
    }
    Insert(id);
    return false;
  }
  // `n` requests over 3000 keys, the low ids more often (the smaller of two uniform draws).
  void RequestSkewed(int n) {
    std::mt19937 rng(5);
    for (int i = 0; i < n; ++i) {
      Request(static_cast<int>(std::min(rng() % 3000, rng() % 3000)));
    }
  }
  // Walks both queues: every linked node is in exactly one, with the matching queue tag, and the
  // queues' sizes and charges add up to what the driver holds.
  void ExpectEveryNodeLinkedOnce() {
    std::vector<int> seen(kNodes, 0);
    uint64_t charge = 0;
    size_t count = 0;
    for (const PolicyList* list : {&policy_.small(), &policy_.main()}) {
      const uint8_t tag = list == &policy_.small() ? S3FifoPolicy::kSmall : S3FifoPolicy::kMain;
      for (PolicyNode* n = list->front(); n != nullptr; n = list->older(n)) {
        ASSERT_EQ(n->queue, tag) << Id(n);
        ++seen[Id(n)];
        charge += n->charge;
        ++count;
      }
    }
    for (int id = 0; id < kNodes; ++id) {
      ASSERT_EQ(seen[id], Linked(id) ? 1 : 0) << id;
    }
    EXPECT_EQ(count, policy_.small().size() + policy_.main().size());
    EXPECT_EQ(charge, charged_);
  }
};

TEST_F(AdaptiveS3FifoPolicyTest, StartsAtTheFixedSplit) {
  SetCapacity(1000);
  EXPECT_EQ(policy_.name(), "adaptive");
  EXPECT_EQ(policy_.small_capacity(), 100u);
  EXPECT_EQ(policy_.Evict(), nullptr);
}

// A small-ghost hit grows small by the key's charge, a main-ghost hit shrinks it; both insert
// into main.
TEST_F(AdaptiveS3FifoPolicyTest, GhostHitsMoveTheSplit) {
  SetCapacity(100);   // small 10, main 90.
  InsertAll(0, 400);  // Main fills from small's overflow, then small's victims enter the ghost.
  ASSERT_EQ(policy_.main().size(), 90u);
  int key = 399;
  while (key >= 0 && !policy_.ghost().Contains(HashOf(key))) --key;
  ASSERT_GE(key, 0);
  Insert(key);
  EXPECT_EQ(N(key)->queue, S3FifoPolicy::kMain);
  EXPECT_EQ(policy_.small_capacity(), 11u);
  // Push `key` out of main with keys that earn their place (two hits in small), until main's
  // CLOCK reaches it (never hit, so it is not spared).
  int next = 400;
  while (Linked(key) && next < kNodes) {
    Insert(next);
    Access(next++, 2);
  }
  ASSERT_FALSE(Linked(key));
  ASSERT_TRUE(policy_.main_ghost().Contains(HashOf(key)));
  EXPECT_FALSE(policy_.ghost().Contains(HashOf(key)));
  const uint64_t before = policy_.small_capacity();
  Insert(key);
  EXPECT_EQ(N(key)->queue, S3FifoPolicy::kMain);
  EXPECT_EQ(policy_.small_capacity(), before - 1);
  ExpectEveryNodeLinkedOnce();
}

// Recency-heavy traffic (every key requested twice, the second time after more than small's
// worth of other keys but within the ghost's memory) grows small; frequency-heavy traffic (a
// hot set larger than main, requested over and over) then shrinks it.
TEST_F(AdaptiveS3FifoPolicyTest, SplitFollowsRecencyThenFrequency) {
  SetCapacity(200);  // small 20 at first, ghosts 180.
  int next = 0;
  for (int round = 0; round < 30; ++round) {
    const int first = next;
    for (int i = 0; i < 80; ++i) Request(next++);
    for (int i = 0; i < 80; ++i) Request(first + i);
  }
  const uint64_t after_recency = policy_.small_capacity();
  EXPECT_GE(after_recency, 60u);
  ExpectEveryNodeLinkedOnce();

  // A hot set of 150 keys (more than main now holds: it wants a larger main), 90% of the requests,
  // among keys that come back only long after the ghosts forgot them.
  std::mt19937 rng(7);
  int cold = 2600;
  for (int i = 0; i < 60000; ++i) {
    if (i % 10 == 0) {
      Request(cold++);
      if (cold == kNodes) cold = 2600;
    } else {
      Request(2400 + static_cast<int>(rng() % 150));
    }
  }
  // Main grows until it holds the hot set: small ends at most 200 - 150.
  EXPECT_LE(policy_.small_capacity(), 50u);
  ExpectEveryNodeLinkedOnce();
}

// A scan of keys requested once does not push out keys that were requested again.
TEST_F(AdaptiveS3FifoPolicyTest, ResistsScans) {
  SetCapacity(100);
  for (int round = 0; round < 3; ++round) {
    for (int id = 0; id < 50; ++id) Request(id);
  }
  for (int id = 100; id < 3100; ++id) Request(id);
  for (int id = 0; id < 50; ++id) EXPECT_TRUE(Linked(id)) << id;
  ExpectEveryNodeLinkedOnce();
}

// A loop over more keys than the cache holds: S3-FIFO's main stays empty (nothing is requested
// twice within small's span) and every request misses; the adaptive split fills main from small's
// overflow while main has room, and main then keeps its keys.
TEST_F(AdaptiveS3FifoPolicyTest, LoopLongerThanTheCacheStillHits) {
  SetCapacity(100);
  uint64_t hits = 0;
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    for (int id = 0; id < 200; ++id) hits += Request(id) ? 1 : 0;
  }
  // Main holds about 90 of the 200 keys: about 45% of the requests after the first round.
  EXPECT_GE(hits, 200u * kRounds * 35 / 100);
  ExpectEveryNodeLinkedOnce();
}

// The second ghost's memory is reported, foretold and bounded with the first's.
TEST_F(AdaptiveS3FifoPolicyTest, ChargesBothGhosts) {
  SetCapacity(1000);
  RequestSkewed(40000);
  ASSERT_GT(policy_.ghost().size(), 0u);
  ASSERT_GT(policy_.main_ghost().size(), 0u);
  EXPECT_EQ(policy_.MemoryBytes(),
            policy_.ghost().MemoryBytes() + policy_.main_ghost().MemoryBytes());
  EXPECT_GE(policy_.FullMemoryBytes(1), policy_.MemoryBytes());
  EXPECT_GT(policy_.FullMemoryBytes(1), policy_.ghost().FullBytes(1));
}

TEST_F(AdaptiveS3FifoPolicyTest, MemoryLimitBoundsBothGhosts) {
  SetCapacity(1000);
  constexpr uint64_t kLimit = 8 << 10;
  policy_.SetMemoryLimit(kLimit);
  RequestSkewed(40000);
  ASSERT_GT(policy_.ghost().size(), 0u);
  ASSERT_GT(policy_.main_ghost().size(), 0u);
  EXPECT_LE(policy_.MemoryBytes(), kLimit);
  EXPECT_LE(policy_.FullMemoryBytes(1), kLimit);
  ExpectEveryNodeLinkedOnce();
}

// When every node small holds has earned main, small empties into main without a victim, and
// Evict takes one from main instead.
TEST_F(AdaptiveS3FifoPolicyTest, EvictFindsAVictimWhenSmallEmptiesIntoMain) {
  SetCapacity(10);   // small 1, main 9.
  InsertAll(0, 11);  // 0 fills main's empty room, 1 leaves into the ghost.
  ASSERT_TRUE(policy_.ghost().Contains(HashOf(1)));
  for (int id = 2; id <= 10; ++id) Access(id, 2);
  // A ghost hit: 1 goes to main, and all of small moves to main behind it.
  EXPECT_THAT(Insert(1), ::testing::ElementsAre(0));
  EXPECT_TRUE(policy_.small().empty());
  ExpectEveryNodeLinkedOnce();
}

// Random requests, removals and charges: every node stays linked once, and Evict finds a victim
// whenever a node remains.
TEST_F(AdaptiveS3FifoPolicyTest, RandomOperationsKeepEveryNodeLinkedOnce) {
  SetCapacity(300);
  std::mt19937 rng(11);
  for (int i = 0; i < 200000; ++i) {
    const int id = static_cast<int>(rng() % 1200);
    const unsigned op = rng() % 16;
    if (op == 0 && Linked(id)) {
      Remove(id);
    } else if (op == 1 && !Linked(id)) {
      Insert(id, 1 + rng() % 20);
    } else {
      Request(id);
    }
    if (i % 20000 == 0) ExpectEveryNodeLinkedOnce();
  }
  ExpectEveryNodeLinkedOnce();
  while (charged_ > 0) {
    PolicyNode* victim = policy_.Evict();
    ASSERT_NE(victim, nullptr) << charged_ << " charge units still linked";
    charged_ -= victim->charge;
  }
  EXPECT_EQ(policy_.Evict(), nullptr);
  EXPECT_TRUE(policy_.small().empty());
  EXPECT_TRUE(policy_.main().empty());
}

}  // namespace
}  // namespace asidekv::cache
