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
// Layout
//   A 32-byte header (the policy's node, whose two spare bytes hold the tag and the flags; the
//   reference count; the value size), then the key size (2 bytes, or 4 when kLongKey), the key,
//   the value, and for an entry with a TTL 10 more bytes: its expiry (Clock nanoseconds) and its
//   TTL code. An entry without a TTL carries neither. The header and the key size usually share
//   the block's first cache line with the key.
//
// Thread safety
//   `refs` is atomic; everything else is written by New() before the entry is published and then
//   only read, except the node's links, charge and queue, which only the owning shard touches,
//   under its mutex, and `node.freq`, which lock-free hits also bump (relaxed atomics, see
//   EvictionPolicy::FreqOnlyAccessCap). Lookups read the header, the key and the expiry without
//   the lock (cache/shard.h): an entry's memory outlives every reader that could have found it,
//   because the shard drops its table reference only after a grace period.
//
// Costs
//   Header: sizeof(Entry) bytes (32 on x86-64) plus 2 for the key size (10 more with a TTL) plus
//   the allocator's own overhead.

#ifndef ASIDEKV_CACHE_ENTRY_H_
#define ASIDEKV_CACHE_ENTRY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "cache/eviction_policy.h"

namespace asidekv::cache {

struct Entry {
  PolicyNode node;  // The shard's eviction policy links the entry through this.
  std::atomic<uint32_t> refs{1};
  uint32_t value_size = 0;

  // Bytes an entry with a TTL carries beyond one without (its expiry and TTL code).
  static constexpr size_t kTtlBytes = sizeof(int64_t) + sizeof(uint16_t);
  // Every entry's address is a multiple of this (as glibc's malloc gives anyway): the table keeps
  // hash bits in the address's low 4 bits (cache/entry_table.h).
  static constexpr size_t kAlignment = 16;

  // Caller-defined (e.g. the core marks cached "not found" entries).
  uint8_t tag() const { return node.owner[kTagByte]; }
  bool has_ttl() const { return (node.owner[kFlagsByte] & kHasTtl) != 0; }
  // Clock::NowNanos() reading at which it expires; 0: never.
  int64_t expire_nanos() const {
    if (!has_ttl()) return 0;
    int64_t v;
    std::memcpy(&v, ttl_data(), sizeof(v));
    return v;
  }
  // The entry's TTL, coarsely (EncodeTtl); 0: none.
  uint16_t ttl_code() const {
    if (!has_ttl()) return 0;
    uint16_t v;
    std::memcpy(&v, ttl_data() + sizeof(int64_t), sizeof(v));
    return v;
  }

  size_t key_size() const {
    if ((node.owner[kFlagsByte] & kLongKey) != 0) {
      uint32_t n;
      std::memcpy(&n, body(), sizeof(n));
      return n;
    }
    uint16_t n;
    std::memcpy(&n, body(), sizeof(n));
    return n;
  }
  const char* key_data() const {
    return body() +
           ((node.owner[kFlagsByte] & kLongKey) != 0 ? sizeof(uint32_t) : sizeof(uint16_t));
  }
  std::string_view key() const { return {key_data(), key_size()}; }
  std::string_view value() const { return {key_data() + key_size(), value_size}; }

  // A new entry with refs == 1, copying key and value; `expire_nanos` (0: none) and `ttl_code`
  // are stored only when expire_nanos != 0. Never returns null (allocation failure terminates, as
  // std::string would). REQUIRES: key and value sizes fit in 32 bits.
  static Entry* New(std::string_view key, std::string_view value, uint8_t tag,
                    int64_t expire_nanos = 0, uint16_t ttl_code = 0);
  // Bytes New() allocates for such an entry.
  static size_t AllocatedBytes(size_t key_size, size_t value_size, bool has_ttl);

  void Ref() { refs.fetch_add(1, std::memory_order_relaxed); }
  // Drops one reference; frees the entry when it was the last.
  void Unref() {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) Free(this);
  }

  static Entry* FromNode(PolicyNode* n) { return reinterpret_cast<Entry*>(n); }

 private:
  static constexpr int kTagByte = 0;
  static constexpr int kFlagsByte = 1;
  static constexpr uint8_t kHasTtl = 1;
  static constexpr uint8_t kLongKey = 2;  // Key size in 4 bytes (it is over 0xFFFF).

  const char* body() const { return reinterpret_cast<const char*>(this + 1); }
  const char* ttl_data() const { return key_data() + key_size() + value_size; }
  static void Free(Entry* e);
};

static_assert(offsetof(Entry, node) == 0, "FromNode relies on node being the first member");
static_assert(sizeof(void*) != 8 || sizeof(Entry) == 32,
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
  uint8_t tag() const { return e_->tag(); }
  // The cache Clock's NowNanos() at which the entry expires; 0 when it never does.
  // REQUIRES: not empty.
  int64_t expire_nanos() const { return e_->expire_nanos(); }
  // The TTL the entry was given (after jitter) in nanoseconds, within 0.1% below; 0 when it has
  // none (or one under 1us). REQUIRES: not empty.
  int64_t ttl_nanos() const { return DecodeTtl(e_->ttl_code()); }

  // The entry itself, for identity checks by its cache. REQUIRES: not empty.
  const Entry* get() const { return e_; }

  // Releases ownership of the reference to the caller (who must Unref it).
  Entry* release() { return std::exchange(e_, nullptr); }

 private:
  Entry* e_ = nullptr;
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_ENTRY_H_
