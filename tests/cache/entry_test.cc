// Entry's packed layout (cache/entry.h): the key size in 2 bytes or, above 0xFFFF, in 4; the
// expiry and TTL code only on entries with a TTL; the tag beside the policy's fields. Every field
// reads back what New() was given, at every key-size boundary, with and without a TTL, and the
// policy's use of its own node fields leaves them alone.

#include "cache/entry.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace asidekv::cache {
namespace {

TEST(EntryTest, FieldsReadBackAtEveryKeySizeBoundary) {
  for (size_t key_size : {0, 1, 16, 0xFFFE, 0xFFFF, 0x10000, 0x10001}) {
    for (size_t value_size : {0, 1, 100, 70000}) {
      for (bool ttl : {false, true}) {
        const std::string key(key_size, 'k');
        std::string value(value_size, 'v');
        if (!value.empty()) value.back() = 'z';  // The value's last byte is its own.
        const int64_t expire = ttl ? int64_t{0x0123456789ABCDEF} : 0;
        const uint16_t code = ttl ? 0xBEEF : 0;
        Entry* e = Entry::New(key, value, /*tag=*/0xA5, expire, code);
        SCOPED_TRACE(testing::Message()
                     << "key " << key_size << " value " << value_size << (ttl ? " ttl" : ""));
        EXPECT_EQ(e->key_size(), key_size);
        EXPECT_EQ(e->key(), key);
        EXPECT_EQ(e->value(), value);
        EXPECT_EQ(e->tag(), 0xA5);
        EXPECT_EQ(e->has_ttl(), ttl);
        EXPECT_EQ(e->expire_nanos(), expire);
        EXPECT_EQ(e->ttl_code(), code);
        // The policy writes its node fields; the entry's own bytes beside them stay.
        e->node.freq = 0xFF;
        e->node.queue = 0xFF;
        e->node.charge = 0xFFFFFFFF;
        EXPECT_EQ(e->tag(), 0xA5);
        EXPECT_EQ(e->key(), key);
        EXPECT_EQ(e->expire_nanos(), expire);
        e->Unref();
      }
    }
  }
}

TEST(EntryTest, AllocatesHeaderKeySizeKeyValueAndTtlOnlyWhenSet) {
  EXPECT_EQ(sizeof(Entry), 32u);
  EXPECT_EQ(Entry::AllocatedBytes(16, 100, false), 32u + 2 + 16 + 100);
  EXPECT_EQ(Entry::AllocatedBytes(16, 100, true), 32u + 2 + 16 + 100 + Entry::kTtlBytes);
  EXPECT_EQ(Entry::AllocatedBytes(0xFFFF, 0, false), 32u + 2 + 0xFFFF);
  EXPECT_EQ(Entry::AllocatedBytes(0x10000, 0, false), 32u + 4 + 0x10000);
}

// A ValueRef reads the same fields through the entry.
TEST(EntryTest, ValueRefReadsThePackedFields) {
  ValueRef v(Entry::New("key", "value", 7, /*expire_nanos=*/1234, EncodeTtl(5'000'000)));
  EXPECT_EQ(v.key(), "key");
  EXPECT_EQ(v.value(), "value");
  EXPECT_EQ(v.tag(), 7);
  EXPECT_EQ(v.expire_nanos(), 1234);
  EXPECT_EQ(v.ttl_nanos(), DecodeTtl(EncodeTtl(5'000'000)));
  ValueRef none(Entry::New("k", "v", 0));
  EXPECT_EQ(none.expire_nanos(), 0);
  EXPECT_EQ(none.ttl_nanos(), 0);
}

}  // namespace
}  // namespace asidekv::cache
