// CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected), the checksum of every asidekv file (the
// hot-set file, the dump file). Table-driven, one byte at a time: the files are small.
//
// Thread safety: pure functions.

#ifndef ASIDEKV_UTIL_CRC32C_H_
#define ASIDEKV_UTIL_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace asidekv::util {

// The CRC-32C of `data` appended to data whose CRC-32C is `crc` (0 for none).
uint32_t Crc32cExtend(uint32_t crc, std::string_view data);

// The CRC-32C of `data` ("123456789" gives 0xE3069283).
inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data); }

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_CRC32C_H_
