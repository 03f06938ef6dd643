// PolicyDriverTest: a fixture that drives an EvictionPolicy as a cache shard does (OnInsert, then
// Evict while over capacity; OnAccess; OnRemove) over an array of test nodes, for the unit tests
// of each policy.
//
// Thread safety: none (a policy is called under its shard's lock).

#ifndef ASIDEKV_TESTS_TESTING_POLICY_DRIVER_H_
#define ASIDEKV_TESTS_TESTING_POLICY_DRIVER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cache/eviction_policy.h"
#include "gtest/gtest.h"

namespace asidekv::testing {

// A node with its key's hash beside it, as a cache entry would have its key.
struct TestNode {
  cache::PolicyNode node;
  uint64_t hash = 0;
};

inline uint64_t TestNodeHash(cache::PolicyNode* node) {
  return reinterpret_cast<TestNode*>(node)->hash;
}
inline uint64_t HashOf(int id) { return static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15u + 1; }

// `Policy` is constructed from a NodeHashFn; keys are ids in [0, kNodes).
template <typename Policy, size_t kNodes>
class PolicyDriverTest : public ::testing::Test {
 protected:
  void SetCapacity(uint64_t capacity) {
    capacity_ = capacity;
    policy_.SetCapacity(capacity);
  }

  // Inserts key `id`; returns the ids evicted to get back within capacity.
  std::vector<int> Insert(int id, uint32_t charge = 1) {
    TestNode& n = nodes_[id];
    n.node.charge = charge;
    n.hash = HashOf(id);
    policy_.OnInsert(&n.node, n.hash);
    charged_ += charge;
    std::vector<int> victims;
    while (charged_ > capacity_) {
      cache::PolicyNode* victim = policy_.Evict();
      if (victim == nullptr) {
        ADD_FAILURE() << "Evict returned null while over capacity";
        break;
      }
      charged_ -= victim->charge;
      victims.push_back(Id(victim));
    }
    return victims;
  }
  void InsertAll(int from, int to) {
    for (int id = from; id < to; ++id) Insert(id);
  }
  void Access(int id, int times = 1) {
    for (int i = 0; i < times; ++i) policy_.OnAccess(N(id));
  }
  void Remove(int id) {
    policy_.OnRemove(N(id));
    charged_ -= N(id)->charge;
  }
  cache::PolicyNode* N(int id) { return &nodes_[id].node; }
  int Id(cache::PolicyNode* node) {
    return static_cast<int>(reinterpret_cast<TestNode*>(node) - nodes_);
  }

  Policy policy_{&TestNodeHash};
  uint64_t capacity_ = 0;
  uint64_t charged_ = 0;
  TestNode nodes_[kNodes];
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_POLICY_DRIVER_H_
