// EntryTable on its own (one thread): every key stays findable through growth, churn and
// shrinking; probes and erasures that wrap from the array's last slot to its first; and the
// array's size against its live entries (the bytes per entry it costs). Readers racing the
// rebuilds: tests/cache/lock_free_lookup_test.cc.

#include "cache/entry_table.h"

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cache/entry.h"
#include "gtest/gtest.h"
#include "util/epoch.h"
#include "util/hash.h"

namespace asidekv::cache {
namespace {

// Owns the entries and the retired arrays of one table.
class TableTest : public ::testing::Test {
 protected:
  ~TableTest() override {
    Collect();
    for (Entry* e : entries_) e->Unref();
  }

  // A new entry of `key` (not yet in the table).
  Entry* Make(const std::string& key) {
    entries_.push_back(Entry::New(key, absl::StrCat("value of ", key), 0));
    return entries_.back();
  }
  void Insert(Entry* e) { table_.Insert(e, util::HashKey(e->key()), &retired_); }
  void Erase(Entry* e) { table_.Erase(e, util::HashKey(e->key())); }
  Entry* Find(const std::string& key) const { return table_.Find(key, util::HashKey(key)); }
  void Collect() {
    std::vector<util::Retired> ready;
    retired_.Collect(&ready);
    for (const util::Retired& r : ready) r.Release();
  }

  EntryTable table_;
  util::RetireList retired_;
  std::vector<Entry*> entries_;
};

std::string Key(size_t k) { return absl::StrCat("key-", k); }

TEST_F(TableTest, EveryKeyStaysFindableThroughGrowthChurnAndShrinking) {
  constexpr size_t kKeys = 20'000;
  std::vector<Entry*> in(kKeys);
  for (size_t k = 0; k < kKeys; ++k) {
    in[k] = Make(Key(k));
    Insert(in[k]);
    if (k % 997 == 0) {
      for (size_t j = 0; j <= k; ++j) ASSERT_EQ(Find(Key(j)), in[j]) << "after " << k;
    }
  }
  ASSERT_EQ(table_.size(), kKeys);
  // Churn: replace random keys' entries many times over (erasures shift runs back).
  std::mt19937_64 rng(7);
  for (size_t step = 0; step < 4 * kKeys; ++step) {
    const size_t k = rng() % kKeys;
    Erase(in[k]);
    ASSERT_EQ(Find(Key(k)), nullptr);
    in[k] = Make(Key(k));
    Insert(in[k]);
  }
  for (size_t k = 0; k < kKeys; ++k) ASSERT_EQ(Find(Key(k)), in[k]);
  EXPECT_EQ(Find("absent"), nullptr);
  // Shrink: erase all but every twentieth key, then insert a few (a rebuild to a smaller size).
  for (size_t k = 0; k < kKeys; ++k) {
    if (k % 20 != 0) Erase(in[k]);
  }
  const size_t before = table_.slot_count();
  for (size_t k = kKeys; k < kKeys + 300; ++k) Insert(Make(Key(k)));
  EXPECT_EQ(table_.size(), kKeys / 20 + 300);
  EXPECT_LT(table_.slot_count(), before / 2);
  EXPECT_LE(table_.slot_count(), (kKeys / 20 + 300) * 2 + 8);
  for (size_t k = 0; k < kKeys; ++k) ASSERT_EQ(Find(Key(k)), k % 20 == 0 ? in[k] : nullptr);
  for (size_t k = kKeys; k < kKeys + 300; ++k) ASSERT_NE(Find(Key(k)), nullptr);
}

// The table's array holds 8-byte slots; its size is the table's memory per entry. Live entries
// fill 1/2 to 13/16 of the slots (at most 16 bytes per entry) whatever the count, and churn at a
// steady count leaves the array as it is.
TEST_F(TableTest, SlotsPerEntryStayBoundedAtEveryCount) {
  size_t inserted = 0;
  // Counts just past and just short of each power of two, and the per-shard count of a million
  // entries over 16 shards (62,500), where arrays sized in powers of two held 2.1 slots per entry.
  for (size_t count : {1'000u, 4'095u, 4'097u, 40'000u, 62'500u, 65'537u, 100'000u}) {
    for (; inserted < count; ++inserted) Insert(Make(Key(inserted)));
    const size_t slots = table_.slot_count();
    EXPECT_LE(slots, 2 * count + 8) << count << " entries";
    EXPECT_GE(slots * 13, count * 16) << count << " entries";
  }
  // A steady size: erase one entry and insert another, until every entry was replaced twice.
  std::mt19937_64 rng(11);
  std::vector<Entry*> live(entries_.begin(), entries_.end());
  for (size_t step = 0; step < 2 * inserted; ++step) {
    const size_t i = rng() % live.size();
    Erase(live[i]);
    live[i] = Make(Key(inserted + step));
    Insert(live[i]);
  }
  EXPECT_EQ(table_.size(), inserted);
  EXPECT_LE(table_.slot_count(), 2 * inserted + 8);
  EXPECT_GE(table_.slot_count() * 13, inserted * 16);
  for (Entry* e : live) ASSERT_EQ(Find(std::string(e->key())), e);
}

// Keys whose probes start at the array's last slot run on from its first: found there, and
// shifted back across the wrap when an entry before them is erased.
TEST_F(TableTest, ProbesAndErasuresWrapAroundTheArray) {
  ASSERT_EQ(table_.slot_count(), EntryTable::kMinSlots);
  // The probe start (cache/entry_table.h): the hash's 20 low bits scaled to the slot count.
  const auto start = [](const std::string& key) {
    return ((util::HashKey(key) & 0xFFFFF) * EntryTable::kMinSlots) >> 20;
  };
  std::vector<Entry*> last;  // Keys starting at the last slot.
  for (size_t k = 0; last.size() < 4; ++k) {
    if (start(Key(k)) == EntryTable::kMinSlots - 1) last.push_back(Make(Key(k)));
  }
  for (Entry* e : last) Insert(e);  // In slots 15, 0, 1 and 2.
  for (Entry* e : last) ASSERT_EQ(Find(std::string(e->key())), e);
  Erase(last[0]);  // Slot 15 empties: the others shift back across the wrap, to 15, 0 and 1.
  EXPECT_EQ(Find(std::string(last[0]->key())), nullptr);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(Find(std::string(last[i]->key())), last[i]);
  Erase(last[2]);  // The middle one: the last shifts back into its slot.
  EXPECT_EQ(Find(std::string(last[2]->key())), nullptr);
  EXPECT_EQ(Find(std::string(last[1]->key())), last[1]);
  EXPECT_EQ(Find(std::string(last[3]->key())), last[3]);
  EXPECT_EQ(table_.size(), 2u);
  Insert(last[0]);
  Insert(last[2]);
  for (Entry* e : last) EXPECT_EQ(Find(std::string(e->key())), e);
  // Every erasure order empties the table.
  for (Entry* e : {last[2], last[1], last[3], last[0]}) {
    Erase(e);
    EXPECT_EQ(Find(std::string(e->key())), nullptr);
  }
  EXPECT_TRUE(table_.empty());
  // A key starting at slot 0, behind one that wrapped there: erasing the wrapped key must not
  // move it back to the last slot, before its start.
  Entry* first = nullptr;
  for (size_t k = 0; first == nullptr; ++k) {
    if (start(Key(k)) == 0) first = Make(Key(k));
  }
  Insert(last[0]);  // Slot 15.
  Insert(last[1]);  // Slot 0.
  Insert(first);    // Slot 1.
  Erase(last[0]);   // last[1] moves to 15; `first` stays in slot 1 (slot 0 is its start).
  EXPECT_EQ(Find(std::string(last[1]->key())), last[1]);
  EXPECT_EQ(Find(std::string(first->key())), first);
  Erase(last[1]);
  EXPECT_EQ(Find(std::string(first->key())), first);
  EXPECT_EQ(table_.slot_count(), EntryTable::kMinSlots);
}

}  // namespace
}  // namespace asidekv::cache
