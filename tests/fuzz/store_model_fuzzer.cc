// Model-based fuzzer of Store: decodes a byte string into Put / Put-with-TTL / Delete / Get /
// GetPinned / MultiGet / Write / Scan / ClearCache / Invalidate / clock-advance operations and
// checks every result against a std::map model. The first byte picks one of sixteen
// configurations (kInvalidate or kUpdate; negative caching on or off; the real cache or one
// that drops lookups, fills and updates; values stored with asidekv's header or raw, where a
// per-key TTL is refused), all with a cache of a few entries, millisecond TTLs on
// a fake clock (so eviction and expiry happen all the time), binary keys, and small key and value
// limits (so invalid input is exercised too).
//
// One Store per configuration lives for the whole process; each input starts by deleting every
// key of the key space and clearing the cache, so inputs are independent.
//
// Built two ways (tests/fuzz/CMakeLists.txt):
//   - store_model_fuzzer (ASIDEKV_BUILD_FUZZERS=ON, clang): a libFuzzer target;
//   - store_model_fuzzer_test (always): a GoogleTest that replays the seed corpus
//     (tests/fuzz/corpus/store_model) and ASIDEKV_FUZZ_INPUTS (default 600) random inputs from a
//     fixed seed, so the ordinary suite runs this body under g++ and every sanitizer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "asidekv/asidekv.h"
#include "core/store_opener.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/forwarding_cache.h"
#include "tests/testing/temp_dir.h"

namespace asidekv {
namespace {

constexpr size_t kMaxKey = 64;
constexpr size_t kMaxValue = 1024;
constexpr int kConfigs = 16;

// The key space: binary keys, a key of the largest size, and two invalid keys (empty, too long).
const std::vector<std::string>& Keys() {
  static const std::vector<std::string>* keys = new std::vector<std::string>{
      "a",
      "b",
      std::string(1, '\0'),
      "\xff",
      std::string("k\0k", 3),
      std::string("\xff\xff\0", 3),
      "key/1",
      "key/2",
      std::string(kMaxKey - 1, 'x'),
      std::string(kMaxKey, 'y'),
      "",
      std::string(kMaxKey + 1, 'z'),
  };
  return *keys;
}
bool ValidKey(const std::string& k) { return !k.empty() && k.size() <= kMaxKey; }

// Drops cache operations at random: lookups miss, fills bypass or are dropped, kUpdate writes
// leave the key invalidated instead of cached. Invalidations always pass (see FlakyCache in
// tests/core/store_cache_failure_test.cc). Reseeded per input so inputs replay exactly.
class DroppingCache : public testing::ForwardingCache {
 public:
  using ForwardingCache::ForwardingCache;
  void Reseed(uint32_t seed) {
    absl::MutexLock lock(&mu_);
    rng_.seed(seed);
  }
  cache::ValueRef Lookup(std::string_view key) override {
    if (Roll(5)) return cache::ValueRef();
    return ForwardingCache::Lookup(key);
  }
  cache::FillTicket BeginFill(std::string_view key) override {
    if (Roll(5)) return cache::FillTicket::Bypass();
    return ForwardingCache::BeginFill(key);
  }
  cache::FillResult CompleteFill(cache::FillTicket* ticket, const std::string_view* value,
                                 const cache::EntryOptions& options,
                                 const absl::StatusOr<std::string>& result) override {
    if (Roll(3)) value = nullptr;
    return ForwardingCache::CompleteFill(ticket, value, options, result);
  }
  void EndWrite(const cache::WriteToken& token, bool db_ok, const std::string_view* value,
                const cache::EntryOptions& options) override {
    // A dropped update still ends the write, as a delete: the entry is invalidated.
    if (value != nullptr && Roll(3)) value = nullptr;
    ForwardingCache::EndWrite(token, db_ok, value, options);
  }

 private:
  bool Roll(int one_in) {
    absl::MutexLock lock(&mu_);
    return rng_() % static_cast<uint32_t>(one_in) == 0;
  }
  absl::Mutex mu_;
  std::mt19937 rng_ ABSL_GUARDED_BY(mu_){1};
};

struct Instance {
  testing::FakeClock clock;
  DroppingCache* dropping = nullptr;  // Owned by the store; null without the double.
  int inputs = 0;
  std::unique_ptr<Store> store;
};

class Harness {
 public:
  Instance* Get(int config, std::string* error) {
    std::unique_ptr<Instance>& slot = instances_[config];
    if (slot != nullptr) return slot.get();
    if (dir_ == nullptr) dir_ = std::make_unique<testing::TempDir>();
    auto inst = std::make_unique<Instance>();
    Options o;
    o.path = dir_->Sub(absl::StrCat("db", config));
    o.write_policy = (config & 1) ? WritePolicy::kUpdate : WritePolicy::kInvalidate;
    o.negative_ttl = (config & 2) ? absl::Milliseconds(3) : absl::ZeroDuration();
    o.cache_capacity_bytes = 2048;
    o.cache_shards = 2;
    o.default_ttl = absl::Milliseconds(5);
    o.ttl_jitter = (config & 2) ? 0.5 : 0.0;
    o.max_key_size = kMaxKey;
    o.max_value_size = kMaxValue;
    o.latency_stats = false;
    o.db_block_cache_bytes = 0;
    o.raw_values = (config & 8) != 0;
    core::StoreHooks hooks;
    hooks.clock = &inst->clock;
    if (config & 4) {
      Instance* raw = inst.get();
      hooks.wrap_cache = [raw](std::unique_ptr<cache::Cache> c) -> std::unique_ptr<cache::Cache> {
        auto d = std::make_unique<DroppingCache>(std::move(c));
        raw->dropping = d.get();
        return d;
      };
    }
    auto opened = core::StoreOpener::Open(o, hooks);
    if (!opened.ok()) {
      *error = absl::StrCat("open: ", opened.status().ToString());
      return nullptr;
    }
    inst->store = *std::move(opened);
    slot = std::move(inst);
    return slot.get();
  }

  // Closes every store and removes their folders; the next Get() starts afresh.
  void Reset() {
    for (std::unique_ptr<Instance>& slot : instances_) slot.reset();
    dir_.reset();
  }

 private:
  std::unique_ptr<testing::TempDir> dir_;  // Outlives the stores.
  std::unique_ptr<Instance> instances_[kConfigs];
};

// Never destroyed: a static destructor would close the stores after RocksDB's own statics (its
// default Env) are gone. The GoogleTest build calls Reset() at the end of each test; libFuzzer
// exits with the stores open, as a crash would.
Harness& TheHarness() {
  static Harness* harness = new Harness;
  return *harness;
}

// Reads the input front to back; past the end every read returns 0.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string Bytes(size_t n) {
    n = std::min(n, size_ - std::min(size_, pos_));
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

using Model = std::map<std::string, std::string>;

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 24)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += absl::StrCat("\\x", absl::Hex(u, absl::kZeroPad2));
    }
  }
  return s.size() > 24 ? absl::StrCat(out, "...(", s.size(), " bytes)") : out;
}

// "" if `got` matches the model's answer for `key`, else a description.
std::string Check(const Model& model, const std::string& key,
                  const absl::StatusOr<std::string>& got, const char* what) {
  if (!ValidKey(key)) {
    if (absl::IsInvalidArgument(got.status())) return "";
    return absl::StrCat(what, "(", Printable(key), "): want InvalidArgument, got ",
                        got.status().ToString());
  }
  auto it = model.find(key);
  if (it == model.end()) {
    if (absl::IsNotFound(got.status())) return "";
    return absl::StrCat(what, "(", Printable(key), "): want NotFound, got ",
                        got.ok() ? Printable(*got) : got.status().ToString());
  }
  if (got.ok() && *got == it->second) return "";
  return absl::StrCat(what, "(", Printable(key), "): want ", Printable(it->second), ", got ",
                      got.ok() ? Printable(*got) : got.status().ToString());
}

std::string ReadValue(Reader& in) {
  const uint8_t n = in.Byte();
  if (n == 0xff) return std::string(kMaxValue + (in.Byte() % 2), 'L');  // At or over the limit.
  if (n >= 0xf0) return std::string(600 + n, 'M');  // Larger than a cache shard holds.
  return in.Bytes(n % 40);
}

// Runs one input; "" if every result matched the model.
std::string RunInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  std::string error;
  const int config = in.Byte() % kConfigs;
  Instance* inst = TheHarness().Get(config, &error);
  if (inst == nullptr) return error;
  Store& store = *inst->store;
  if (inst->dropping != nullptr) inst->dropping->Reseed(in.Byte());

  // Start from an empty store. Now and then compact away the tombstones earlier inputs left,
  // which scans would otherwise step over in ever growing numbers.
  if (++inst->inputs % 128 == 0) {
    if (absl::Status s = store.CompactAll(); !s.ok())
      return absl::StrCat("compact: ", s.ToString());
  }
  WriteBatch reset;
  for (const std::string& k : Keys()) {
    if (ValidKey(k)) reset.Delete(k);
  }
  if (absl::Status s = store.Write(reset); !s.ok()) return absl::StrCat("reset: ", s.ToString());
  store.ClearCache();
  Model model;
  const std::vector<std::string>& keys = Keys();
  auto key = [&]() -> const std::string& { return keys[in.Byte() % keys.size()]; };
  auto expect_write = [&](const absl::Status& s, bool valid, const char* what) {
    if (valid ? s.ok() : absl::IsInvalidArgument(s)) return std::string();
    return absl::StrCat(what, ": want ", valid ? "OK" : "InvalidArgument", ", got ", s.ToString());
  };

  for (int step = 0; !in.done() && step < 400; ++step) {
    const uint8_t op = in.Byte() % 12;
    std::string err;
    switch (op) {
      case 0:
      case 1: {
        const std::string& k = key();
        const std::string v = ReadValue(in);
        const bool valid = ValidKey(k) && v.size() <= kMaxValue;
        err = expect_write(store.Put(k, v), valid, "Put");
        if (valid) model[k] = v;
        break;
      }
      case 2: {
        const std::string& k = key();
        const std::string v = ReadValue(in);
        const bool valid = ValidKey(k) && v.size() <= kMaxValue;
        const absl::Status s = store.Put(k, v, absl::Milliseconds(1 + in.Byte() % 16));
        if (store.options().raw_values) {
          if (!absl::IsFailedPrecondition(s)) {
            err =
                absl::StrCat("Put(ttl) of raw values: want FailedPrecondition, got ", s.ToString());
          }
          break;
        }
        err = expect_write(s, valid, "Put(ttl)");
        if (valid) model[k] = v;
        break;
      }
      case 3: {
        const std::string& k = key();
        err = expect_write(store.Delete(k), ValidKey(k), "Delete");
        if (ValidKey(k)) model.erase(k);
        break;
      }
      case 4: {
        const std::string& k = key();
        err = Check(model, k, store.Get(k), "Get");
        break;
      }
      case 5: {
        const std::string& k = key();
        absl::StatusOr<PinnedValue> p = store.GetPinned(k);
        absl::StatusOr<std::string> got =
            p.ok() ? absl::StatusOr<std::string>(p->ToString()) : p.status();
        err = Check(model, k, got, "GetPinned");
        break;
      }
      case 6: {
        std::vector<std::string> ks(1 + in.Byte() % 4);
        for (std::string& k : ks) k = key();
        std::vector<absl::StatusOr<std::string>> got = store.MultiGet(ks);
        if (got.size() != ks.size()) err = "MultiGet: wrong number of results";
        for (size_t i = 0; err.empty() && i < ks.size(); ++i) {
          err = Check(model, ks[i], got[i], "MultiGet");
        }
        break;
      }
      case 7: {
        WriteBatch batch;
        Model after = model;
        bool valid = true;
        const int n = 1 + in.Byte() % 4;
        for (int i = 0; i < n; ++i) {
          const std::string& k = key();
          valid = valid && ValidKey(k);
          if (in.Byte() % 3 == 0) {
            batch.Delete(k);
            after.erase(k);
          } else {
            std::string v = ReadValue(in);
            valid = valid && v.size() <= kMaxValue;
            after[k] = v;
            batch.Put(k, std::move(v));
          }
        }
        err = expect_write(store.Write(batch), valid, "Write");
        if (valid) model = std::move(after);
        break;
      }
      case 8:
        store.ClearCache();
        break;
      case 9: {
        const std::string& k = key();
        store.Invalidate(k);
        break;
      }
      case 10:
        inst->clock.Advance(absl::Milliseconds(in.Byte() % 12));
        break;
      case 11: {
        static const char* const kPrefixes[] = {"", "key/", "\xff"};
        ScanOptions so;
        so.prefix = kPrefixes[in.Byte() % 3];
        so.limit = in.Byte() % 4;  // 0: no limit.
        absl::StatusOr<std::vector<KeyValue>> rows = store.Scan(so);
        if (!rows.ok()) {
          err = absl::StrCat("Scan: ", rows.status().ToString());
          break;
        }
        std::vector<KeyValue> want;
        for (const auto& [k, v] : model) {
          if (k.compare(0, so.prefix.size(), so.prefix) != 0) continue;
          if (so.limit != 0 && want.size() == so.limit) break;
          want.push_back(KeyValue{k, v});
        }
        bool same = want.size() == rows->size();
        for (size_t i = 0; same && i < want.size(); ++i) {
          same = want[i].key == (*rows)[i].key && want[i].value == (*rows)[i].value;
        }
        if (!same) {
          err = absl::StrCat("Scan(prefix ", Printable(so.prefix), ", limit ", so.limit, "): want ",
                             want.size(), " rows, got ", rows->size());
        }
        break;
      }
    }
    if (err.empty()) {
      const Stats stats = store.GetStats();
      if (stats.cache_bytes > stats.cache_capacity_bytes) {
        err = absl::StrCat("cache_bytes ", stats.cache_bytes, " over the capacity ",
                           stats.cache_capacity_bytes);
      }
    }
    if (!err.empty()) return absl::StrCat("config ", config, ", step ", step, ": ", err);
  }
  // At the end every key reads as the model says.
  for (const std::string& k : keys) {
    if (std::string err = Check(model, k, store.Get(k), "final Get"); !err.empty()) {
      return absl::StrCat("config ", config, ": ", err);
    }
  }
  return "";
}

}  // namespace
}  // namespace asidekv

#ifdef ASIDEKV_FUZZ_REPLAY

#include <filesystem>
#include <fstream>
#include <iterator>

#include "gtest/gtest.h"

namespace asidekv {
namespace {

TEST(StoreModelFuzzer, ReplaysSeedCorpus) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ASIDEKV_STORE_MODEL_CORPUS)) {
    std::ifstream f(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(RunInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "")
        << entry.path();
    ++files;
  }
  EXPECT_GT(files, 0);
  TheHarness().Reset();
}

TEST(StoreModelFuzzer, RandomInputsFromFixedSeed) {
  int inputs = 600;
  if (const char* v = std::getenv("ASIDEKV_FUZZ_INPUTS"); v != nullptr) inputs = std::atoi(v);
  std::mt19937 rng(20240601);
  for (int i = 0; i < inputs; ++i) {
    std::string bytes(rng() % 300, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string err = RunInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    if (!err.empty()) TheHarness().Reset();
    ASSERT_EQ(err, "") << "input " << i;
  }
  TheHarness().Reset();
}

}  // namespace
}  // namespace asidekv

#else  // libFuzzer

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string err = asidekv::RunInput(data, size);
  if (!err.empty()) {
    std::fprintf(stderr, "store model mismatch: %s\n", err.c_str());
    std::abort();
  }
  return 0;
}

#endif
