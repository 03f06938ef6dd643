#include "tools/bench/records.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "tools/bench/random.h"

namespace asidekv::bench {
namespace {

constexpr size_t kPoolSize = 64 << 10;

uint64_t ValueHash(uint64_t record, uint32_t version) {
  return Mix64(record * 0x9E3779B97F4A7C15ull + version + 1);
}

void PutFixed64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void PutFixed32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t GetFixed64(const char* in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
uint32_t GetFixed32(const char* in) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

}  // namespace

RecordCodec::RecordCodec(size_t key_size, size_t min_value_size, size_t max_value_size)
    : key_size_(key_size), min_value_size_(min_value_size), max_value_size_(max_value_size) {
  // Letters only, like YCSB's values; the pool is the same on every run and machine.
  pool_.resize(kPoolSize + max_value_size_);
  Rng rng(0x5EED5EED);
  for (char& c : pool_) c = static_cast<char>('a' + rng.Uniform(26));
}

void RecordCodec::FormatKey(uint64_t record, std::string* key) const {
  static constexpr char kHex[] = "0123456789abcdef";
  key->resize(key_size_);
  char* out = key->data();
  const size_t filler = key_size_ - kMinKeySize;
  std::memset(out, 'k', filler);
  uint64_t h = Mix64(record);
  for (int i = 15; i >= 0; --i) {
    out[filler + static_cast<size_t>(i)] = kHex[h & 0xf];
    h >>= 4;
  }
}

std::string RecordCodec::Key(uint64_t record) const {
  std::string key;
  FormatKey(record, &key);
  return key;
}

size_t RecordCodec::ValueSize(uint64_t hash) const {
  if (min_value_size_ == max_value_size_) return min_value_size_;
  return min_value_size_ + (hash >> 32) % (max_value_size_ - min_value_size_ + 1);
}

void RecordCodec::FormatValue(uint64_t record, uint32_t version, std::string* value) const {
  const uint64_t hash = ValueHash(record, version);
  const size_t size = ValueSize(hash);
  value->resize(size);
  char* out = value->data();
  PutFixed64(out, record);
  PutFixed32(out + 8, version);
  std::memcpy(out + kValueHeaderSize, pool_.data() + hash % kPoolSize, size - kValueHeaderSize);
}

bool RecordCodec::Verify(uint64_t record, absl::string_view value, std::string* why) const {
  if (value.size() < kValueHeaderSize) {
    *why = absl::StrCat("value of record ", record, " has ", value.size(), " bytes");
    return false;
  }
  const uint64_t stored_record = GetFixed64(value.data());
  if (stored_record != record) {
    *why = absl::StrCat("value of record ", record, " belongs to record ", stored_record);
    return false;
  }
  const uint32_t version = GetFixed32(value.data() + 8);
  const uint64_t hash = ValueHash(record, version);
  const size_t size = ValueSize(hash);
  if (value.size() != size ||
      std::memcmp(value.data() + kValueHeaderSize, pool_.data() + hash % kPoolSize,
                  size - kValueHeaderSize) != 0) {
    *why = absl::StrCat("value of record ", record, " version ", version, " is corrupt (",
                        value.size(), " bytes, expected ", size, ")");
    return false;
  }
  return true;
}

}  // namespace asidekv::bench
