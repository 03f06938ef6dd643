// The caches the micro-benchmarks compare, behind one shape: asidekv's ShardedCache and, as
// baselines, RocksDB's LRUCache and HyperClockCache (7.8's rocksdb::Cache API).
//
// Each backend copies the value out on a hit (into the caller's std::string), so every one pays
// for the same copy, and stores one heap block per entry: asidekv its Entry, RocksDB a
// length-prefixed buffer released by the cache's deleter.
//
// Thread safety: every method may be called concurrently, as the caches allow.
// Ownership: a backend owns its cache. Failure: the constructors abort on a cache that cannot be
// built (benchmark set-up only).

#ifndef ASIDEKV_TOOLS_BENCH_CACHE_CACHE_BACKENDS_H_
#define ASIDEKV_TOOLS_BENCH_CACHE_CACHE_BACKENDS_H_

#include <rocksdb/cache.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/sharded_cache.h"

namespace asidekv::bench_cache {

// The workload's entry shape: 16-byte keys (HyperClockCache takes no other size) and 100-byte
// values.
inline constexpr size_t kKeySize = 16;
inline constexpr size_t kValueSize = 100;

// Key number `i` as 16 bytes: "k" and the low 15 decimal digits of i, zero-padded.
inline std::string KeyOf(uint64_t i) {
  std::string key(kKeySize, '0');
  key[0] = 'k';
  for (size_t pos = kKeySize - 1; pos > 0 && i > 0; --pos, i /= 10) {
    key[pos] = static_cast<char>('0' + i % 10);
  }
  return key;
}

class AsideBackend {
 public:
  static constexpr const char* kName = "asidekv";

  explicit AsideBackend(uint64_t capacity) {
    cache::CacheOptions options;
    options.capacity = capacity;
    auto made = cache::ShardedCache::Create(options);
    if (!made.ok()) {
      std::fprintf(stderr, "ShardedCache: %s\n", made.status().ToString().c_str());
      std::abort();
    }
    cache_ = std::move(*made);
  }

  // As Store::Get: the value copied out, the entry not pinned (Cache::LookupCopy).
  bool Lookup(std::string_view key, std::string* out) {
    uint8_t tag = 0;
    return cache_->LookupCopy(key, out, &tag);
  }
  void Insert(std::string_view key, std::string_view value) { cache_->Insert(key, value, {}); }
  // The cache interface's erase is Invalidate (it also records the key's version).
  void Erase(std::string_view key) { cache_->Invalidate(key); }
  // A write of `key` then a read of it, as Store runs them with the default write policy: the
  // invalidation, then the read: its lock-free lookup and, on a miss, its fill ticket; a leader
  // fills with `loaded` (as if the database had returned it), a waiter waits for another
  // thread's fill, a late hit copies the value. The value read ends in *out. Returns whether
  // this call's fill was cached.
  bool InvalidateAndFill(std::string_view key, const absl::StatusOr<std::string>& loaded,
                         std::string* out) {
    cache_->Invalidate(key);
    uint8_t tag = 0;
    if (cache_->LookupCopy(key, out, &tag)) return false;
    cache::FillTicket ticket = cache_->BeginFill(key);
    switch (ticket.role()) {
      case cache::FillTicket::Role::kLeader: {
        const std::string_view value = *loaded;
        const bool cached =
            cache_->CompleteFill(&ticket, &value, {}, loaded) == cache::FillResult::kInserted;
        out->assign(value);
        return cached;
      }
      case cache::FillTicket::Role::kWaiter: {
        absl::StatusOr<std::string> r = ticket.Wait(absl::InfiniteDuration());
        if (r.ok()) *out = *std::move(r);
        return false;
      }
      case cache::FillTicket::Role::kHit:
        out->assign(ticket.hit().value());
        return false;
      case cache::FillTicket::Role::kBypass:
        return false;
    }
    return false;
  }

 protected:
  std::unique_ptr<cache::ShardedCache> cache_;
};

// asidekv through a pinned handle (Cache::Lookup, a ValueRef held while copying), as a caller
// that keeps the value does, and as RocksDB's caches are read here.
class AsidePinBackend : public AsideBackend {
 public:
  static constexpr const char* kName = "asidekv_pin";
  using AsideBackend::AsideBackend;

  bool Lookup(std::string_view key, std::string* out) {
    cache::ValueRef v = cache_->Lookup(key);
    if (!v) return false;
    out->assign(v.value());
    return true;
  }
};

// A RocksDB cache holding length-prefixed value buffers.
class RocksBackend {
 public:
  bool Lookup(std::string_view key, std::string* out) {
    rocksdb::Cache::Handle* h = cache_->Lookup(rocksdb::Slice(key.data(), key.size()));
    if (h == nullptr) return false;
    const char* buf = static_cast<const char*>(cache_->Value(h));
    uint32_t size;
    std::memcpy(&size, buf, sizeof(size));
    out->assign(buf + sizeof(size), size);
    cache_->Release(h);
    return true;
  }
  void Insert(std::string_view key, std::string_view value) {
    const uint32_t size = static_cast<uint32_t>(value.size());
    char* buf = static_cast<char*>(::operator new(sizeof(size) + size));
    std::memcpy(buf, &size, sizeof(size));
    std::memcpy(buf + sizeof(size), value.data(), size);
    // Charged like asidekv's payload; RocksDB adds its own metadata charge on top.
    const rocksdb::Status s = cache_->Insert(rocksdb::Slice(key.data(), key.size()), buf,
                                             key.size() + value.size(), &Delete);
    if (!s.ok()) {
      std::fprintf(stderr, "%s Insert: %s\n", cache_->Name(), s.ToString().c_str());
      std::abort();
    }
  }
  void Erase(std::string_view key) { cache_->Erase(rocksdb::Slice(key.data(), key.size())); }

 protected:
  explicit RocksBackend(std::shared_ptr<rocksdb::Cache> cache) : cache_(std::move(cache)) {
    if (cache_ == nullptr) {
      std::fprintf(stderr, "RocksDB cache could not be built\n");
      std::abort();
    }
  }

 private:
  static void Delete(const rocksdb::Slice& /*key*/, void* value) { ::operator delete(value); }

  std::shared_ptr<rocksdb::Cache> cache_;
};

class LruBackend : public RocksBackend {
 public:
  static constexpr const char* kName = "rocksdb_lru";
  explicit LruBackend(uint64_t capacity) : RocksBackend(rocksdb::NewLRUCache(capacity)) {}
};

class HyperClockBackend : public RocksBackend {
 public:
  static constexpr const char* kName = "rocksdb_hcc";
  // Estimated charge: the entry's payload, as RocksDB's comment recommends (usage less the
  // per-slot metadata, per entry).
  explicit HyperClockBackend(uint64_t capacity)
      : RocksBackend(
            rocksdb::HyperClockCacheOptions(capacity, kKeySize + kValueSize).MakeSharedCache()) {}
};

}  // namespace asidekv::bench_cache

#endif  // ASIDEKV_TOOLS_BENCH_CACHE_CACHE_BACKENDS_H_
