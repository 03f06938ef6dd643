// Epoch-based reclamation: lets readers follow pointers into a structure without a lock while
// writers remove and free its parts.
//
// Design
//   A process-wide epoch number E (starting at 1) and one record per reading thread, each on its
//   own cache line, holding 0 (outside any guard) or the value of E the thread read when it
//   entered its current EpochGuard. A reader's guard costs one load of E and one store to its own
//   record on entry, one store on exit: it writes no line another reader writes.
//
//   A writer that unlinks an object (under whatever lock serialises the writers) retires it into
//   its RetireList, tagged with E read after the unlink. Collect() advances E, reads every record,
//   and hands back each object whose tag is below every active record's epoch: no reader can
//   still reach it. Writers collect when their list grows (amortised), so the reclaim cost is paid
//   by writes, never by hits.
//
// Invariants (every protocol access below is seq_cst, so they all fall in one total order S)
//   - A reader that may hold a pointer to a retired object announced an epoch <= its tag. The
//     reader loaded the pointer before the unlink in S (else it would have read the unlink), and
//     its announcement precedes that load; the writer read the tag after the unlink. So the
//     reader read E no later than the writer did (E only grows): its epoch is <= the tag. And
//     any Collect() after the retirement reads the reader's record after the announcement, so
//     it sees that epoch (or the reader's later exit, or a later guard of the same thread).
//   - A reader whose epoch is above the tag read E after some Collect() moved E past the tag,
//     which happened after the unlink in S: its loads see the unlink, so it cannot reach the
//     object.
//   - Hence an object is handed back by Collect() only when no guard can still reach it, and
//     exactly once (it leaves the list).
//
// Costs
//   Guard: two stores to the thread's own record and a load of E (x86: one xchg, one mov).
//   Collect: one fetch_add on E and a read of every record ever used (at most kMaxThreads).
//   Memory: retired objects wait for the grace period (readers stay in a guard for the length of
//   one lookup), bounded by how often their owner collects.
//
// Thread safety
//   EpochGuard is used by one thread, on its stack. Guards nest (an inner one does nothing). A
//   RetireList belongs to one writer at a time (e.g. guarded by the caller's mutex).
//   More than kMaxThreads threads in guards at once: the extra threads get inactive guards
//   (active() is false) and must take their locked path instead.

#ifndef ASIDEKV_UTIL_EPOCH_H_
#define ASIDEKV_UTIL_EPOCH_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace asidekv::util {

namespace epoch_internal {

inline constexpr size_t kMaxThreads = 512;

struct alignas(64) Record {
  std::atomic<uint64_t> epoch{0};  // 0: outside any guard.
  std::atomic<bool> owned{false};  // Taken by a live thread.
};

extern Record g_records[kMaxThreads];
extern std::atomic<uint64_t> g_epoch;
// The calling thread's record, or null before its first guard (or when none was free).
inline thread_local Record* t_record = nullptr;
// Takes a free record for the calling thread (released when the thread exits); null if none.
Record* AcquireRecord();

}  // namespace epoch_internal

// Marks the calling thread as reading for its scope. Pointers loaded inside the guard from a
// structure whose writers retire through a RetireList stay valid until the guard ends.
class EpochGuard {
 public:
  EpochGuard() {
    using epoch_internal::t_record;
    epoch_internal::Record* r = t_record;
    if (r == nullptr) {
      r = epoch_internal::AcquireRecord();
      if (r == nullptr) return;
    }
    if (r->epoch.load(std::memory_order_relaxed) != 0) {  // Nested: the outer guard covers us.
      index_ = static_cast<uint32_t>(r - epoch_internal::g_records);
      return;
    }
    r->epoch.store(epoch_internal::g_epoch.load(std::memory_order_seq_cst),
                   std::memory_order_seq_cst);
    record_ = r;
    index_ = static_cast<uint32_t>(r - epoch_internal::g_records);
  }
  ~EpochGuard() {
    if (record_ != nullptr) record_->epoch.store(0, std::memory_order_release);
  }
  EpochGuard(const EpochGuard&) = delete;
  EpochGuard& operator=(const EpochGuard&) = delete;

  // False when no record was free for this thread: the guard protects nothing.
  bool active() const { return index_ != kNone; }
  // A small number unique among the threads holding records (for striping counters).
  // REQUIRES: active().
  uint32_t thread_index() const { return index_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  epoch_internal::Record* record_ = nullptr;  // Set when this guard entered (not nested).
  uint32_t index_ = kNone;
};

// One retired object: what to call to release it once no reader can reach it.
struct Retired {
  void* object;
  void (*release)(void* object);
  uint64_t epoch;  // E read after the object was unlinked.
  void Release() const { release(object); }
};

// Objects unlinked by one writer, waiting for their grace period. Not thread-safe: used under the
// owner's lock. The destructor releases whatever is left (REQUIRES: no reader can reach them).
class RetireList {
 public:
  RetireList() = default;
  ~RetireList() { ReleaseAll(); }
  RetireList(const RetireList&) = delete;
  RetireList& operator=(const RetireList&) = delete;

  // REQUIRES: `object` is already unlinked, so readers entering a guard from now on cannot find
  // it.
  void Retire(void* object, void (*release)(void*)) {
    items_.push_back({object, release, epoch_internal::g_epoch.load(std::memory_order_seq_cst)});
  }

  // Appends to `ready` every object no reader can reach any more, and removes it from the list.
  // The caller releases them (outside its lock, if it likes). Advances the global epoch.
  template <typename Vector>
  void Collect(Vector* ready) {
    if (items_.empty()) return;
    const uint64_t safe_below = SafeBelow();
    size_t kept = 0;
    for (const Retired& r : items_) {
      if (r.epoch < safe_below) {
        ready->push_back(r);
      } else {
        items_[kept++] = r;
      }
    }
    items_.resize(kept);
  }

  // Releases every object now. REQUIRES: no reader can reach any of them.
  void ReleaseAll() {
    for (const Retired& r : items_) r.Release();
    items_.clear();
  }

  template <typename F>
  void ForEach(F f) const {
    for (const Retired& r : items_) f(r);
  }

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

 private:
  // Advances E and returns the smallest epoch of an active guard (UINT64_MAX if none): objects
  // tagged below it are unreachable.
  static uint64_t SafeBelow();

  std::vector<Retired> items_;
};

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_EPOCH_H_
