#include "tools/bench/ycsb_nodes.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tools/bench/aside_backend.h"
#include "tools/bench/node_wire.h"
#include "tools/bench/postgres_backend.h"
#include "tools/bench/redis_aside_backend.h"
#include "tools/bench/runner.h"

namespace asidekv::bench {
namespace {

// The message kinds (see the protocol in ycsb_nodes.h).
constexpr char kOpen = 'O';
constexpr char kPhase = 'P';
constexpr char kGo = 'G';
constexpr char kClose = 'C';
constexpr char kOk = 'K';
constexpr char kError = 'E';
constexpr char kResult = 'R';

std::string Message(char kind, std::string payload = "") { return std::string(1, kind) + payload; }

absl::Status SendError(const Link& link, const std::string& what) {
  WireWriter w;
  w.String(what);
  return link.Send(Message(kError, w.Take()));
}

// --- Node side -------------------------------------------------------------------------------

// Serves one backend over `table` until the parent closes it ('C') or the link fails.
template <typename Backend>
void ServeBackend(const YcsbConfig& config, const std::vector<WorkloadPlan>& plans,
                  const RecordCodec& codec, int node, const std::string& table, Link& link) {
  BackendOptions options = MakeBackendOptions(config, "");
  options.existing_table = table;
  absl::StatusOr<std::unique_ptr<Backend>> opened = Backend::Open(options);
  if (!opened.ok()) {
    SendError(link, absl::StrCat("open: ", opened.status().ToString())).IgnoreError();
    return;
  }
  WireWriter description;
  description.Pairs((*opened)->Describe());
  if (!link.Send(Message(kOk, description.Take())).ok()) return;
  ProgressLine silent(false);
  for (;;) {
    absl::StatusOr<std::string> m = link.Receive();
    if (!m.ok() || m->empty()) return;
    if ((*m)[0] == kClose) {
      opened->reset();
      link.Send(Message(kOk)).IgnoreError();
      return;
    }
    WireReader in(std::string_view(*m).substr(1));
    uint64_t kind = 0;
    uint64_t workload = 0;
    if ((*m)[0] != kPhase || !in.U64(&kind) || kind > 2 || !in.U64(&workload) ||
        workload >= plans.size()) {
      SendError(link, "unexpected request").IgnoreError();
      return;
    }
    StepPlan step;
    PlanStep(config, codec, static_cast<StepKind>(kind), plans[workload], node, &step);
    step.phase.label = absl::StrCat("node ", node);
    step.phase.progress = &silent;
    if (!link.Send(Message(kOk)).ok()) return;  // Ready.
    absl::StatusOr<std::string> go = link.Receive();
    if (!go.ok()) return;
    if (*go != Message(kGo)) {  // The parent gave up on this phase: close, as asked.
      opened->reset();
      if (*go == Message(kClose)) link.Send(Message(kOk)).IgnoreError();
      return;
    }
    const PhaseOutcome outcome = RunCountedPhase(**opened, step.phase);
    WireWriter out;
    EncodeOutcome(outcome, out);
    if (!link.Send(Message(kResult, out.Take())).ok()) return;
  }
}

// --- Parent side -----------------------------------------------------------------------------

// Loads a fresh table through `Backend` (kept: the nodes use it); its name.
template <typename Backend>
absl::StatusOr<std::string> LoadSharedTable(const YcsbConfig& config, const RecordCodec& codec,
                                            ProgressLine& progress, BackendRun& run) {
  BackendOptions options = MakeBackendOptions(config, "");
  options.keep_tables = true;
  absl::StatusOr<std::unique_ptr<Backend>> opened = Backend::Open(options);
  if (!opened.ok()) {
    run.error = absl::StrCat("open: ", opened.status().ToString());
    return opened.status();
  }
  const std::string table = (*opened)->table();
  if (!LoadBackend(**opened, config, codec, progress, run)) {
    opened->reset();
    DropPostgresTable(config.postgres, table).IgnoreError();
    return absl::InternalError(run.error);
  }
  return table;
}

// A reply of `kind` from `node`, or the error it sent or met.
absl::StatusOr<std::string> Expect(Fleet& fleet, int node, char kind) {
  absl::StatusOr<std::string> m = fleet.Receive(node);
  if (!m.ok()) return m.status();
  if (!m->empty() && (*m)[0] == kind) return m->substr(1);
  std::string what = "unexpected reply";
  if (!m->empty() && (*m)[0] == kError) {
    WireReader in(std::string_view(*m).substr(1));
    if (!in.String(&what)) what = "malformed error";
  }
  return absl::InternalError(absl::StrCat("node ", node, ": ", what));
}

// Sum of the counters where every node has them.
std::optional<uint64_t> Sum(std::optional<uint64_t> a, std::optional<uint64_t> b) {
  if (!a.has_value() || !b.has_value()) return std::nullopt;
  return *a + *b;
}

// The nodes' outcomes as one: everything added; `seconds` such that the rate is the sum of the
// nodes' rates.
PhaseOutcome MergeOutcomes(const std::vector<PhaseOutcome>& outcomes) {
  PhaseOutcome merged = outcomes.front();
  double rate = outcomes.front().result.OpsPerSecond();
  for (size_t i = 1; i < outcomes.size(); ++i) {
    const PhaseOutcome& o = outcomes[i];
    AddPhase(o.result, merged.result);
    rate += o.result.OpsPerSecond();
    CacheCounters& c = merged.counters;
    c.hits = Sum(c.hits, o.counters.hits);
    c.misses = Sum(c.misses, o.counters.misses);
    c.db_reads = Sum(c.db_reads, o.counters.db_reads);
    c.remote_hits = Sum(c.remote_hits, o.counters.remote_hits);
    for (size_t k = 0; k < merged.backend_counters.size() && k < o.backend_counters.size(); ++k) {
      merged.backend_counters[k].second += o.backend_counters[k].second;
    }
  }
  merged.result.seconds = rate > 0 ? static_cast<double>(merged.result.ops) / rate : 0;
  return merged;
}

// Runs one phase on every node together.
absl::StatusOr<std::vector<PhaseOutcome>> RunStep(Fleet& fleet, StepKind kind, size_t workload) {
  WireWriter w;
  w.U64(static_cast<uint64_t>(kind));
  w.U64(workload);
  absl::Status s = fleet.SendAll(Message(kPhase, w.Take()));
  if (!s.ok()) return s;
  // The start barrier: every node has generated its operations.
  for (int node = 0; node < fleet.size(); ++node) {
    absl::StatusOr<std::string> ready = Expect(fleet, node, kOk);
    if (!ready.ok()) return ready.status();
  }
  s = fleet.SendAll(Message(kGo));
  if (!s.ok()) return s;
  std::vector<PhaseOutcome> outcomes(static_cast<size_t>(fleet.size()));
  for (int node = 0; node < fleet.size(); ++node) {
    absl::StatusOr<std::string> result = Expect(fleet, node, kResult);
    if (!result.ok()) return result.status();
    WireReader in(*result);
    if (!DecodeOutcome(in, &outcomes[static_cast<size_t>(node)]) || !in.done()) {
      return absl::DataLossError(absl::StrCat("node ", node, ": malformed result"));
    }
  }
  return outcomes;
}

// Every phase of `plans` on the nodes, which have the backend open.
absl::Status RunSteps(const YcsbConfig& config, const std::vector<WorkloadPlan>& plans,
                      Fleet& fleet, BackendRun& run) {
  if (config.prewarm) {
    absl::StatusOr<std::vector<PhaseOutcome>> prewarm = RunStep(fleet, StepKind::kPrewarm, 0);
    if (!prewarm.ok()) return prewarm.status();
    run.prewarm = MergeOutcomes(*prewarm).result;
  }
  for (size_t w = 0; w < plans.size(); ++w) {
    WorkloadRun result;
    result.workload = plans[w].spec.name;
    if (config.warmup > absl::ZeroDuration()) {
      absl::StatusOr<std::vector<PhaseOutcome>> warmup = RunStep(fleet, StepKind::kWarmup, w);
      if (!warmup.ok()) return warmup.status();
      result.warmup = MergeOutcomes(*warmup).result;
    }
    absl::StatusOr<std::vector<PhaseOutcome>> measured = RunStep(fleet, StepKind::kMeasured, w);
    if (!measured.ok()) return measured.status();
    for (const PhaseOutcome& outcome : *measured) {
      WorkloadRun own;
      RecordMeasured(outcome, own);
      result.nodes.push_back(NodeFigures{own.measured.ops, own.measured.seconds, own.hit_ratio,
                                         own.remote_hit_ratio, own.db_reads});
    }
    RecordMeasured(MergeOutcomes(*measured), result);
    run.workloads.push_back(std::move(result));
  }
  return absl::OkStatus();
}

// Opens the backend on every node over `table`, runs every phase, closes it on every node that
// opened it.
absl::Status RunOnNodes(const YcsbConfig& config, const std::vector<WorkloadPlan>& plans,
                        Fleet& fleet, const std::string& table, BackendRun& run) {
  WireWriter w;
  w.String(run.backend);
  w.String(table);
  const std::string open = Message(kOpen, w.Take());
  absl::Status first_error;
  std::vector<int> opened;
  for (int node = 0; node < fleet.size(); ++node) {
    absl::Status s = fleet.Send(node, open);
    absl::StatusOr<std::string> reply = s.ok() ? Expect(fleet, node, kOk) : s;
    if (!reply.ok()) {
      if (first_error.ok()) first_error = reply.status();
      continue;
    }
    opened.push_back(node);
    if (node == 0) {
      WireReader in(*reply);
      if (!in.Pairs(&run.description)) first_error = absl::DataLossError("malformed description");
    }
  }
  bool in_step = false;
  if (first_error.ok()) {
    first_error = RunSteps(config, plans, fleet, run);
    in_step = !first_error.ok();
  }
  for (int node : opened) {
    absl::Status s = fleet.Send(node, Message(kClose));
    if (s.ok()) s = Expect(fleet, node, kOk).status();
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  // A failure inside a phase may leave replies unread: talk to these nodes no more.
  if (in_step) fleet.Abandon();
  return first_error;
}

}  // namespace

int RunNode(const YcsbConfig& config, const std::vector<WorkloadPlan>& plans,
            const RecordCodec& codec, int node, Link& link) {
  for (;;) {
    absl::StatusOr<std::string> m = link.Receive();
    if (!m.ok()) return 0;  // The parent is done.
    WireReader in(std::string_view(*m).substr(m->empty() ? 0 : 1));
    std::string name;
    std::string table;
    if (m->empty() || (*m)[0] != kOpen || !in.String(&name) || !in.String(&table)) {
      SendError(link, "expected a backend to open").IgnoreError();
      return 1;
    }
    if (name == AsidePostgresBackend::kName) {
      ServeBackend<AsidePostgresBackend>(config, plans, codec, node, table, link);
    } else if (name == PostgresBackend::kName) {
      ServeBackend<PostgresBackend>(config, plans, codec, node, table, link);
    } else if (name == RedisAsideBackend::kName) {
      ServeBackend<RedisAsideBackend>(config, plans, codec, node, table, link);
    } else {
      SendError(link, absl::StrCat("backend ", name, " cannot run on nodes")).IgnoreError();
    }
  }
}

BackendRun RunFleetBackend(const std::string& name, const YcsbConfig& config,
                           const std::vector<WorkloadPlan>& plans, const RecordCodec& codec,
                           Fleet& fleet, ProgressLine& progress) {
  BackendRun run;
  run.backend = name;
  absl::StatusOr<std::string> table =
      absl::InvalidArgumentError(absl::StrCat("backend ", name,
                                              " cannot run on nodes (aside-postgres, postgres, "
                                              "redis-aside can)"));
  if (name == AsidePostgresBackend::kName) {
    table = LoadSharedTable<AsidePostgresBackend>(config, codec, progress, run);
  } else if (name == PostgresBackend::kName) {
    table = LoadSharedTable<PostgresBackend>(config, codec, progress, run);
  } else if (name == RedisAsideBackend::kName) {
    table = LoadSharedTable<RedisAsideBackend>(config, codec, progress, run);
  }
  if (!table.ok()) {
    if (run.error.empty()) run.error = std::string(table.status().message());
    return run;
  }
  absl::Status s = RunOnNodes(config, plans, fleet, *table, run);
  if (!s.ok()) run.error = s.ToString();
  if (!config.keep_db) DropPostgresTable(config.postgres, *table).IgnoreError();
  return run;
}

}  // namespace asidekv::bench
