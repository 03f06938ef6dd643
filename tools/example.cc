// asidekv-example: opens a store in a local folder, writes, reads and prints what happened.
//
//   asidekv-example [STORE_DIR]     (default: ./asidekv-example-store)
//
// It shows the cache-aside cycle: the first read of a key misses and reads the DB, the second
// hits the cache, a write invalidates the entry, and the next read sees the new value.
#include <cstdio>
#include <string>

#include "asidekv/asidekv.h"

namespace {

void PrintStats(const asidekv::Stats& s) {
  std::printf("  stats: hits=%llu misses=%llu db_reads=%llu entries=%llu bytes=%llu/%llu\n",
              static_cast<unsigned long long>(s.cache_hits),
              static_cast<unsigned long long>(s.cache_misses),
              static_cast<unsigned long long>(s.db_reads),
              static_cast<unsigned long long>(s.cache_entries),
              static_cast<unsigned long long>(s.cache_bytes),
              static_cast<unsigned long long>(s.cache_capacity_bytes));
}

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "asidekv-example: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    std::fprintf(stderr, "usage: asidekv-example [STORE_DIR]\n");
    return 2;
  }
  asidekv::Options options;
  options.path = argc == 2 ? argv[1] : "asidekv-example-store";
  options.cache_capacity_bytes = 1 << 20;
  auto opened = asidekv::Store::Open(options);
  if (!opened.ok()) return Fail("open", opened.status());
  asidekv::Store& store = **opened;
  std::printf("opened store at %s\n", options.path.c_str());

  absl::Status s = store.Put("product:42", "price=10.00");
  if (!s.ok()) return Fail("put", s);
  std::printf("put product:42 = price=10.00\n");

  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::string> v = store.Get("product:42");
    if (!v.ok()) return Fail("get", v.status());
    std::printf("get product:42 -> %s (%s)\n", v->c_str(), i == 0 ? "miss: read the DB" : "hit");
  }
  PrintStats(store.GetStats());

  s = store.Put("product:42", "price=12.50");
  if (!s.ok()) return Fail("put", s);
  std::printf("put product:42 = price=12.50 (DB first, then the cache entry is invalidated)\n");
  absl::StatusOr<std::string> v = store.Get("product:42");
  if (!v.ok()) return Fail("get", v.status());
  std::printf("get product:42 -> %s\n", v->c_str());

  s = store.Delete("product:42");
  if (!s.ok()) return Fail("delete", s);
  v = store.Get("product:42");
  std::printf("delete product:42; get -> %s\n", v.status().ToString().c_str());
  if (!absl::IsNotFound(v.status())) return Fail("get after delete", v.status());

  store.ClearCache();
  std::printf("cleared the cache (as after a cache restart); reads still work:\n");
  s = store.Put("product:7", "price=3.00");
  if (!s.ok()) return Fail("put", s);
  v = store.Get("product:7");
  if (!v.ok()) return Fail("get", v.status());
  std::printf("get product:7 -> %s\n", v->c_str());
  PrintStats(store.GetStats());
  return 0;
}
