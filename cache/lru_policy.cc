#include "cache/lru_policy.h"

namespace asidekv::cache {

void LruPolicy::OnInsert(PolicyNode* node, uint64_t /*hash*/) { list_.PushFront(node); }

void LruPolicy::OnAccess(PolicyNode* node) {
  list_.Remove(node);
  list_.PushFront(node);
}

void LruPolicy::OnRemove(PolicyNode* node) { list_.Remove(node); }

PolicyNode* LruPolicy::Evict() {
  PolicyNode* victim = list_.back();
  if (victim != nullptr) list_.Remove(victim);
  return victim;
}

void LruPolicy::Hottest(size_t n, std::vector<PolicyNode*>* out) const {
  for (PolicyNode* node = list_.front(); node != nullptr && n > 0; node = list_.older(node), --n) {
    out->push_back(node);
  }
}

}  // namespace asidekv::cache
