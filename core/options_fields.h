// OptionFields(): the one table of Options' fields, walked by every listing of a Store's options
// (the admin `config` command), so that none can forget a field: options_fields.cc does not
// compile when Options has a field without a row (core/field_count.h).
//
// Thread safety: the table is immutable.

#ifndef ASIDEKV_CORE_OPTIONS_FIELDS_H_
#define ASIDEKV_CORE_OPTIONS_FIELDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "asidekv/options.h"

namespace asidekv::core {

struct OptionField {
  // A field's value: numbers as such, enums as their names (e.g. "s3fifo"), strings as text.
  using Value = std::variant<bool, uint64_t, int64_t, double, std::string, absl::Duration>;

  std::string_view name;  // The field's name, e.g. "cache_capacity_bytes".
  Value (*get)(const Options&);
};

// Every field of Options, in declaration order.
absl::Span<const OptionField> OptionFields();

// Names of the enum values, as OptionFields() prints them.
std::string_view EvictionPolicyName(EvictionPolicy p);
std::string_view RefreshAheadName(RefreshAhead r);
std::string_view WritePolicyName(WritePolicy w);
std::string_view ConsistencyName(Consistency c);

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_OPTIONS_FIELDS_H_
