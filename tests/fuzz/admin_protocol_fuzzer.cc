// libFuzzer target for the admin protocol (admin/protocol.h): request parsing, the
// format/parse round trip, and the JSON parser the client uses on responses.
//
// Built with clang when ASIDEKV_BUILD_FUZZERS=ON (admin_protocol_fuzzer); in every build the same
// entry point runs over tests/fuzz/admin_protocol_corpus/ (ctest admin_protocol_corpus).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "admin/protocol.h"
#include "tools/admin/json_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace asidekv::admin;
  using asidekv::util::AppendJsonString;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<AdminRequest> r = ParseAdminRequest(input);
  if (r.ok()) {
    // Whatever parses formats back to a request that parses to the same thing.
    const std::string line = FormatAdminRequest(*r);
    absl::StatusOr<AdminRequest> again = ParseAdminRequest(line);
    if (!again.ok() || again->command != r->command || again->key != r->key ||
        again->count != r->count) {
      std::abort();
    }
  }
  absl::StatusOr<JsonValue> v = ParseJson(input);
  if (v.ok()) {
    (void)AdminResponseStatus(*v);
  }
  // Every byte string survives the JSON string encoding.
  std::string quoted;
  AppendJsonString(input, &quoted);
  absl::StatusOr<JsonValue> s = ParseJson(quoted);
  if (!s.ok() || s->text != input) std::abort();
  absl::StatusOr<std::string> decoded = PercentDecode(PercentEncode(input));
  if (!decoded.ok() || *decoded != input) std::abort();
  return 0;
}
