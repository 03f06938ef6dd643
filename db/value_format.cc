#include "db/value_format.h"

#include <cstdint>

#include "util/coding.h"

namespace asidekv::db {
namespace {

constexpr char kPlain = 0x00;
constexpr char kWithTtl = 0x01;

}  // namespace

void EncodeValue(std::string_view value, std::optional<absl::Duration> ttl,
                 db::ValueEncoding encoding, std::string* out) {
  if (encoding == db::ValueEncoding::kRaw) {
    out->append(value.data(), value.size());
    return;
  }
  if (!ttl.has_value()) {
    out->reserve(out->size() + 1 + value.size());
    out->push_back(kPlain);
  } else {
    out->reserve(out->size() + 1 + util::kMaxVarint64Bytes + value.size());
    out->push_back(kWithTtl);
    // An infinite TTL saturates to INT64_MAX, which decodes back to infinite.
    util::PutVarint64(out, static_cast<uint64_t>(absl::ToInt64Nanoseconds(*ttl)));
  }
  out->append(value.data(), value.size());
}

absl::StatusOr<DecodedValue> DecodeValue(std::string_view stored, db::ValueEncoding encoding) {
  DecodedValue d;
  if (encoding == db::ValueEncoding::kRaw) {
    d.value = stored;
    return d;
  }
  if (stored.empty()) return absl::DataLossError("stored value has no header byte");
  if (stored[0] == kPlain) {
    d.header_size = 1;
  } else if (stored[0] == kWithTtl) {
    uint64_t n = 0;
    std::string_view rest = stored.substr(1);
    if (!util::GetVarint64(&rest, &n)) {
      return absl::DataLossError("stored value has a truncated TTL header");
    }
    const size_t i = stored.size() - rest.size();
    if (n == 0 || n > static_cast<uint64_t>(INT64_MAX)) {
      return absl::DataLossError("stored value has an invalid TTL");
    }
    d.ttl = n == static_cast<uint64_t>(INT64_MAX) ? absl::InfiniteDuration()
                                                  : absl::Nanoseconds(static_cast<int64_t>(n));
    d.header_size = i;
  } else {
    return absl::DataLossError("stored value has an unknown format byte");
  }
  d.value = stored.substr(d.header_size);
  return d;
}

absl::StatusOr<std::optional<absl::Duration>> StripHeader(std::string* stored,
                                                          db::ValueEncoding encoding) {
  absl::StatusOr<DecodedValue> d = DecodeValue(*stored, encoding);
  if (!d.ok()) return d.status();
  std::optional<absl::Duration> ttl = d->ttl;
  stored->erase(0, d->header_size);
  return ttl;
}

}  // namespace asidekv::db
