// StatFields() and LatencyFields(): the one table of Stats' fields (asidekv/stats.h).
#include <array>

#include "asidekv/stats.h"
#include "core/field_count.h"

namespace asidekv {
namespace {

constexpr bool kCounter = true;
constexpr bool kGauge = false;

constexpr StatField kStatFields[] = {
    {"cache_hits", kCounter, "Gets answered from the cache.", &Stats::cache_hits},
    {"cache_misses", kCounter, "Gets the cache could not answer.", &Stats::cache_misses},
    {"db_reads", kCounter, "Keys read from the DB for misses and refreshes.", &Stats::db_reads},
    {"coalesced_waits", kCounter, "Misses that waited for another caller's read.",
     &Stats::coalesced_waits},
    {"evictions", kCounter, "Entries evicted to make room.", &Stats::evictions},
    {"expirations", kCounter, "Entries removed because their TTL ran out.", &Stats::expirations},
    {"stale_fills_rejected", kCounter, "Fills refused because a write began after their read.",
     &Stats::stale_fills_rejected},
    {"cache_entries", kGauge, "Entries in the cache.", &Stats::cache_entries},
    {"cache_bytes", kGauge, "Bytes charged to the cache.", &Stats::cache_bytes},
    {"cache_capacity_bytes", kGauge, "Cache budget in bytes.", &Stats::cache_capacity_bytes},
    {"puts", kCounter, "Put calls.", &Stats::puts},
    {"deletes", kCounter, "Delete calls.", &Stats::deletes},
    {"batches", kCounter, "Write(batch) calls.", &Stats::batches},
    {"write_errors", kCounter, "Write calls that failed in the DB.", &Stats::write_errors},
    {"cache_inserts", kCounter, "Entries put in the cache by fills and kUpdate writes.",
     &Stats::cache_inserts},
    {"cache_rejected_oversize", kCounter, "Entries too large for a cache shard.",
     &Stats::cache_rejected_oversize},
    {"refreshes", kCounter, "Refresh-ahead reloads started.", &Stats::refreshes},
    {"refreshes_dropped", kCounter, "Background reloads dropped because the queue was full.",
     &Stats::refreshes_dropped},
    {"early_expirations", kCounter, "Probabilistic early expirations drawn.",
     &Stats::early_expirations},
    {"warm_reads", kCounter, "Keys read from the DB by warming.", &Stats::warm_reads},
    {"warmed_keys", kCounter, "Entries put in the cache by warming.", &Stats::warmed_keys},
    {"audits", kCounter, "Sampled hits read again from the database (audit_fraction).",
     &Stats::audits},
    {"audit_mismatches", kCounter, "Audited hits whose value the database no longer held.",
     &Stats::audit_mismatches},
    {"audits_dropped", kCounter, "Hit samples dropped: too many waiting for their audit.",
     &Stats::audits_dropped},
    {"remote_hits", kCounter, "Cache misses answered by Redis.", &Stats::remote_hits},
    {"remote_leases_won", kCounter, "Redis leases won (the database was read).",
     &Stats::remote_leases_won},
    {"remote_lease_waits", kCounter, "Redis answers: another Store holds the lease.",
     &Stats::remote_lease_waits},
    {"remote_fills_rejected", kCounter, "Redis fills refused: a write deleted the lease.",
     &Stats::remote_fills_rejected},
    {"remote_errors", kCounter, "Redis calls failed or skipped while Redis was down.",
     &Stats::remote_errors},
    {"invalidations_received", kCounter, "Keys dropped by the invalidation channel.",
     &Stats::invalidations_received},
    {"coherence_flushes", kCounter, "Whole-cache flushes: invalidation channel lost or lapsed.",
     &Stats::coherence_flushes},
    {"heartbeat_lapses", kCounter, "Invalidation channel heartbeats that lapsed.",
     &Stats::heartbeat_lapses},
    {"cluster_topology_changes", kCounter,
     "Redis Cluster slot map changes followed (a flush each).", &Stats::cluster_topology_changes},
    {"owed_invalidations", kCounter, "Redis invalidations that failed after a commit.",
     &Stats::owed_invalidations},
    {"owed_keys", kGauge, "Keys whose Redis invalidation is still owed.", &Stats::owed_keys},
    {"relay_leader", kGauge, "1 while this Store runs the commit-log relay.", &Stats::relay_leader},
    {"relay_transactions", kCounter, "Committed transactions relayed from the commit log.",
     &Stats::relay_transactions},
    {"relay_invalidations", kCounter, "Keys the commit-log relay invalidated in Redis.",
     &Stats::relay_invalidations},
    {"relay_flushes", kCounter, "Redis tier flushes by the relay (slot lost, TRUNCATE, lag).",
     &Stats::relay_flushes},
};

constexpr LatencyField kLatencyFields[] = {
    {"get", &Stats::get_latency},
    {"put", &Stats::put_latency},
    {"delete", &Stats::delete_latency},
    {"relay_lag", &Stats::relay_lag},
};

static_assert(std::size(kStatFields) + std::size(kLatencyFields) == core::FieldCount<Stats>(),
              "every field of Stats needs a row in kStatFields or kLatencyFields");
static_assert(sizeof(Stats) == std::size(kStatFields) * sizeof(uint64_t) +
                                   std::size(kLatencyFields) * sizeof(LatencySummary),
              "Stats holds only uint64_t counters and LatencySummary fields");

}  // namespace

absl::Span<const StatField> StatFields() { return kStatFields; }
absl::Span<const LatencyField> LatencyFields() { return kLatencyFields; }

}  // namespace asidekv
