// RedisTier: the shared remote cache tier on one Redis server or a Redis Cluster, with
// memcache-style leases.
//
// Keys (RedisConfig::prefix "akv"):  value   akv:v:{k}   (opaque bytes, with a TTL)
//                                     lease   akv:l:{k}   (a 64-bit token, with a TTL)
//                                     marker  akv:w:{k}   (never stored: see Invalidate)
// Only the marker is under the prefix the invalidation channels track
// (remote/invalidation_channel.h), so only writes broadcast: a Fill, a lease, an expiry or an
// eviction of a value tells no Store anything (a Store that filled its near cache from a Fill
// keeps it), and a write is heard by every Store whether or not Redis held its value. The marker
// `akv:w:*` (FlushMarkerKey) asks every Store to flush its near cache.
//
// Protocol (the lease steps are Lua scripts run with EVALSHA, each one atomic round trip, loaded
// at connect and again after NOSCRIPT, e.g. after a server restart):
//   GetOrLease(k, ttl):  GET + PTTL (one round trip, the price of a plain GET for a hit):
//                        value present -> kHit(value, remaining TTL)
//                        else the lease script (a second round trip, misses only), which
//                        looks again: value present -> kHit(value)
//                        else SET lease NX PX ttl succeeds -> kWon(token): the caller reads the
//                             store and calls Fill with the token
//                        else -> kHeld(remaining lease time): another caller is loading k
//   Fill(k, token, v, ttl): stores v only if the lease still holds `token`, then drops the lease;
//                        false when the lease is gone (a write deleted it, it expired, Redis
//                        evicted it or restarted). No value: only releases the lease (the store
//                        had nothing worth caching, or failed), so waiters need not wait it out.
//   Invalidate(keys):    per key, one script: UNLINK value and lease, then SET and DEL the
//                        marker, which every channel hears as one invalidation of k (one
//                        pipelined round trip for all keys). A Redis that refuses the marker
//                        (OOM under maxmemory-policy noeviction) fails the call: use an
//                        allkeys-* or volatile-* eviction policy.
//   FlushAll():          UNLINK every lease, then every value, under the prefix (SCAN MATCH,
//                        batches of 1000), then the flush-owed marker, then the flush marker
//                        (every Store flushes its near cache): for the commit-log relay when
//                        changes were lost.
// So a load that took its lease before a write's Invalidate can never store after it (the stale
// set of the NSDI '13 memcache paper), and concurrent misses of one key across every process
// cost one store read: only the lease holder reads, the others see kHeld and retry.
//
// Redis Cluster (RedisConfig::address "redis-cluster://host:port,..."; masters only): every
// command runs on the master of its key's slot, MOVED / ASK / TRYAGAIN followed
// (remote/cluster_router.h). The three keys of k share k's hash tag, hence one slot; a key that
// starts with '}' (whose braces would hash to nothing) is written "akv:v:#{#}k" instead, on a
// cluster only. A call spanning masters makes one round trip per master. FlushAll scans every
// master and sets one flush marker per master ("akv:w:*{t}", t a tag of one of its slots), since
// each master broadcasts only its own keys' changes. topology_epoch() rises with every change of
// the slot map the tier sees (a MOVED, or RefreshTopology finding another map).
//
// Failure: a call that cannot reach Redis, or gets no answer within RedisConfig::timeout, returns
// Unavailable / DeadlineExceeded naming the server (never the password), closes the connection it
// used, and opens a breaker: for the next `backoff` (100 ms, doubling to 2 s while failures
// go on) every call fails at once with Unavailable, without touching the network, except one
// probe call per backoff period (remote/redis_node.h; on a cluster one breaker per master, and
// a master that is down fails only the calls that need it). A call that succeeds closes the
// breaker. available() tells whether the breaker (every master's) is closed.
//
// Thread safety: every method may be called concurrently; each call borrows one pooled
//   connection for its round trip (calls beyond RedisConfig::connections wait for one).

#ifndef ASIDEKV_REMOTE_REDIS_TIER_H_
#define ASIDEKV_REMOTE_REDIS_TIER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "remote/redis_config.h"

namespace asidekv::remote {

// One key's answer to GetOrLease.
struct LeaseResult {
  enum class Kind { kHit, kWon, kHeld };
  Kind kind = Kind::kHeld;
  std::string value;  // kHit: the stored bytes.
  // kHit: the value's remaining time to live in Redis (PTTL); InfiniteDuration if it has none.
  absl::Duration ttl = absl::InfiniteDuration();
  uint64_t token = 0;                              // kWon: pass to Fill.
  absl::Duration held_for = absl::ZeroDuration();  // kHeld: the lease's remaining time.
};

// One Fill: store `value` (or, when null, only release the lease) if `token` still holds the
// lease of `key`.
struct FillRequest {
  std::string_view key;
  uint64_t token = 0;
  std::optional<std::string_view> value;
  absl::Duration ttl = absl::Seconds(1);  // Of the value; rounded up to whole milliseconds.
};

struct RedisTierStats {
  uint64_t hits = 0;            // kHit answers.
  uint64_t leases_won = 0;      // kWon answers.
  uint64_t leases_held = 0;     // kHeld answers.
  uint64_t fills = 0;           // Fill requests that stored a value.
  uint64_t fills_rejected = 0;  // Fill requests whose lease was gone (release-only ones too).
  uint64_t invalidations = 0;   // Keys sent to Invalidate() that Redis acknowledged.
  uint64_t errors = 0;          // Calls that failed (including those the open breaker failed).
  uint64_t reconnects = 0;      // Data connections opened after the first.
};

class RedisTier {
 public:
  // Connects one data connection (AUTH if configured), checks the server, loads the scripts.
  // Errors: InvalidArgument (bad config), Unavailable naming the server (cannot connect),
  // PermissionDenied (AUTH refused), FailedPrecondition when the server persists to disk
  // (CONFIG GET save / appendonly: a restart would bring back values invalidated since the
  // snapshot; the message says to set `save ""` and `appendonly no`; skipped when the ACL
  // forbids CONFIG).
  static absl::StatusOr<std::unique_ptr<RedisTier>> Connect(const RedisConfig& config);
  ~RedisTier();
  RedisTier(const RedisTier&) = delete;
  RedisTier& operator=(const RedisTier&) = delete;

  // One answer per key, in order: one pipelined round trip for all, and a second for the keys
  // the first did not find. `lease_ttl` >= 1 ms.
  absl::StatusOr<std::vector<LeaseResult>> GetOrLease(absl::Span<const std::string_view> keys,
                                                      absl::Duration lease_ttl);
  // One answer per request, in one pipelined round trip: true when the lease still held the
  // token (the value, if any, is stored, and the lease released), false when it was gone.
  absl::StatusOr<std::vector<bool>> Fill(absl::Span<const FillRequest> fills);
  // UNLINKs each key's value and lease and broadcasts its write (see the file comment), in one
  // pipelined round trip. OK once Redis answered every key; Unavailable (or the failure) when it
  // refused one or could not be reached. *landed, when given: per key, whether it was done (on
  // a cluster the keys of reachable masters land even when another master is down).
  absl::Status Invalidate(absl::Span<const std::string_view> keys,
                          std::vector<bool>* landed = nullptr);

  // UNLINKs every key under the prefix: first every lease, then every value (SCAN MATCH
  // "<prefix>:l:*", then "<prefix>:v:*"; other prefixes are left alone). Leases first, so that a
  // fill in flight either finds its lease gone or stored its value before the value pass, which
  // removes it; then the flush marker (FlushMarkerKey) reaches every invalidation channel, so
  // every Store flushes its cache and rejects its fills in flight. Returns the number of keys
  // removed. Not atomic: keys written while it runs may stay, and those are newer than its
  // start.
  // Its last step deletes the flush-owed marker (below).
  absl::StatusOr<uint64_t> FlushAll();
  // The flush-owed marker "<prefix>:flush_owed" (outside the value and lease keys): set before
  // something that leaves a flush to do (the relay making a new slot), so that whoever takes
  // over after a crash in between still flushes; FlushAll() deletes it.
  absl::Status OweFlush();
  absl::StatusOr<bool> FlushOwed();

  // Plain GET of key's value (no lease): for benchmarks and tests. NotFound when absent.
  absl::StatusOr<std::string> GetValue(std::string_view key);

  // The breaker is closed (the last call reached Redis, or none failed yet).
  bool available() const;
  // The server's run_id as of the last (re)connect of a data connection ("" on a cluster).
  std::string run_id() const;

  // Whether the tier runs on a Redis Cluster.
  bool cluster() const;
  // Cluster: raised by every change of the slot map the tier sees; 0 on a plain server.
  uint64_t topology_epoch() const;
  // Cluster: reads the slot map again (CLUSTER SLOTS); true when it changed. False otherwise.
  absl::StatusOr<bool> RefreshTopology();
  // The masters of the cluster as the tier knows them; the one server otherwise.
  std::vector<RedisAddress> masters() const;
  RedisTierStats GetStats() const;
  // The server in messages ("redis 127.0.0.1:6380").
  const std::string& server() const;

 private:
  class Impl;
  explicit RedisTier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The Redis key of `key`'s value / lease under `prefix` (`cluster`: the cluster's form of the
// keys that start with '}', see the file comment).
std::string ValueKey(std::string_view prefix, std::string_view key, bool cluster = false);
std::string LeaseKey(std::string_view prefix, std::string_view key, bool cluster = false);
// The write marker of `key`, and the marker that asks every Store to flush, under `prefix`.
std::string MarkerKey(std::string_view prefix, std::string_view key, bool cluster = false);
std::string FlushMarkerKey(std::string_view prefix);
// Whether `redis_key` is a flush marker: FlushMarkerKey, or it followed by a hash tag (a
// cluster's per-master markers).
bool IsFlushMarkerKey(std::string_view prefix, std::string_view redis_key);
// The user key of a write marker under `prefix` (the inverse of MarkerKey, either form); nullopt
// if `redis_key` is not one (the flush marker is not).
std::optional<std::string_view> KeyOfMarkerKey(std::string_view prefix, std::string_view redis_key);

}  // namespace asidekv::remote

#endif  // ASIDEKV_REMOTE_REDIS_TIER_H_
