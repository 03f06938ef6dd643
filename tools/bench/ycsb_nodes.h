// `asidekv-bench ycsb --nodes=N`: each shared backend (aside-postgres, postgres, redis-aside) run
// by N processes at once over one table and one Redis, as N instances of a service would.
//
// The parent forks the N nodes first (Fleet::Start, before any thread exists). Per backend and
// round, it loads a fresh table itself (through that backend, then closes it); every node then
// opens the backend over that table (BackendOptions::existing_table; Redis keys under the
// table's name, so nothing is left from another backend or round) and, for each phase (prewarm,
// each workload's warm-up and measured phase), generates its threads' operations, reports
// ready, and starts when the parent has heard from all (the start barrier); then it sends its
// PhaseOutcome. The parent merges them (operations, latency histograms and counters added, the
// rate the sum of the nodes' rates), keeps each node's own figures, has every node close the
// backend (each node's cache goes with it) and drops the table (unless --keep-db).
//
// Protocol (one message each, over the node's socket; see fleet.h, node_wire.h):
//   parent -> node   'O' name table | 'P' kind workload | 'G' | 'C'
//   node -> parent   'K' [description after 'O'] | 'E' message | 'R' PhaseOutcome
// A node answers 'O' with 'K' or 'E'; 'P' with 'K' (ready), then 'G' with 'R'; 'C' with 'K'.
// It exits when its socket closes.
//
// Thread safety: one thread of the parent calls RunFleetBackend; RunNode is a node's main.

#ifndef ASIDEKV_TOOLS_BENCH_YCSB_NODES_H_
#define ASIDEKV_TOOLS_BENCH_YCSB_NODES_H_

#include <string>
#include <vector>

#include "tools/bench/fleet.h"
#include "tools/bench/progress.h"
#include "tools/bench/records.h"
#include "tools/bench/results.h"
#include "tools/bench/ycsb_config.h"
#include "tools/bench/ycsb_steps.h"

namespace asidekv::bench {

// A node's main: serves the parent's requests on `link` until it closes; the exit code.
int RunNode(const YcsbConfig& config, const std::vector<WorkloadPlan>& plans,
            const RecordCodec& codec, int node, Link& link);

// Runs backend `name` (IsSharedBackend) once on every node of `fleet`, as described above.
// Failures are in the result's `error`.
BackendRun RunFleetBackend(const std::string& name, const YcsbConfig& config,
                           const std::vector<WorkloadPlan>& plans, const RecordCodec& codec,
                           Fleet& fleet, ProgressLine& progress);

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_YCSB_NODES_H_
