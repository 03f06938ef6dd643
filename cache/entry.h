// Entry and ValueRef: one cached key/value pair and the handle readers hold on it.
//
// Design
//   An Entry is a single heap block: a fixed header followed by the key bytes and then the value
//   bytes, so a fill costs one allocation and a hit touches one block. Entries are immutable once
//   published: a new value for a key is a new Entry that replaces the old one in the shard.
//
//   Lifetime is reference counted. The shard's table holds one reference while the entry is
//   published; each ValueRef holds one more. An entry removed from its shard (evicted, expired,
//   invalidated, replaced) stays readable through the ValueRefs still held and is freed when the
//   last one is released, so a reader never sees its bytes change or vanish. Bytes pinned only by
//   ValueRefs are no longer charged to the cache.
//
// Thread safety
//   `refs` is atomic; every other header field is written before the entry is published (under
//   the shard mutex, `expire_nanos` included) and then only read, except `node` and `in_table`,
//   which only the owning shard touches, under its mutex, and `node.freq`, which lock-free hits
//   also bump (relaxed atomics, see EvictionPolicy::FreqOnlyAccessCap). Lookups read the header
//   and the key without the lock (cache/shard.h): an entry's memory outlives every reader that
//   could have found it, because the shard drops its table reference only after a grace period.
//
// Costs
//   Header: sizeof(Entry) bytes (48 on x86-64) plus the allocator's own overhead.

#ifndef ASIDEKV_CACHE_ENTRY_H_
#define ASIDEKV_CACHE_ENTRY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "cache/eviction_policy.h"

namespace asidekv::cache {

struct Entry {
  PolicyNode node;  // The shard's eviction policy links the entry through this.
  std::atomic<uint32_t> refs{1};
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint8_t tag = 0;           // Caller-defined (e.g. the core marks cached "not found" entries).
  bool in_table = false;     // Published in its shard's table (shard mutex).
  uint16_t ttl_code = 0;     // The entry's TTL, coarsely (EncodeTtl); 0: none. Fills padding.
  int64_t expire_nanos = 0;  // Clock::NowNanos() reading at which it expires; 0: never.

  const char* key_data() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return {key_data(), key_size}; }
  std::string_view value() const { return {key_data() + key_size, value_size}; }

  // A new entry with refs == 1, copying key and value. Never returns null (allocation failure
  // terminates, as std::string would).
  static Entry* New(std::string_view key, std::string_view value, uint8_t tag);

  void Ref() { refs.fetch_add(1, std::memory_order_relaxed); }
  // Drops one reference; frees the entry when it was the last.
  void Unref() {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) Free(this);
  }

  static Entry* FromNode(PolicyNode* n) { return reinterpret_cast<Entry*>(n); }

 private:
  static void Free(Entry* e);
};

static_assert(offsetof(Entry, node) == 0, "FromNode relies on node being the first member");
static_assert(sizeof(void*) != 8 || sizeof(Entry) == 48,
              "Entry is charged per entry: keep it small");

// A TTL in 16 bits, for Entry::ttl_code: microseconds as a 10-bit mantissa shifted by a 6-bit
// exponent (rounded down, so within 0.1% below the true TTL). 0 for a TTL under 1us; saturates
// near 2^63 ns.
inline uint16_t EncodeTtl(int64_t ttl_nanos) {
  if (ttl_nanos < 1000) return 0;
  uint64_t us = static_cast<uint64_t>(ttl_nanos) / 1000;
  uint32_t exp = 0;
  while (us >= 1024) {
    us >>= 1;
    ++exp;
  }
  if (exp > 43) return static_cast<uint16_t>((43u << 10) | 1023u);
  return static_cast<uint16_t>((exp << 10) | us);
}
// The TTL in nanoseconds that EncodeTtl() encoded (0 for 0).
inline int64_t DecodeTtl(uint16_t code) {
  return static_cast<int64_t>((uint64_t{code} & 1023u) << (code >> 10)) * 1000;
}

// A shared, read-only handle on a cached value. Copyable (adds a reference) and movable; an
// empty ValueRef (default or moved-from) means "no value". The value stays valid and unchanged
// for as long as the ValueRef lives, even after the entry leaves the cache.
class ValueRef {
 public:
  ValueRef() = default;
  // Adopts one reference on `e` (may be null).
  explicit ValueRef(Entry* e) : e_(e) {}
  ValueRef(const ValueRef& o) : e_(o.e_) {
    if (e_ != nullptr) e_->Ref();
  }
  ValueRef(ValueRef&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  ValueRef& operator=(ValueRef o) noexcept {
    std::swap(e_, o.e_);
    return *this;
  }
  ~ValueRef() {
    if (e_ != nullptr) e_->Unref();
  }

  explicit operator bool() const { return e_ != nullptr; }
  // REQUIRES: *this is not empty.
  std::string_view value() const { return e_->value(); }
  std::string_view key() const { return e_->key(); }
  uint8_t tag() const { return e_->tag; }
  // The cache Clock's NowNanos() at which the entry expires; 0 when it never does.
  // REQUIRES: not empty.
  int64_t expire_nanos() const { return e_->expire_nanos; }
  // The TTL the entry was given (after jitter) in nanoseconds, within 0.1% below; 0 when it has
  // none (or one under 1us). REQUIRES: not empty.
  int64_t ttl_nanos() const { return DecodeTtl(e_->ttl_code); }

  // The entry itself, for identity checks by its cache. REQUIRES: not empty.
  const Entry* get() const { return e_; }

  // Releases ownership of the reference to the caller (who must Unref it).
  Entry* release() { return std::exchange(e_, nullptr); }

 private:
  Entry* e_ = nullptr;
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_ENTRY_H_
