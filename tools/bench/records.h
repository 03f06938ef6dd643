// Keys and values of the benchmark's records, both derived from numbers so nothing is stored.
//
// Key of record n: `key_size - 16` filler bytes 'k' followed by the 16 lowercase hex digits of
// Mix64(n). Mix64 is a bijection, so keys never collide, and consecutive records land far apart
// in key order (YCSB's "hashed" insert order).
//
// Value of (record n, version v): its size is fixed, or drawn from [min, max] by a hash of
// (n, v); its first 12 bytes hold n (8 bytes, little endian) and v (4 bytes); the rest is a
// slice of a fixed pseudo-random pool of letters chosen by the same hash. A reader that knows n
// can therefore check any value it gets back (Verify) without knowing which write it came from.
//
// Thread safety: RecordCodec is immutable after construction; share it freely.

#ifndef ASIDEKV_TOOLS_BENCH_RECORDS_H_
#define ASIDEKV_TOOLS_BENCH_RECORDS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace asidekv::bench {

class RecordCodec {
 public:
  static constexpr size_t kMinKeySize = 16;
  static constexpr size_t kValueHeaderSize = 12;

  // REQUIRES: key_size >= kMinKeySize, kValueHeaderSize <= min_value_size <= max_value_size.
  RecordCodec(size_t key_size, size_t min_value_size, size_t max_value_size);

  size_t key_size() const { return key_size_; }
  size_t min_value_size() const { return min_value_size_; }
  size_t max_value_size() const { return max_value_size_; }
  double mean_value_size() const { return (min_value_size_ + max_value_size_) / 2.0; }

  // Writes the key of `record` into key->data(), resizing it to key_size() (no allocation once
  // its capacity suffices).
  void FormatKey(uint64_t record, std::string* key) const;
  std::string Key(uint64_t record) const;

  // Writes the value of (record, version) into *value (no allocation once its capacity
  // suffices).
  void FormatValue(uint64_t record, uint32_t version, std::string* value) const;

  // True if `value` is a value of `record` (some version). Otherwise false, with the reason.
  bool Verify(uint64_t record, absl::string_view value, std::string* why) const;

 private:
  size_t ValueSize(uint64_t hash) const;

  const size_t key_size_;
  const size_t min_value_size_;
  const size_t max_value_size_;
  std::string pool_;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_RECORDS_H_
