#include "cache/eviction_policy.h"

#include "cache/entry.h"
#include "cache/lru_policy.h"
#include "cache/s3fifo_policy.h"
#include "cache/shard.h"
#include "cache/wtinylfu_policy.h"

namespace asidekv::cache {
namespace {

uint64_t EntryKeyHash(PolicyNode* node) { return HashKey(Entry::FromNode(node)->key()); }

}  // namespace

std::unique_ptr<EvictionPolicy> NewEvictionPolicy(PolicyKind kind) {
  return NewEvictionPolicy(kind, &EntryKeyHash);
}

std::unique_ptr<EvictionPolicy> NewEvictionPolicy(PolicyKind kind, NodeHashFn node_hash) {
  switch (kind) {
    case PolicyKind::kLru:
      return std::make_unique<LruPolicy>();
    case PolicyKind::kWTinyLfu:
      return std::make_unique<WTinyLfuPolicy>(node_hash);
    case PolicyKind::kAdaptiveS3Fifo:
      return std::make_unique<AdaptiveS3FifoPolicy>(node_hash);
    case PolicyKind::kS3Fifo:
      break;
  }
  return std::make_unique<S3FifoPolicy>(node_hash);
}

}  // namespace asidekv::cache
