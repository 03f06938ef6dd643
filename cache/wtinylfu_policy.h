// WTinyLfuPolicy: W-TinyLFU with a window that adapts by hill climbing, on CLOCK queues (not the
// default: see the README's replay table).
//
// Where it comes from
//   W-TinyLFU (Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache Admission Policy",
//   ACM ToS 2017) puts a small recency window in front of a frequency-guarded main cache: a key
//   leaving the window enters main only if a count-min sketch says it was seen more often
//   recently than the key main would evict. The best window size depends on the workload
//   (recency-heavy traffic wants a large one, frequency-heavy a small one), so "Adaptive Software
//   Cache Management" (Einziger, Eytan, Friedman & Manes, Middleware '18) tunes it online; of the
//   climbers compared there and in Caffeine's simulator, Caffeine ships the simple hill climber
//   used here: sample the hit ratio, keep moving the window the same way while it improves,
//   turn back when it drops, shrink the step as it settles, restart on a large change. S3-FIFO
//   (SOSP '23) and SIEVE (NSDI '24) show that FIFO queues with a few reference bits evict as well
//   as LRU lists, and a hit then only writes bits; this policy keeps that property, so a lookup
//   could count its hit without the shard's lock.
//
// Design
//   Two queues over the shard's budget, sized in charge units, and a FrequencySketch:
//     window  (target w, initially 1% of capacity)  new keys; CLOCK: a node hit since it was
//             linked goes round once more instead of leaving (an approximation of LRU).
//     main    (capacity - w)                         keys admitted by frequency; CLOCK with a
//             2-bit counter, as S3-FIFO's main: each pass over a node spends one hit.
//   OnInsert: link at the window's front; count the key in the sketch; count a miss.
//   OnAccess: freq = min(freq + 1, 3); count the key in the sketch; count a hit. No list moves.
//   Evict: while the window is over w, its CLOCK candidate either moves to main (if main has
//     room), or competes with main's CLOCK victim: the candidate is admitted (and the victim
//     evicted) only if its sketch frequency is strictly higher, otherwise the candidate is
//     evicted. Once the window is within w, main's CLOCK victim is evicted (main is then over
//     its share, e.g. just after the window grew).
//   Hill climbing (Caffeine's defaults): once the cache has evicted, every sample of
//     kSamplePerEntry x (entries held) requests compares its hit ratio with the previous
//     sample's: if it did not drop the window moves another step in the same direction, else in
//     the other; the step starts at kStepPercent of capacity and decays by kStepDecay per sample,
//     and returns to its full size when the hit ratio moves by kRestartThreshold or more.
//   The sketch is the only memory beyond the nodes: kCountersPerEntry 4-bit counters per entry
//   held (4 bytes), grown by doubling as the shard holds more entries, bounded by
//   SetMemoryLimit(); MemoryBytes() reports it so that a byte-charged shard can count it.
//   There is no ghost set: the sketch remembers recently evicted keys' popularity instead.
//
// PolicyNode use: `queue` is kWindow or kMain; `freq` the capped hit counter (in the window, any
//   value above 0 means "referenced").
// Thread safety: none; called under the owning shard's lock (see eviction_policy.h). OnAccess
//   only writes the node's freq byte, the sketch's relaxed-atomic counters and a relaxed hit
//   counter, so a lock-free lookup could call it.
// Costs: O(1) amortised per call (each CLOCK pass over a node spends one of its hits; the
//   sketch's halving is amortised over its sample); Hottest O(n). The sketch grows (allocates)
//   at most log2(entries) times.

#ifndef ASIDEKV_CACHE_WTINYLFU_POLICY_H_
#define ASIDEKV_CACHE_WTINYLFU_POLICY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "cache/eviction_policy.h"
#include "cache/frequency_sketch.h"
#include "cache/policy_list.h"

namespace asidekv::cache {

class WTinyLfuPolicy final : public EvictionPolicy {
 public:
  // Values of PolicyNode::queue.
  static constexpr uint8_t kWindow = 1;
  static constexpr uint8_t kMain = 2;
  static constexpr uint8_t kMaxFreq = 3;
  // The window starts at 1% of the capacity (rounded up), as in W-TinyLFU.
  static constexpr uint64_t kInitialWindowPercent = 1;
  // Hill climbing, Caffeine's simple climber's defaults.
  static constexpr double kStepPercent = 6.25;
  static constexpr double kStepDecay = 0.98;
  static constexpr double kRestartThreshold = 0.05;
  static constexpr uint64_t kSamplePerEntry = 10;
  // Entries the sketch is first sized for when the capacity does not say (byte charges).
  static constexpr uint64_t kInitialSketchEntries = 1024;

  // REQUIRES: node_hash != nullptr (see NodeHashFn).
  explicit WTinyLfuPolicy(NodeHashFn node_hash);

  std::string_view name() const override { return "wtinylfu"; }
  void SetCapacity(uint64_t capacity) override;
  void SetMemoryLimit(uint64_t bytes) override;
  uint64_t MemoryBytes() const override { return sketch_.MemoryBytes(); }
  void OnInsert(PolicyNode* node, uint64_t hash) override;
  void OnAccess(PolicyNode* node) override;
  void OnRemove(PolicyNode* node) override;
  PolicyNode* Evict() override;
  // Main before window; within each, higher freq first, then newer first.
  void Hottest(size_t n, std::vector<PolicyNode*>* out) const override;

  // For tests and reports.
  const PolicyList& window() const { return window_; }
  const PolicyList& main() const { return main_; }
  const FrequencySketch& sketch() const { return sketch_; }
  uint64_t window_target() const { return window_target_; }

 private:
  // The window's next candidate (still linked), or nullptr when the window is empty.
  PolicyNode* WindowCandidate();
  // Main's next victim (still linked), or nullptr when main is empty.
  PolicyNode* MainVictim();
  void MoveToMain(PolicyNode* node);
  // Ends a sample when it is complete, and moves the window target.
  void MaybeClimb();

  const NodeHashFn node_hash_;
  uint64_t capacity_ = 0;
  uint64_t window_target_ = 0;
  uint64_t max_sketch_entries_ = UINT64_MAX;
  PolicyList window_;  // Front: newest or most recently passed over.
  PolicyList main_;    // Front: newest or most recently passed over.
  FrequencySketch sketch_;

  // Hill climbing state.
  bool full_ = false;  // Set by the first Evict(); the climber waits for a full cache.
  std::atomic<uint64_t> sample_hits_{0};
  uint64_t sample_misses_ = 0;
  uint64_t sample_size_ = 0;
  double previous_hit_ratio_ = 0;
  double step_ = 0;  // Signed, in charge units.
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_WTINYLFU_POLICY_H_
