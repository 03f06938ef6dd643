// LruPolicy: exact least-recently-used eviction, kept as the baseline the default is measured
// against (tools/trace).
//
// One PolicyList in recency order: OnInsert and OnAccess move the node to the front, Evict takes
// the back. Charges do not change the order; the shard evicts until it is within budget.
//
// Thread safety: none; called under the owning shard's lock (see eviction_policy.h).
// Costs: every method O(1); Hottest O(n).

#ifndef ASIDEKV_CACHE_LRU_POLICY_H_
#define ASIDEKV_CACHE_LRU_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "cache/eviction_policy.h"
#include "cache/policy_list.h"

namespace asidekv::cache {

class LruPolicy final : public EvictionPolicy {
 public:
  LruPolicy() = default;

  std::string_view name() const override { return "lru"; }
  void SetCapacity(uint64_t /*capacity*/) override {}
  void OnInsert(PolicyNode* node, uint64_t hash) override;
  void OnAccess(PolicyNode* node) override;
  void OnRemove(PolicyNode* node) override;
  PolicyNode* Evict() override;
  // Most recently used first.
  void Hottest(size_t n, std::vector<PolicyNode*>* out) const override;

 private:
  PolicyList list_;  // Front: most recently used.
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_LRU_POLICY_H_
