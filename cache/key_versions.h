// KeyVersions: one shard's memory of recent writes, used to judge fill tokens.
//
// Design
//   A per-shard sequence `seq` hands out fill tokens (NextToken) and key versions (every
//   invalidation, BeginWrite and EndWrite sets the key's version to a new `seq`). A fill with
//   token t for key k is allowed iff
//       t > floor  and  (k has no record, or (version(k) < t and no write of k is in flight)).
//
//   Records are keyed by the key's 64-bit hash (HashKey in cache/shard.h), never by the key:
//   a record is 24 bytes whatever the key's size. Keys whose hashes collide share one record,
//   so a write or invalidation of one also rejects fills of the other, and overlapping writes
//   of the two are treated as overlapping writes of one key (neither installs its value).
//   Rejecting a fill is always safe, so a collision only costs a spurious miss.
//
//   A record is pinned while a write of its hash is in flight (writers > 0), unpinned otherwise.
//   Unpinned records wait in a FIFO in the order of their last change; pinned records are not
//   in it. Every change of an unpinned record (invalidation, or the EndWrite that unpins it)
//   appends a new item carrying its new version; older items of the same record, and items of
//   records pinned since, no longer match their record's version and are dead. So the FIFO
//   holds exactly one live item per unpinned record.
//   Bound: while more than `max_keys` records are unpinned, or the FIFO (dead items included)
//   holds more than 2 * max_keys items, the front item is popped: a dead one is dropped, a live
//   one drops its record and raises `floor` to its version, so every token that record could
//   have rejected is now rejected by the floor.
//
// Invariant: for every key, every token issued before the key's last invalidation/write began
// is rejected, whether or not the key still has a record.
//
// Thread safety: none; the owning shard calls it with its mutex held.
// Costs: every call O(1) amortised, however many writes are in flight: each call appends at most
//   one FIFO item and each item is popped once (the table of records shrinks back, amortised,
//   after a burst of pinned records). Memory: at most max_keys unpinned records plus one record
//   per key with a write in flight, 2 * max_keys + 1 FIFO items of 16 bytes (MemoryBytes()).

#ifndef ASIDEKV_CACHE_KEY_VERSIONS_H_
#define ASIDEKV_CACHE_KEY_VERSIONS_H_

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "cache/ring_queue.h"

namespace asidekv::cache {

class KeyVersions {
 public:
  // An upper bound of the bytes one unpinned record costs: its table slot at the table's lowest
  // load (7/16, just after growing), and its share of the FIFO (up to 2 items per record, in a
  // ring up to twice as large). For sizing `max_keys` from a budget.
  static constexpr size_t kBytesPerRecord = 128;

  // `max_keys` 0 counts as 1.
  explicit KeyVersions(size_t max_keys) : max_keys_(max_keys == 0 ? 1 : max_keys) {}

  // A new fill token.
  uint64_t NextToken() { return ++seq_; }

  // Whether a fill carrying `token` may be cached for the key whose hash is `key_hash`.
  bool FillAllowed(uint64_t key_hash, uint64_t token) const;

  // An invalidation of the key: rejects every token issued so far for it.
  void Invalidate(uint64_t key_hash);

  // Whether a write of the key (or of a key with the same hash) is in flight. O(1); no lookup
  // at all while no write is in flight anywhere in the shard.
  bool WriteInFlight(uint64_t key_hash) const;

  // A write of the key begins. Returns its version and whether no other write of the key (or of
  // a key with the same hash) was in flight.
  std::pair<uint64_t, bool> BeginWrite(uint64_t key_hash);

  // The write that began with (version, solo) ends. Returns whether it may install its value:
  // it was solo, and no other write or invalidation of the key began since it did.
  bool EndWrite(uint64_t key_hash, uint64_t version, bool solo);

  // Every key may have changed (an invalidation was lost): rejects every token issued so far,
  // and every write in flight ends without installing its value.
  void RejectAll() { floor_ = rejected_all_ = seq_; }

  size_t max_keys() const { return max_keys_; }
  size_t tracked_keys() const { return records_.size(); }
  uint64_t floor() const { return floor_; }
  // FIFO items (live and dead), and how many items trimming has examined since construction.
  size_t queued() const { return order_.size(); }
  uint64_t trim_steps() const { return trim_steps_; }
  // Heap bytes held by the records and the FIFO (see cache/memory_cost.h).
  size_t MemoryBytes() const;

 private:
  struct Record {
    uint64_t version = 0;
    uint32_t writers = 0;  // Writes begun and not yet ended.
  };
  struct Item {
    uint64_t version;
    uint64_t key_hash;
  };

  // Sets the record's version to a new seq; queues it when it is unpinned.
  void Bump(uint64_t key_hash, Record& r);
  void TrimToBound();
  // Gives back the table's memory once a burst of pinned records has ended.
  void MaybeShrink();

  const size_t max_keys_;
  uint64_t seq_ = 0;
  uint64_t floor_ = 0;
  // seq_ at the last RejectAll(): writes that began before it never install. (Not floor_, which
  // trimming raises past the versions of writes still in flight.)
  uint64_t rejected_all_ = 0;
  uint64_t trim_steps_ = 0;
  size_t pinned_ = 0;  // Records with writers > 0.
  absl::flat_hash_map<uint64_t, Record> records_;
  RingQueue<Item> order_;  // Oldest first; see the design comment.
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_KEY_VERSIONS_H_
