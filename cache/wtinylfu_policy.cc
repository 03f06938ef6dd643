#include "cache/wtinylfu_policy.h"

#include <algorithm>
#include <cmath>

namespace asidekv::cache {

WTinyLfuPolicy::WTinyLfuPolicy(NodeHashFn node_hash) : node_hash_(node_hash) {}

void WTinyLfuPolicy::SetCapacity(uint64_t capacity) {
  if (capacity_ == 0) {
    // ceil(1% of capacity), so that a small cache still has a window.
    window_target_ = capacity - capacity * (100 - kInitialWindowPercent) / 100;
  } else {
    window_target_ =
        static_cast<uint64_t>(static_cast<double>(window_target_) * static_cast<double>(capacity) /
                              static_cast<double>(capacity_));
  }
  capacity_ = capacity;
  window_target_ = std::min(window_target_, capacity_);
  step_ = kStepPercent / 100.0 * static_cast<double>(capacity_);
  sketch_.EnsureCapacity(std::min(capacity_, kInitialSketchEntries), max_sketch_entries_);
}

void WTinyLfuPolicy::SetMemoryLimit(uint64_t bytes) {
  max_sketch_entries_ = std::max<uint64_t>(bytes * 2 / FrequencySketch::kCountersPerEntry, 1);
}

void WTinyLfuPolicy::OnInsert(PolicyNode* node, uint64_t hash) {
  node->freq = 0;
  node->queue = kWindow;
  window_.PushFront(node);
  const uint64_t entries = window_.size() + main_.size();
  if (entries > sketch_.entries()) sketch_.EnsureCapacity(entries, max_sketch_entries_);
  sketch_.Increment(hash);
  ++sample_misses_;
  MaybeClimb();
}

void WTinyLfuPolicy::OnAccess(PolicyNode* node) {
  if (node->freq < kMaxFreq) ++node->freq;
  sketch_.Increment(node_hash_(node));
  sample_hits_.fetch_add(1, std::memory_order_relaxed);
}

void WTinyLfuPolicy::OnRemove(PolicyNode* node) {
  (node->queue == kMain ? main_ : window_).Remove(node);
}

PolicyNode* WTinyLfuPolicy::WindowCandidate() {
  while (PolicyNode* node = window_.back()) {
    if (node->freq == 0) return node;
    node->freq = 0;
    window_.Remove(node);
    window_.PushFront(node);
  }
  return nullptr;
}

PolicyNode* WTinyLfuPolicy::MainVictim() {
  while (PolicyNode* node = main_.back()) {
    if (node->freq == 0) return node;
    --node->freq;
    main_.Remove(node);
    main_.PushFront(node);
  }
  return nullptr;
}

void WTinyLfuPolicy::MoveToMain(PolicyNode* node) {
  window_.Remove(node);
  node->queue = kMain;
  node->freq = 0;
  main_.PushFront(node);
}

PolicyNode* WTinyLfuPolicy::Evict() {
  full_ = true;
  const uint64_t main_target = capacity_ - window_target_;
  while (window_.charge() > window_target_) {
    PolicyNode* candidate = WindowCandidate();
    if (main_.charge() + candidate->charge <= main_target) {
      MoveToMain(candidate);
      continue;
    }
    PolicyNode* victim = MainVictim();
    if (victim != nullptr &&
        sketch_.Frequency(node_hash_(candidate)) > sketch_.Frequency(node_hash_(victim))) {
      main_.Remove(victim);
      MoveToMain(candidate);
      return victim;
    }
    window_.Remove(candidate);
    return candidate;
  }
  if (PolicyNode* victim = MainVictim()) {
    main_.Remove(victim);
    return victim;
  }
  if (PolicyNode* candidate = WindowCandidate()) {
    window_.Remove(candidate);
    return candidate;
  }
  return nullptr;
}

void WTinyLfuPolicy::MaybeClimb() {
  if (!full_) return;
  const uint64_t hits = sample_hits_.load(std::memory_order_relaxed);
  const uint64_t requests = hits + sample_misses_;
  if (sample_size_ == 0) {
    // The first sample starts when the cache is full.
    sample_size_ = kSamplePerEntry * (window_.size() + main_.size());
    sample_hits_.store(0, std::memory_order_relaxed);
    sample_misses_ = 0;
    return;
  }
  if (requests < sample_size_) return;
  const double hit_ratio = static_cast<double>(hits) / static_cast<double>(requests);
  const double change = hit_ratio - previous_hit_ratio_;
  const double amount = change >= 0 ? step_ : -step_;
  const double full_step = kStepPercent / 100.0 * static_cast<double>(capacity_);
  step_ = std::abs(change) >= kRestartThreshold ? std::copysign(full_step, amount)
                                                : kStepDecay * amount;
  previous_hit_ratio_ = hit_ratio;
  const double target =
      std::clamp(static_cast<double>(window_target_) + amount, 0.0, static_cast<double>(capacity_));
  window_target_ = static_cast<uint64_t>(std::llround(target));
  sample_size_ = kSamplePerEntry * (window_.size() + main_.size());
  sample_hits_.store(0, std::memory_order_relaxed);
  sample_misses_ = 0;
}

void WTinyLfuPolicy::Hottest(size_t n, std::vector<PolicyNode*>* out) const {
  AppendByFreq({&main_, &window_}, kMaxFreq, n, out);
}

}  // namespace asidekv::cache
