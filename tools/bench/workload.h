// The YCSB core workloads and the pre-generated operation sequences that drive them.
//
//   A  update heavy    read 50%, update 50%            zipfian
//   B  read mostly     read 95%, update 5%             zipfian
//   C  read only       read 100%                       zipfian
//   D  read latest     read 95%, insert 5%             latest
//   E  short ranges    scan 95% (1..100 keys), insert 5%  zipfian
//   F  read-modify-write  read 50%, read-modify-write 50%  zipfian
//
// Each thread's operations are generated up front (GenerateOps) from a seed derived from the
// run's seed, the workload and the thread number, so every backend replays exactly the same
// sequence and no random numbers are drawn while timing. An Op is 16 bytes.
//
// Inserts: thread t's j-th insert of a workload writes record insert_base + j * threads + t,
// so threads never insert the same record and the records loaded ([0, record_count)) are never
// overwritten by an insert. Reads, updates and scans draw from [0, record_count) except under
// the "latest" distribution, which favours the newest records the thread knows exist: those
// below insert_base and its own inserts (another thread's inserts may not have happened yet).
// Only a record below insert_base written by an earlier workload that stopped on time before
// reaching it can legitimately be "not found".
//
// Thread safety: the functions are pure; the specs are constants.

#ifndef ASIDEKV_TOOLS_BENCH_WORKLOAD_H_
#define ASIDEKV_TOOLS_BENCH_WORKLOAD_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "tools/bench/key_distribution.h"

namespace asidekv::bench {

enum class OpType : uint8_t { kRead, kUpdate, kInsert, kScan, kReadModifyWrite };
inline constexpr int kNumOpTypes = 5;
absl::string_view OpTypeName(OpType type);  // "read", "update", "insert", "scan", "rmw"

struct Op {
  uint64_t record;
  // kUpdate, kInsert, kReadModifyWrite: the version written. kScan: the number of keys.
  uint32_t arg;
  OpType type;
};
static_assert(sizeof(Op) == 16);

struct WorkloadSpec {
  char name;                  // 'A'..'F'
  absl::string_view summary;  // e.g. "read 50%, update 50%"
  // Proportions of each OpType, indexed by OpType; they sum to 1.
  std::array<double, kNumOpTypes> mix;
  Distribution distribution;  // YCSB's request distribution for this workload
  uint32_t max_scan_length;   // Scans read 1..max_scan_length keys, uniformly.
};

// The spec of workload A..F (case-insensitive), or nullopt.
std::optional<WorkloadSpec> FindWorkload(char name);

struct GenerateParams {
  uint64_t record_count = 0;  // Records loaded: [0, record_count). REQUIRES: >= 1.
  uint64_t insert_base = 0;   // First record number this workload's inserts may use.
  int threads = 1;
  int thread_index = 0;
  uint64_t op_count = 0;  // Operations to generate for this thread.
  uint64_t seed = 0;
  DistributionParams distribution;  // The request distribution actually used.
  // Zeta(record_count, theta), computed once for all threads (optional).
  std::optional<double> zeta_n;
  // Warm-up sequences: an insert becomes an update of a chosen record, so the warm-up neither
  // uses record numbers of the measured inserts nor reads records that do not exist.
  bool inserts_as_updates = false;
};

// This thread's operations, in order.
std::vector<Op> GenerateOps(const WorkloadSpec& spec, const GenerateParams& params);

// Upper bound (exclusive) of the record numbers the inserts of a workload generated with
// `op_count` operations per thread may use, so the next workload can start its inserts there.
uint64_t InsertEnd(const WorkloadSpec& spec, uint64_t insert_base, int threads, uint64_t op_count);

// Version numbers written by thread `thread_index`: distinct across threads and writes, never 0
// (version 0 is the load phase's).
inline uint32_t WriteVersion(uint64_t write_index, int threads, int thread_index) {
  return static_cast<uint32_t>(1 + write_index * static_cast<uint64_t>(threads) +
                               static_cast<uint64_t>(thread_index));
}

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_WORKLOAD_H_
