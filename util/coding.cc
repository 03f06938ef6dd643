#include "util/coding.h"

namespace asidekv::util {
namespace {

template <int kBytes, typename T>
void PutFixed(std::string* out, T v) {
  for (int i = 0; i < kBytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

template <int kBytes, typename T>
bool GetFixed(std::string_view* in, T* v) {
  if (in->size() < kBytes) return false;
  T r = 0;
  for (int i = 0; i < kBytes; ++i) r |= T{static_cast<unsigned char>((*in)[i])} << (8 * i);
  in->remove_prefix(kBytes);
  *v = r;
  return true;
}

}  // namespace

void PutFixed32(std::string* out, uint32_t v) { PutFixed<4>(out, v); }
void PutFixed64(std::string* out, uint64_t v) { PutFixed<8>(out, v); }
bool GetFixed32(std::string_view* in, uint32_t* v) { return GetFixed<4>(in, v); }
bool GetFixed64(std::string_view* in, uint64_t* v) { return GetFixed<8>(in, v); }

void PutVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint64(std::string_view* in, uint64_t* v) {
  uint64_t r = 0;
  for (size_t i = 0; i < kMaxVarint64Bytes; ++i) {
    if (i >= in->size()) return false;
    const uint64_t b = static_cast<unsigned char>((*in)[i]);
    // The tenth byte holds bit 63 only.
    if (i == kMaxVarint64Bytes - 1 && b > 1) return false;
    r |= (b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      in->remove_prefix(i + 1);
      *v = r;
      return true;
    }
  }
  return false;
}

}  // namespace asidekv::util
