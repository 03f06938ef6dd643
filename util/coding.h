// Byte coding of integers, the one implementation every persistent format uses (the value header,
// the hot-set file, the dump file; see db/format.h for the layouts).
//
//   Fixed32/Fixed64: little-endian, 4 or 8 bytes.
//   Varint64: 7 bits per byte, least significant group first, high bit set on every byte but the
//             last (LevelDB's and Protocol Buffers' varint); at most 10 bytes.
//
// Put* append to a std::string. Get* read from the front of *in and advance it past what they
// read; on a short or malformed input they return false and leave *in unspecified.
//
// Thread safety: pure functions.

#ifndef ASIDEKV_UTIL_CODING_H_
#define ASIDEKV_UTIL_CODING_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace asidekv::util {

inline constexpr size_t kMaxVarint64Bytes = 10;

void PutFixed32(std::string* out, uint32_t v);
void PutFixed64(std::string* out, uint64_t v);
void PutVarint64(std::string* out, uint64_t v);

bool GetFixed32(std::string_view* in, uint32_t* v);
bool GetFixed64(std::string_view* in, uint64_t* v);
// False on a truncated varint or one longer than 10 bytes or overflowing 64 bits.
bool GetVarint64(std::string_view* in, uint64_t* v);

}  // namespace asidekv::util

#endif  // ASIDEKV_UTIL_CODING_H_
