#include "util/epoch.h"

#include <algorithm>

namespace asidekv::util {
namespace epoch_internal {

Record g_records[kMaxThreads];
std::atomic<uint64_t> g_epoch{1};

namespace {

// Records [0, g_used) have been handed out at least once; Collect() reads only those. A thread
// raises it before its first announcement, so a record past what a collector read belongs to a
// thread that will read an epoch advanced by that collector.
std::atomic<size_t> g_used{0};

// Gives the thread's record back when the thread exits.
struct RecordOwner {
  Record* record = nullptr;
  ~RecordOwner() {
    if (record != nullptr) {
      t_record = nullptr;
      record->epoch.store(0, std::memory_order_release);
      record->owned.store(false, std::memory_order_release);
    }
  }
};

thread_local RecordOwner t_owner;

}  // namespace

Record* AcquireRecord() {
  for (size_t i = 0; i < kMaxThreads; ++i) {
    Record& r = g_records[i];
    bool expected = false;
    if (r.owned.load(std::memory_order_relaxed) ||
        !r.owned.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      continue;
    }
    size_t used = g_used.load(std::memory_order_seq_cst);
    while (used < i + 1 && !g_used.compare_exchange_weak(used, i + 1, std::memory_order_seq_cst)) {
    }
    t_owner.record = &r;
    t_record = &r;
    return &r;
  }
  return nullptr;
}

}  // namespace epoch_internal

uint64_t RetireList::SafeBelow() {
  using namespace epoch_internal;  // NOLINT(build/namespaces): this file's own internals.
  g_epoch.fetch_add(1, std::memory_order_seq_cst);
  const size_t used = g_used.load(std::memory_order_seq_cst);
  uint64_t lowest = UINT64_MAX;
  for (size_t i = 0; i < used; ++i) {
    const uint64_t e = g_records[i].epoch.load(std::memory_order_seq_cst);
    if (e != 0) lowest = std::min(lowest, e);
  }
  return lowest;
}

}  // namespace asidekv::util
