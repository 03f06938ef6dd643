// The format marker: a small file in a store's folder that says the folder is asidekv's, which
// version of asidekv's persistent layout its data follows, and how its values are encoded.
// Without it a folder written by another RocksDB program would be read silently wrong (its
// values do not carry asidekv's value header, db/value_format.h).
//
// File ASIDEKV_FORMAT beside RocksDB's CURRENT (text, one line):
//     "asidekv-format <version> <encoding>\n"
//   version   decimal; kFormatVersion (1) is the only version so far.
//   encoding  "header": values carry asidekv's value header (the default);
//             "raw":    values are the application's bytes as given (Options::raw_values).
// It is written before RocksDB creates the store, atomically (ASIDEKV_FORMAT.tmp, fsync, rename,
// fsync of the folder), and never rewritten. It lives outside RocksDB, so it can be checked
// before RocksDB touches the folder, and a refused folder is left exactly as it was; copying a
// store means copying its folder (RocksDB's checkpoint and backup tools do not know the file).
//
// Rules (CheckFormatMarker, called by RocksDb::Open before RocksDB opens the folder):
//   - no store yet (no CURRENT): a writable open writes a marker with its encoding;
//   - a store without a marker (made by another program, or by asidekv before the marker
//     existed, in 0.1.0): FailedPrecondition, unless opened with the raw encoding, which adopts
//     the folder as it is (a writable open then marks it raw);
//   - a marker of a newer version: FailedPrecondition naming both versions;
//   - an encoding other than the one asked for: FailedPrecondition;
//   - an unreadable marker: DataLoss.
//
// Thread safety: functions on distinct folders may run concurrently.

#ifndef ASIDEKV_DB_FORMAT_MARKER_H_
#define ASIDEKV_DB_FORMAT_MARKER_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace asidekv::db {

// How a store's values are encoded (see the file comment).
enum class ValueEncoding {
  kHeader,  // asidekv's value header in front of each value.
  kRaw,     // The value's bytes as they are.
};

inline constexpr int kFormatVersion = 1;
inline constexpr char kFormatMarkerFile[] = "ASIDEKV_FORMAT";

struct FormatMarker {
  int version = kFormatVersion;
  ValueEncoding encoding = ValueEncoding::kHeader;
};

// The marker's text, without the newline: "asidekv-format <kFormatVersion> <encoding>". A
// PostgreSQL table carries the same text as its COMMENT (db/postgres/postgres_schema.h).
std::string FormatMarkerLine(ValueEncoding encoding);

// Parses a marker's text (without the newline): DataLoss naming what is wrong. A newer version
// is returned as read; its encoding is then meaningless.
absl::StatusOr<FormatMarker> ParseFormatMarker(std::string_view line);

// The marker of `folder`: NotFound if it has none, DataLoss if it cannot be parsed (a newer
// version is returned as read; its encoding is then meaningless), or the I/O error.
absl::StatusOr<FormatMarker> ReadFormatMarker(const std::string& folder);

// Writes a marker of kFormatVersion with `encoding` into the existing `folder`.
absl::Status WriteFormatMarker(const std::string& folder, ValueEncoding encoding);

// Applies the rules of the file comment to `folder` and returns its encoding. `expected`: the
// encoding the caller uses (nullopt: whichever the marker records; a new store then gets
// kHeader). `writable`: false for read-only opens, which never write a marker. `context`
// starts every error message.
absl::StatusOr<ValueEncoding> CheckFormatMarker(const std::string& folder,
                                                std::optional<ValueEncoding> expected,
                                                bool writable, const std::string& context);

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_FORMAT_MARKER_H_
