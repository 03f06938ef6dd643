#include "cache/entry.h"

#include <cstring>
#include <limits>
#include <new>

namespace asidekv::cache {

static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= Entry::kAlignment,
              "operator new must align entries for the table's packed slots");

namespace {

bool IsLongKey(size_t key_size) { return key_size > std::numeric_limits<uint16_t>::max(); }

}  // namespace

size_t Entry::AllocatedBytes(size_t key_size, size_t value_size, bool has_ttl) {
  return sizeof(Entry) + (IsLongKey(key_size) ? sizeof(uint32_t) : sizeof(uint16_t)) + key_size +
         value_size + (has_ttl ? kTtlBytes : 0);
}

Entry* Entry::New(std::string_view key, std::string_view value, uint8_t tag, int64_t expire_nanos,
                  uint16_t ttl_code) {
  const bool has_ttl = expire_nanos != 0;
  // Plain operator new: already aligned to kAlignment (below), and glibc's aligned variant
  // (memalign) costs about 16 bytes more per block.
  void* mem = ::operator new(AllocatedBytes(key.size(), value.size(), has_ttl));
  Entry* e = new (mem) Entry();
  e->value_size = static_cast<uint32_t>(value.size());
  e->node.owner[kTagByte] = tag;
  char* p = reinterpret_cast<char*>(e + 1);
  if (IsLongKey(key.size())) {
    e->node.owner[kFlagsByte] |= kLongKey;
    const uint32_t n = static_cast<uint32_t>(key.size());
    std::memcpy(p, &n, sizeof(n));
    p += sizeof(n);
  } else {
    const uint16_t n = static_cast<uint16_t>(key.size());
    std::memcpy(p, &n, sizeof(n));
    p += sizeof(n);
  }
  if (!key.empty()) std::memcpy(p, key.data(), key.size());
  p += key.size();
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  p += value.size();
  if (has_ttl) {
    e->node.owner[kFlagsByte] |= kHasTtl;
    std::memcpy(p, &expire_nanos, sizeof(expire_nanos));
    std::memcpy(p + sizeof(expire_nanos), &ttl_code, sizeof(ttl_code));
  }
  return e;
}

void Entry::Free(Entry* e) {
  e->~Entry();
  ::operator delete(e);
}

}  // namespace asidekv::cache
