// Estimates of the heap bytes held by the hash tables the cache keeps beside its entries
// (version records, ghost hashes, in-flight loads), so that they can be counted in the budget.
//
// The figure follows Abseil's SwissTable as we build it (one slot and one control byte per
// bucket, plus a group of cloned control bytes). It counts the block requested, not the
// allocator's per-block overhead (negligible for the few, large blocks of such tables).

#ifndef ASIDEKV_CACHE_MEMORY_COST_H_
#define ASIDEKV_CACHE_MEMORY_COST_H_

#include <cstddef>

namespace asidekv::cache {

// Bytes of an absl flat hash table of `bucket_count` buckets of `slot_size`-byte slots.
constexpr size_t FlatTableBytes(size_t bucket_count, size_t slot_size) {
  return bucket_count == 0 ? 0 : bucket_count * (slot_size + 1) + 16;
}

}  // namespace asidekv::cache

#endif  // ASIDEKV_CACHE_MEMORY_COST_H_
