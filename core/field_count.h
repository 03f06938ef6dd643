// FieldCount<T>(): the number of fields of an aggregate T, computed by the compiler.
//
// Tables that must name every field of a struct (Stats, Options) static_assert their length
// against it, so adding a field without a row fails to compile instead of drifting silently.
//
// How: T{a1, ..., aN} is well-formed for N up to the number of fields when each ai converts to
// anything; the largest such N is the count. Valid for aggregates whose fields are not arrays
// (an array field would be counted once per element under brace elision).

#ifndef ASIDEKV_CORE_FIELD_COUNT_H_
#define ASIDEKV_CORE_FIELD_COUNT_H_

#include <cstddef>
#include <type_traits>

namespace asidekv::core {
namespace field_count_internal {

// Converts to any type; never evaluated.
struct AnyField {
  template <typename T>
  operator T() const;  // NOLINT(google-explicit-constructor)
};

template <typename T, typename... Fields>
constexpr size_t Count() {
  if constexpr (requires { T{Fields{}..., AnyField{}}; }) {
    return Count<T, Fields..., AnyField>();
  } else {
    return sizeof...(Fields);
  }
}

}  // namespace field_count_internal

template <typename T>
constexpr size_t FieldCount() {
  static_assert(std::is_aggregate_v<T>, "FieldCount needs an aggregate");
  return field_count_internal::Count<T>();
}

}  // namespace asidekv::core

#endif  // ASIDEKV_CORE_FIELD_COUNT_H_
