#include "tests/distributed/history_checker.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/string_view.h"

namespace asidekv::distributed {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::min();    // The initial state's times.
constexpr int64_t kUnknown = std::numeric_limits<int64_t>::max();  // A failed write's end.
constexpr int kDatabaseProcess = -1;  // The synthetic final read of the database's content.

// One state of a key's register: a write of the key, or the initial state (op == nullptr).
struct State {
  const Operation* op = nullptr;
  std::optional<std::string> value;  // nullopt: absent.
  int64_t invoke = kNever;
  int64_t end = kNever;  // complete_nanos if OK; if failed, the first read of it, else kUnknown.
  bool indeterminate = false;  // Failed (or its writer crashed): end is a read's, if any.
};

// Certain writes of one process, by completion time, with the latest-invoked one so far.
struct Completed {
  int64_t complete;
  int64_t max_invoke;   // Over this entry and every earlier one.
  const State* latest;  // The write with that invoke time.
};

// The writes of one process in KeyChecker::completed_: those that returned OK, or the
// indeterminate ones that some read returned (the writer's own reads are not exempt from the
// bound for those).
using WriterKey = std::pair<int, bool>;  // (process, indeterminate)

struct KeyHistory {
  std::vector<State> states;  // states[0] is the initial state.
  std::vector<const Operation*> reads;
};

class KeyChecker {
 public:
  KeyChecker(const std::string& key, KeyHistory& h, const CheckOptions& options, int64_t origin,
             CheckResult* result)
      : key_(key), h_(h), options_(options), origin_(origin), result_(result) {
    for (State& s : h_.states) {
      if (s.op == nullptr) continue;
      if (s.value.has_value()) {
        auto [it, fresh] = by_value_.emplace(*s.value, &s);
        if (!fresh) {
          Flag(ViolationKind::kDuplicateValue,
               absl::StrCat(Describe(*it->second->op, origin_), " and ", Describe(*s.op, origin_),
                            " wrote the same value"));
        }
      } else {
        deletes_.push_back(&s);
      }
    }
    // An indeterminate write that a read returned happened before that read returned.
    for (const Operation* r : h_.reads) {
      if (!r->status.ok() || !r->keys[0].value.has_value()) continue;
      auto it = by_value_.find(*r->keys[0].value);
      if (it == by_value_.end() || !it->second->indeterminate) continue;
      State& w = *it->second;
      if (r->complete_nanos >= w.invoke) w.end = std::min(w.end, r->complete_nanos);
    }
    for (const State& s : h_.states) {
      if (s.op == nullptr || s.end == kUnknown) continue;
      completed_[{s.op->process, s.indeterminate}].push_back({s.end, 0, &s});
      by_invoke_.emplace_back(s.invoke, s.end);
    }
    // by_invoke_[i].second becomes the earliest completion among writes i.. (by invoke time).
    std::sort(by_invoke_.begin(), by_invoke_.end());
    for (size_t i = by_invoke_.size(); i-- > 1;) {
      by_invoke_[i - 1].second = std::min(by_invoke_[i - 1].second, by_invoke_[i].second);
    }
    for (auto& [process, list] : completed_) {
      std::sort(list.begin(), list.end(),
                [](const Completed& a, const Completed& b) { return a.complete < b.complete; });
      const State* latest = nullptr;
      for (Completed& c : list) {
        if (latest == nullptr || c.latest->invoke > latest->invoke) latest = c.latest;
        c.max_invoke = latest->invoke;
        c.latest = latest;
      }
    }
  }

  void CheckRead(const Operation& r) {
    const std::optional<std::string>& value = r.keys[0].value;
    const bool measured = r.process != kDatabaseProcess;
    const State* missed = LatestCertainBefore(r);
    const int64_t floor = missed == nullptr ? kNever : missed->invoke;
    if (value.has_value()) {
      auto it = by_value_.find(*value);
      if (it == by_value_.end()) {
        Flag(ViolationKind::kUnwrittenValue,
             absl::StrCat(Describe(r, origin_), " returned a value no write of ", key_,
                          " wrote (or one its own batch overwrote)"));
        return;
      }
      const State& w = *it->second;
      if (w.invoke > r.complete_nanos) {
        Flag(ViolationKind::kFutureValue,
             absl::StrCat(Describe(r, origin_),
                          " returned the value of a later write: ", Describe(*w.op, origin_)));
        return;
      }
      if (measured) result_->staleness_nanos.push_back(Staleness(r, w.end));
      if (floor > w.end) ReportStale(r, Describe(*w.op, origin_), *missed);
      return;
    }
    // Absent: the initial state or a delete invoked before the read returned, whichever ended
    // last, must not be certainly followed by a write the read should have seen.
    const State* best = &h_.states[0];
    for (const State* d : deletes_) {
      if (d->invoke <= r.complete_nanos && d->end > best->end) best = d;
    }
    if (measured) result_->staleness_nanos.push_back(Staleness(r, best->end));
    if (floor > best->end) {
      ReportStale(r,
                  best->op == nullptr ? std::string("the initial state (absent)")
                                      : Describe(*best->op, origin_),
                  *missed);
    }
  }

 private:
  // Among the writes that returned OK at least the bound before `r` began, the one invoked last
  // (nullptr when none did).
  const State* LatestCertainBefore(const Operation& r) const {
    const State* latest = nullptr;
    for (const auto& [writer, list] : completed_) {
      const auto& [process, indeterminate] = writer;
      const int64_t bound = BoundFor(r.process, process, indeterminate);
      int64_t limit;
      if (__builtin_sub_overflow(r.invoke_nanos, bound, &limit)) continue;  // Nothing that old.
      auto it = std::upper_bound(list.begin(), list.end(), limit,
                                 [](int64_t t, const Completed& c) { return t < c.complete; });
      if (it == list.begin()) continue;
      const Completed& c = *std::prev(it);
      if (latest == nullptr || c.max_invoke > latest->invoke) latest = c.latest;
    }
    return latest;
  }

  // How long before `r` began a state that ended at `end` was certainly superseded: r's invoke
  // minus the earliest completion of a write invoked after `end`, or 0.
  int64_t Staleness(const Operation& r, int64_t end) const {
    if (end == kUnknown) return 0;
    auto it = std::upper_bound(
        by_invoke_.begin(), by_invoke_.end(), end,
        [](int64_t t, const std::pair<int64_t, int64_t>& w) { return t < w.first; });
    if (it == by_invoke_.end() || it->second >= r.invoke_nanos) return 0;
    return r.invoke_nanos - it->second;
  }

  // How long a read by `reader` may miss a write by `writer`: an OK one (0 for the writer's
  // own reads), or an indeterminate one from the first read of it.
  int64_t BoundFor(int reader, int writer, bool indeterminate) const {
    auto at = [](const std::vector<absl::Duration>& v, int p) {
      return p < 0 || static_cast<size_t>(p) >= v.size() ? absl::ZeroDuration()
                                                         : v[static_cast<size_t>(p)];
    };
    if (reader == writer && !indeterminate) return 0;
    absl::Duration bound = std::max(at(options_.bound, reader), at(options_.writer_slack, writer));
    if (indeterminate) bound = std::max(bound, at(options_.indeterminate_slack, writer));
    return absl::ToInt64Nanoseconds(bound);
  }

  void ReportStale(const Operation& r, const std::string& read_state, const State& missed) {
    const int64_t bound = BoundFor(r.process, missed.op->process, missed.indeterminate);
    Flag(ViolationKind::kStaleRead,
         absl::StrFormat("%s is stale: it read the state of %s, but %s %s %.3f ms before "
                         "the read began (bound %.3f ms) and began after that state was written",
                         Describe(r, origin_), read_state, Describe(*missed.op, origin_),
                         missed.indeterminate ? "was first read" : "returned",
                         (r.invoke_nanos - missed.end) / 1e6, bound / 1e6));
  }

  void Flag(ViolationKind kind, std::string message) {
    result_->violations.push_back(
        {kind, key_, absl::StrCat("key ", key_, ": ", message, "; seed ", options_.seed)});
  }

  const std::string& key_;
  KeyHistory& h_;
  const CheckOptions& options_;
  const int64_t origin_;
  CheckResult* const result_;
  absl::flat_hash_map<std::string, State*> by_value_;
  std::vector<const State*> deletes_;
  std::map<WriterKey, std::vector<Completed>> completed_;
  // Every write with an end (OK, or indeterminate and read) as (invoke, earliest end among it
  // and the writes invoked after it), by invoke time.
  std::vector<std::pair<int64_t, int64_t>> by_invoke_;
};

std::string_view KindName(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::kUnwrittenValue:
      return "unwritten value";
    case ViolationKind::kFutureValue:
      return "value from the future";
    case ViolationKind::kStaleRead:
      return "stale read";
    case ViolationKind::kFinalReadFailed:
      return "final read failed";
    case ViolationKind::kMissingFinalRead:
      return "missing final read";
    case ViolationKind::kFinalDisagreement:
      return "final disagreement";
    case ViolationKind::kDuplicateValue:
      return "duplicate value";
  }
  return "?";
}

// Agreement after quiescence: every process read every key, and all read the same state.
void CheckFinalReads(const std::map<std::string, KeyHistory>& keys, const std::set<int>& processes,
                     const CheckOptions& options, int64_t origin, CheckResult* result) {
  for (const auto& [key, h] : keys) {
    std::set<int> seen;
    const Operation* first = nullptr;
    std::string disagreement;
    for (const Operation* r : h.reads) {
      if (r->kind != OpKind::kFinalRead) continue;
      seen.insert(r->process);
      if (!r->status.ok()) {
        result->violations.push_back(
            {ViolationKind::kFinalReadFailed, key,
             absl::StrCat("key ", key, ": ", Describe(*r, origin), "; seed ", options.seed)});
        continue;
      }
      if (first == nullptr) {
        first = r;
      } else if (r->keys[0].value != first->keys[0].value) {
        absl::StrAppend(&disagreement, "; ", Describe(*r, origin));
      }
    }
    if (!disagreement.empty()) {
      result->violations.push_back(
          {ViolationKind::kFinalDisagreement, key,
           absl::StrCat("key ", key, ": final reads disagree: ", Describe(*first, origin),
                        disagreement, " (process -1 is the database); seed ", options.seed)});
    }
    for (int p : processes) {
      if (!seen.contains(p) &&
          std::find(options.crashed.begin(), options.crashed.end(), p) == options.crashed.end()) {
        result->violations.push_back({ViolationKind::kMissingFinalRead, key,
                                      absl::StrCat("key ", key, ": process ", p,
                                                   " made no final read; seed ", options.seed)});
      }
    }
  }
}

}  // namespace

bool CheckResult::Has(ViolationKind kind) const {
  return std::any_of(violations.begin(), violations.end(),
                     [kind](const Violation& v) { return v.kind == kind; });
}

double CheckResult::ConsistentWithin(absl::Duration t) const {
  if (staleness_nanos.empty()) return 1;
  const int64_t limit = absl::ToInt64Nanoseconds(t);
  const auto end = std::upper_bound(staleness_nanos.begin(), staleness_nanos.end(), limit);
  return static_cast<double>(end - staleness_nanos.begin()) /
         static_cast<double>(staleness_nanos.size());
}

std::string CheckResult::ConsistencyReport() const {
  const size_t n = staleness_nanos.size();
  std::string out = absl::StrCat("consistency of ", n, " reads:");
  const std::pair<std::string, absl::Duration> within[] = {
      {"0", absl::ZeroDuration()},
      {absl::StrCat("delta ", absl::FormatDuration(delta)), delta},
      {absl::StrCat("10 delta ", absl::FormatDuration(10 * delta)), 10 * delta},
      {"1s", absl::Seconds(1)}};
  for (const auto& [name, t] : within) {
    const double fraction = ConsistentWithin(t);
    const auto inconsistent =
        static_cast<size_t>(std::llround((1 - fraction) * static_cast<double>(n)));
    if (inconsistent == 0) {
      // All of them: at least log10(n) nines.
      absl::StrAppend(&out, " within ", name, ": all (>= ",
                      absl::StrFormat("%.1f", n == 0 ? 0.0 : std::log10(static_cast<double>(n))),
                      " nines);");
    } else {
      absl::StrAppend(&out, " within ", name, ": ", inconsistent, " not (",
                      absl::StrFormat("%.2f", -std::log10(1 - fraction)), " nines);");
    }
  }
  const int64_t edges[] = {0, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000};
  const char* names[] = {"0", "<=1ms", "<=10ms", "<=100ms", "<=1s", ">1s"};
  size_t counts[6] = {};
  for (int64_t s : staleness_nanos) {
    size_t b = 0;
    while (b < 5 && s > edges[b]) ++b;
    ++counts[b];
  }
  absl::StrAppend(&out, " staleness");
  for (size_t b = 0; b < 6; ++b) absl::StrAppend(&out, " ", names[b], ":", counts[b]);
  return out;
}

std::string CheckResult::Report(size_t max) const {
  std::string out = absl::StrCat(reads, " reads (", failed_reads, " failed), ", writes, " writes (",
                                 failed_writes, " failed), ", violations.size(), " violations\n  ",
                                 ConsistencyReport());
  if (!first_failure.empty()) absl::StrAppend(&out, "\n  first failed call: ", first_failure);
  for (size_t i = 0; i < violations.size() && i < max; ++i) {
    absl::StrAppend(&out, "\n  ", util::ToAbsl(KindName(violations[i].kind)), ": ",
                    violations[i].message);
  }
  if (violations.size() > max) absl::StrAppend(&out, "\n  ...");
  return out;
}

CheckResult CheckHistory(absl::Span<const Operation> history, const CheckOptions& options) {
  CheckResult result;
  int64_t origin = std::numeric_limits<int64_t>::max();
  int64_t end = kNever;
  bool final_reads = false;
  std::set<int> processes;
  std::map<std::string, KeyHistory> keys;
  auto key_history = [&keys](const std::string& key) -> KeyHistory& {
    KeyHistory& h = keys[key];
    if (h.states.empty()) h.states.push_back(State{});
    return h;
  };
  for (const Operation& op : history) {
    origin = std::min(origin, op.invoke_nanos);
    end = std::max(end, op.complete_nanos);
    processes.insert(op.process);
    final_reads |= op.kind == OpKind::kFinalRead;
  }
  for (const Operation& op : history) {
    if (!op.status.ok() && result.first_failure.empty()) {
      result.first_failure = absl::StrCat(util::ToAbsl(OpKindName(op.kind)), " by process ",
                                          op.process, ": ", op.status.ToString());
    }
    if (IsWrite(op.kind)) {
      // The last entry of each key wins within the operation.
      for (size_t i = 0; i < op.keys.size(); ++i) {
        bool overwritten = false;
        for (size_t j = i + 1; j < op.keys.size(); ++j) {
          overwritten |= op.keys[j].key == op.keys[i].key;
        }
        if (overwritten) continue;
        ++(op.status.ok() ? result.writes : result.failed_writes);
        key_history(op.keys[i].key)
            .states.push_back({&op, op.keys[i].value, op.invoke_nanos,
                               op.status.ok() ? op.complete_nanos : kUnknown, !op.status.ok()});
      }
    } else if (op.keys.size() == 1) {
      ++result.reads;
      if (!op.status.ok()) ++result.failed_reads;
      key_history(op.keys[0].key).reads.push_back(&op);
    }
  }
  // The database's content, as final reads after everything, by a process with no slack.
  std::vector<Operation> database_reads;
  if (options.database.has_value()) {
    for (const auto& [key, value] : *options.database) key_history(key);
    for (const auto& [key, h] : keys) {
      Operation r;
      r.process = kDatabaseProcess;
      r.kind = OpKind::kFinalRead;
      r.invoke_nanos = r.complete_nanos = end + 1;
      auto it = options.database->find(key);
      r.keys.push_back({key, it == options.database->end()
                                 ? std::nullopt
                                 : std::optional<std::string>(it->second)});
      database_reads.push_back(std::move(r));
    }
  }
  for (const Operation& r : database_reads) {
    ++result.reads;
    keys[r.keys[0].key].reads.push_back(&r);
  }
  for (auto& [key, h] : keys) {
    KeyChecker checker(key, h, options, origin, &result);
    for (const Operation* r : h.reads) {
      if (r->status.ok()) checker.CheckRead(*r);
    }
  }
  if (final_reads) CheckFinalReads(keys, processes, options, origin, &result);
  std::sort(result.staleness_nanos.begin(), result.staleness_nanos.end());
  result.delta = options.delta;
  if (result.delta == absl::ZeroDuration()) {
    for (absl::Duration b : options.bound) result.delta = std::max(result.delta, b);
  }
  return result;
}

}  // namespace asidekv::distributed
