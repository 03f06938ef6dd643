// How the Store lays a value out in RocksDB.
//
//   stored := kind:uint8 [ttl_nanos:varint64 if kind == kWithTtl] value:bytes
//
//   kPlain   (0x00): the value follows.
//   kWithTtl (0x01): the cache TTL given to Put(key, value, ttl) follows, in nanoseconds, then
//                    the value. Stored with the value so that every later fill of the key (after
//                    eviction, expiry or a restart) keeps the TTL until the key is written again.
// Any other kind byte, or a truncated header, is corruption (DataLoss).
//
// That is the layout of a folder whose format marker (db/format_marker.h) says "header". In a
// folder marked "raw" (Options::raw_values, e.g. one adopted from another RocksDB program) the
// stored bytes are the value as it is, with no header and so no per-key TTL. Every function here
// takes the folder's encoding, so no caller can apply one layout to the other's values.
//
// Thread safety: pure functions.

#ifndef ASIDEKV_DB_VALUE_FORMAT_H_
#define ASIDEKV_DB_VALUE_FORMAT_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "db/format_marker.h"

namespace asidekv::db {

struct DecodedValue {
  std::string_view value;             // Points into the stored bytes.
  std::optional<absl::Duration> ttl;  // Set only for kWithTtl.
  size_t header_size = 0;             // Bytes before `value` in the stored form.
};

// Appends the stored form of value (with `ttl` if set) to *out.
// REQUIRES: !ttl || encoding == kHeader (a raw folder has nowhere to keep a TTL; callers refuse
// such writes first).
void EncodeValue(std::string_view value, std::optional<absl::Duration> ttl,
                 db::ValueEncoding encoding, std::string* out);

// Parses the stored form. DataLoss for an unknown kind or a truncated header.
absl::StatusOr<DecodedValue> DecodeValue(std::string_view stored, db::ValueEncoding encoding);

// Strips the header from a stored value in place, leaving the user value. Returns the TTL, if
// any. DataLoss as DecodeValue.
absl::StatusOr<std::optional<absl::Duration>> StripHeader(std::string* stored,
                                                          db::ValueEncoding encoding);

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_VALUE_FORMAT_H_
