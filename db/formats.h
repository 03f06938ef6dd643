// Every persistent byte layout asidekv writes, documented in this one place with its version.
// The code that reads and writes each layout names its constants from here.
//
// 1. The store folder's format marker: ASIDEKV_FORMAT, one line (db/format_marker.h)
//      "asidekv-format <version> <encoding>\n"     version kFormatVersion (1);
//      encoding "header" or "raw" (Options::raw_values). Written before RocksDB creates the
//      store, checked on every Open before RocksDB touches the folder: a folder without it, of a
//      newer version or of the other encoding is refused (FailedPrecondition).
//
// 2. A stored value, in RocksDB (db/value_format.h), in a folder whose marker says "header":
//      stored := kind:u8 [ttl_nanos:varint64 if kind == 0x01] value:bytes
//      kind 0x00: plain; 0x01: with the cache TTL given to Put(key, value, ttl), in nanoseconds
//      (INT64_MAX: infinite). Varints as util/coding.h. Any other kind, a truncated or zero TTL:
//      DataLoss. In a "raw" folder a stored value is the value, with no header.
//      Versioned by the folder's marker.
//
// 3. The hot-set file (Options::hot_set_path; core/warming.h), written atomically (a temporary
//    file renamed over the old one):
//      kHotSetMagic ("AKVHOT01": magic and version 01)   8 bytes
//      count:fixed32, then count x (key_len:fixed32, key bytes)
//      crc:fixed32, the CRC-32C (util/crc32c.h) of every byte before it
//    Integers little-endian (util/coding.h). A wrong magic, a short read, trailing bytes or a
//    checksum mismatch refuses the whole file (DataLoss): the Store then starts cold.
//
// 4. asidekv-admin's dump file (tools/admin/offline.h), portable between machines and folders:
//      file    := kDumpMagic ("ASIDEKV-DUMP-1\n": magic and version 1) record* trailer
//      record  := 'R' key_len:fixed32 key value_len:fixed32 value has_ttl:u8
//                 [ttl_nanos:fixed64 if has_ttl == 1]
//      trailer := 'E' count:fixed64 crc:fixed32
//    Integers little-endian; crc is the CRC-32 (zlib's, IEEE 802.3) of every byte before it.
//    Records in key order; user values (decoded from the folder's encoding), so a dump loads
//    into a folder of either encoding (TTLs only into "header" folders).
//
// Compatibility: a reader refuses a version it does not know; a change to any layout takes a
// new version here (and, for 1 and 2, a new kFormatVersion).

#ifndef ASIDEKV_DB_FORMATS_H_
#define ASIDEKV_DB_FORMATS_H_

#include <string_view>

namespace asidekv::db {

inline constexpr std::string_view kHotSetMagic = "AKVHOT01";
inline constexpr std::string_view kDumpMagic = "ASIDEKV-DUMP-1\n";

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_FORMATS_H_
