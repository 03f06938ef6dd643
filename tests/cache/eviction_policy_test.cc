// Properties every policy must keep, checked on random operation sequences driven as a shard
// drives a policy (see the invariants in cache/eviction_policy.h).

#include "cache/eviction_policy.h"

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "cache/s3fifo_policy.h"
#include "gtest/gtest.h"

namespace asidekv::cache {
namespace {

struct TestNode {
  PolicyNode node;
  uint64_t hash = 0;
  bool linked = false;
};

uint64_t TestNodeHash(PolicyNode* node) { return reinterpret_cast<TestNode*>(node)->hash; }

class EvictionPolicyTest : public ::testing::TestWithParam<PolicyKind> {};

std::string KindName(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kLru:
      return "lru";
    case PolicyKind::kS3Fifo:
      return "s3fifo";
    case PolicyKind::kWTinyLfu:
      return "wtinylfu";
    case PolicyKind::kAdaptiveS3Fifo:
      return "adaptive";
  }
  return "unknown";
}

TEST_P(EvictionPolicyTest, NamesMatchKinds) {
  std::unique_ptr<EvictionPolicy> policy = NewEvictionPolicy(GetParam(), &TestNodeHash);
  EXPECT_EQ(policy->name(), KindName(GetParam()));
  EXPECT_EQ(NewEvictionPolicy(GetParam())->name(), policy->name());
}

TEST_P(EvictionPolicyTest, RandomOperationsKeepInvariants) {
  constexpr int kKeys = 300;
  constexpr uint64_t kCapacity = 120;
  std::vector<TestNode> nodes(kKeys);
  for (int i = 0; i < kKeys; ++i) nodes[i].hash = 0x1234567ull * static_cast<uint64_t>(i) + 7;
  std::unique_ptr<EvictionPolicy> policy = NewEvictionPolicy(GetParam(), &TestNodeHash);
  policy->SetCapacity(kCapacity);

  std::mt19937 rng(42);
  uint64_t charged = 0;
  size_t linked = 0;
  for (int step = 0; step < 50000; ++step) {
    TestNode& n = nodes[rng() % kKeys];
    const unsigned op = rng() % 10;
    if (!n.linked) {
      n.node.charge = 1 + rng() % 5;
      policy->OnInsert(&n.node, n.hash);
      n.linked = true;
      charged += n.node.charge;
      ++linked;
      while (charged > kCapacity) {
        PolicyNode* victim = policy->Evict();
        ASSERT_NE(victim, nullptr);
        TestNode* v = reinterpret_cast<TestNode*>(victim);
        ASSERT_TRUE(v->linked) << "evicted a node that was not linked";
        v->linked = false;
        charged -= victim->charge;
        --linked;
      }
    } else if (op < 8) {
      policy->OnAccess(&n.node);
    } else {
      policy->OnRemove(&n.node);
      n.linked = false;
      charged -= n.node.charge;
      --linked;
    }

    if (step % 97 == 0 || step == 49999) {
      // Hottest over everything lists each linked node exactly once.
      std::vector<PolicyNode*> all;
      policy->Hottest(kKeys, &all);
      ASSERT_EQ(all.size(), linked);
      absl::flat_hash_set<PolicyNode*> seen;
      uint64_t sum = 0;
      for (PolicyNode* p : all) {
        ASSERT_TRUE(seen.insert(p).second) << "node listed twice";
        ASSERT_TRUE(reinterpret_cast<TestNode*>(p)->linked);
        sum += p->charge;
      }
      ASSERT_EQ(sum, charged);
      if (auto* s3 = dynamic_cast<S3FifoPolicy*>(policy.get())) {
        ASSERT_EQ(s3->small().charge() + s3->main().charge(), charged);
        ASSERT_EQ(s3->small().size() + s3->main().size(), linked);
        ASSERT_LE(s3->ghost().charge(), kCapacity * 9 / 10);
        for (const TestNode& t : nodes) {
          if (t.linked) {
            ASSERT_FALSE(s3->ghost().Contains(t.hash)) << "cached key in the ghost";
          }
        }
      }
    }
  }
  // Draining evicts every node once, then reports empty.
  while (PolicyNode* victim = policy->Evict()) {
    TestNode* v = reinterpret_cast<TestNode*>(victim);
    ASSERT_TRUE(v->linked);
    v->linked = false;
    --linked;
  }
  EXPECT_EQ(linked, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, EvictionPolicyTest,
                         ::testing::Values(PolicyKind::kLru, PolicyKind::kS3Fifo,
                                           PolicyKind::kWTinyLfu, PolicyKind::kAdaptiveS3Fifo),
                         [](const ::testing::TestParamInfo<PolicyKind>& info) {
                           return KindName(info.param);
                         });

}  // namespace
}  // namespace asidekv::cache
