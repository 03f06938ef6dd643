// DecodedChange: one line of PostgreSQL's `test_decoding` output plugin, as the commit-log relay
// reads it (core/relay.h), reduced to what a cache needs: which keys of the store's table a
// transaction changed, or that it changed keys the line does not name (TRUNCATE).
//
// Lines (PostgreSQL 15, options include-xids 1, include-timestamp 1, skip-empty-xacts 1; the
// bytea output is hex, which the relay's session sets):
//   BEGIN 741
//   table public.kv: INSERT: key[bytea]:'\x0061' value[bytea]:'\x...' version[bigint]:7
//   table public.kv: UPDATE: key[bytea]:'\x0061' value[bytea]:...
//   table public.kv: UPDATE: old-key: key[bytea]:'\x0061' new-tuple: key[bytea]:'\x62' ...
//   table public.kv: DELETE: key[bytea]:'\x0061'
//   table public.kv, public."user": TRUNCATE: (no-flags)
//   COMMIT 741 (at 2026-11-29 23:55:31.074937+00)
// Relation names are schema-qualified and quoted when they must be ("user"); a line names the
// store's table when the relation part (after the last dot, unquoted) equals it, in any schema
// (a same-named table in another schema only causes extra invalidations, never missing ones).
// Keys are bytea in hex form, so any byte (0x00, quotes, backslashes, non-UTF-8) round-trips.
//
// Parse() never guesses: a line about the table whose key it cannot read (no tuple data, an
// escape-format bytea, a truncated line) is kUnknownKey, which the relay treats like TRUNCATE
// (flush everything). Lines about other tables, and anything else (logical messages), are
// kOther.
//
// Thread safety: pure functions.

#ifndef ASIDEKV_DB_POSTGRES_DECODED_CHANGE_H_
#define ASIDEKV_DB_POSTGRES_DECODED_CHANGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asidekv::db {

struct DecodedChange {
  enum class Kind {
    kBegin,
    kCommit,
    kRow,         // INSERT, UPDATE or DELETE of the table: `keys` (two for a key change).
    kTruncate,    // TRUNCATE of the table: every key changed.
    kUnknownKey,  // A change of the table whose key the line does not show.
    kOther,       // Another table, or not a change.
  };
  Kind kind = Kind::kOther;
  std::vector<std::string> keys;  // kRow: the raw key bytes.
  // kCommit: the commit time, microseconds since 2000-01-01 00:00 UTC (PostgreSQL's epoch) on
  // the server's clock; nullopt when the line carries none.
  std::optional<int64_t> commit_micros;
  // kBegin, kCommit: the transaction's id (32 bits, as test_decoding writes it); nullopt when
  // the line carries none (include-xids 0).
  std::optional<uint32_t> xid;
};

// Parses one line of test_decoding output for `table` (a lowercase identifier, unquoted).
DecodedChange ParseDecodedChange(std::string_view line, std::string_view table);

// "2026-11-29 23:55:31.074937+00" (also "-05", "+05:30") as microseconds since PostgreSQL's
// epoch; nullopt when it is not that form.
std::optional<int64_t> ParsePgTimestamp(std::string_view text);

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_POSTGRES_DECODED_CHANGE_H_
