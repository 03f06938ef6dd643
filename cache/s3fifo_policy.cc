#include "cache/s3fifo_policy.h"

#include <algorithm>

namespace asidekv::cache {

S3FifoPolicy::S3FifoPolicy(NodeHashFn node_hash) : node_hash_(node_hash) {}

void S3FifoPolicy::SetCapacity(uint64_t capacity) {
  // floor(0.1 * capacity) and floor(0.9 * capacity), in integers.
  small_capacity_ = capacity / 10;
  main_capacity_ = capacity - small_capacity_;
  ghost_.SetCapacity(capacity - capacity / 10 - (capacity % 10 != 0 ? 1 : 0));
}

void S3FifoPolicy::OnInsert(PolicyNode* node, uint64_t hash) {
  StoreFreq(node, 0);
  if (ghost_.Remove(hash)) {
    node->queue = kMain;
    main_.PushFront(node);
  } else {
    node->queue = kSmall;
    small_.PushFront(node);
  }
}

void S3FifoPolicy::OnAccess(PolicyNode* node) {
  const uint8_t freq = LoadFreq(node);
  if (freq < kMaxFreq) StoreFreq(node, freq + 1);
}

void S3FifoPolicy::OnRemove(PolicyNode* node) {
  (node->queue == kMain ? main_ : small_).Remove(node);
}

PolicyNode* S3FifoPolicy::Evict() {
  if (main_.charge() <= main_capacity_ && !small_.empty()) {
    if (PolicyNode* victim = EvictFromSmall()) return victim;
  }
  return EvictFromMain();
}

PolicyNode* S3FifoPolicy::EvictFromSmall() {
  while (PolicyNode* node = small_.back()) {
    small_.Remove(node);
    if (LoadFreq(node) >= kMoveToMainHits) {
      StoreFreq(node, 0);
      node->queue = kMain;
      main_.PushFront(node);
    } else {
      ghost_.Insert(node_hash_(node), node->charge);
      return node;
    }
  }
  return nullptr;
}

PolicyNode* S3FifoPolicy::EvictFromMain() {
  while (PolicyNode* node = main_.back()) {
    main_.Remove(node);
    const uint8_t freq = LoadFreq(node);
    if (freq == 0) return node;
    StoreFreq(node, freq - 1);
    main_.PushFront(node);
  }
  return nullptr;
}

void S3FifoPolicy::Hottest(size_t n, std::vector<PolicyNode*>* out) const {
  AppendByFreq({&main_, &small_}, kMaxFreq, n, out);
}

}  // namespace asidekv::cache
