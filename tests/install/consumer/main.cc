// Opens a store through the installed package, writes, reads back, and checks the result.
#include <asidekv/asidekv.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer STORE_DIR\n");
    return 2;
  }
  asidekv::Options options;
  options.path = argv[1];
  auto store = asidekv::Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  absl::Status s = (*store)->Put("greeting", "hello");
  if (!s.ok()) {
    std::fprintf(stderr, "put: %s\n", s.ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::string> v = (*store)->Get("greeting");
  if (!v.ok() || *v != "hello") {
    std::fprintf(stderr, "get: unexpected result\n");
    return 1;
  }
  static_assert(ASIDEKV_VERSION >= ASIDEKV_MAKE_VERSION(0, 2, 0), "version macros");
  std::printf("consumer: ok (asidekv %s)\n", ASIDEKV_VERSION_STRING);
  return 0;
}
