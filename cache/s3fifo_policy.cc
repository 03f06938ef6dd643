#include "cache/s3fifo_policy.h"

#include <algorithm>

namespace asidekv::cache {

S3FifoPolicy::S3FifoPolicy(NodeHashFn node_hash, Split split)
    : node_hash_(node_hash), split_(split) {}

void S3FifoPolicy::SetCapacity(uint64_t capacity) {
  // floor(0.1 * capacity) and floor(0.9 * capacity), in integers.
  const uint64_t ghost_capacity = capacity - capacity / 10 - (capacity % 10 != 0 ? 1 : 0);
  ghost_.SetCapacity(ghost_capacity);
  if (split_ == Split::kFixed || capacity_ == 0) {
    small_capacity_ = capacity / 10;
  } else {
    // Keep the adapted share of the capacity.
    small_capacity_ =
        static_cast<uint64_t>(static_cast<double>(small_capacity_) * static_cast<double>(capacity) /
                              static_cast<double>(capacity_));
  }
  capacity_ = capacity;
  if (split_ == Split::kAdaptive) {
    main_ghost_.SetCapacity(ghost_capacity);
    min_small_ = capacity / 100;
    max_small_ = ghost_capacity;
    small_capacity_ = std::clamp(small_capacity_, min_small_, max_small_);
  }
  main_capacity_ = capacity - small_capacity_;
}

void S3FifoPolicy::SetMemoryLimit(uint64_t bytes) {
  if (split_ == Split::kFixed) {
    ghost_.SetMaxBytes(bytes);
    return;
  }
  ghost_.SetMaxBytes(bytes / 2);
  main_ghost_.SetMaxBytes(bytes / 2);
}

void S3FifoPolicy::MoveSplit(bool grow_small, uint64_t charge) {
  if (grow_small) {
    small_capacity_ = std::min(small_capacity_ + charge, max_small_);
  } else {
    small_capacity_ = small_capacity_ > min_small_ + charge ? small_capacity_ - charge : min_small_;
  }
  main_capacity_ = capacity_ - small_capacity_;
}

void S3FifoPolicy::OnInsert(PolicyNode* node, uint64_t hash) {
  StoreFreq(node, 0);
  const bool small_ghost_hit = ghost_.Remove(hash);
  const bool main_ghost_hit =
      !small_ghost_hit && split_ == Split::kAdaptive && main_ghost_.Remove(hash);
  if (small_ghost_hit || main_ghost_hit) {
    if (split_ == Split::kAdaptive) MoveSplit(/*grow_small=*/small_ghost_hit, node->charge);
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
  bool parked = false;
  while (PolicyNode* node = small_.back()) {
    small_.Remove(node);
    const uint8_t freq = LoadFreq(node);
    const bool park =
        split_ == Split::kAdaptive && !parked && main_.charge() + node->charge <= main_capacity_;
    if (freq >= kMoveToMainHits || park) {
      parked = parked || freq < kMoveToMainHits;
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
    if (freq == 0) {
      if (split_ == Split::kAdaptive) main_ghost_.Insert(node_hash_(node), node->charge);
      return node;
    }
    StoreFreq(node, freq - 1);
    main_.PushFront(node);
  }
  return nullptr;
}

void S3FifoPolicy::Hottest(size_t n, std::vector<PolicyNode*>* out) const {
  AppendByFreq({&main_, &small_}, kMaxFreq, n, out);
}

}  // namespace asidekv::cache
