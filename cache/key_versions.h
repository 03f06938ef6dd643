// KeyVersions: one shard's memory of recent writes, used to judge fill tokens.
//
// Design
//   A per-shard sequence `seq` hands out fill tokens (NextToken) and key versions (every
//   invalidation, BeginWrite and EndWrite sets the key's version to a new `seq`). A fill with
//   token t for key k is allowed iff
//       t > floor  and  (k has no record, or (version(k) < t and no write of k is in flight)).
//   Records are bounded: when more than `max_keys` are kept (or the FIFO of pushes grows past
//   twice that), the oldest record is dropped and `floor` rises to its version, so any token that
//   could have been judged by the dropped record is now rejected by the floor. Records with a
//   write in flight are never dropped.
//
// Invariant: for every key, every token issued before the key's last invalidation/write began
// is rejected, whether or not the key still has a record.
//
// Thread safety: none; the owning shard calls it with its mutex held.
// Costs: O(1) amortised per call; memory O(max_keys) keys.

#ifndef ASIDEKV_CACHE_KEY_VERSIONS_H_
#define ASIDEKV_CACHE_KEY_VERSIONS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "cache/string_hash.h"

namespace asidekv::cache {

class KeyVersions {
 public:
  explicit KeyVersions(size_t max_keys) : max_keys_(max_keys == 0 ? 1 : max_keys) {}

  // A new fill token.
  uint64_t NextToken() { return ++seq_; }

  // Whether a fill carrying `token` may be cached for `key`.
  bool FillAllowed(std::string_view key, uint64_t token) const;

  // An invalidation of `key`: rejects every token issued so far for it.
  void Invalidate(std::string_view key);

  // A write of `key` begins. Returns its version and whether no other write of the key was in
  // flight.
  std::pair<uint64_t, bool> BeginWrite(std::string_view key);

  // The write that began with (version, solo) ends. Returns whether it may install its value:
  // it was solo, and no other write or invalidation of the key began since it did.
  bool EndWrite(std::string_view key, uint64_t version, bool solo);

  size_t tracked_keys() const { return records_.size(); }
  uint64_t floor() const { return floor_; }

 private:
  struct Record {
    uint64_t version = 0;
    uint32_t writers = 0;  // Writes begun and not yet ended.
  };

  // Sets key's version to a new seq and returns its record.
  Record& Bump(std::string_view key);
  void TrimToBound();

  const size_t max_keys_;
  uint64_t seq_ = 0;
  uint64_t floor_ = 0;
  absl::flat_hash_map<std::string, Record, StringViewHash, StringViewEq> records_;
  // (version, key) in push order; entries whose version no longer matches the record are stale.
  std::deque<std::pair<uint64_t, std::string>> order_;
};

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_KEY_VERSIONS_H_
