#include "cache/entry.h"

#include <cstring>
#include <new>

namespace asidekv::cache {

Entry* Entry::New(std::string_view key, std::string_view value, uint8_t tag) {
  void* mem = ::operator new(sizeof(Entry) + key.size() + value.size());
  Entry* e = new (mem) Entry();
  e->key_size = static_cast<uint32_t>(key.size());
  e->value_size = static_cast<uint32_t>(value.size());
  e->tag = tag;
  char* data = reinterpret_cast<char*>(e + 1);
  if (!key.empty()) std::memcpy(data, key.data(), key.size());
  if (!value.empty()) std::memcpy(data + key.size(), value.data(), value.size());
  return e;
}

void Entry::Free(Entry* e) {
  e->~Entry();
  ::operator delete(e);
}

}  // namespace asidekv::cache
