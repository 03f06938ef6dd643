#include "tools/trace/folder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/trace/reference.h"
#include "tools/trace/replay.h"

namespace asidekv::trace {
namespace {

struct PolicyTotals {
  int cells = 0;
  int passed = 0;
  int gap_cells = 0;
  double gap_sum = 0;
};

absl::StatusOr<std::vector<std::string>> TraceFiles(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, ".keys") || absl::EndsWith(name, ".keys.gz")) files.push_back(name);
  }
  if (ec) return absl::NotFoundError(absl::StrCat(dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

ReferenceTable ReadReference(const std::string& dir) {
  std::ifstream in(dir + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  return ParseReferenceTable(text.str());
}

}  // namespace

absl::Status RunTraceFolder(const std::string& dir, std::ostream& out) {
  absl::StatusOr<std::vector<std::string>> files = TraceFiles(dir);
  if (!files.ok()) return files.status();
  const ReferenceTable reference = ReadReference(dir);
  const std::vector<std::string_view>& policies = PolicyNames();

  out << "| trace | size | objects |";
  for (std::string_view p : policies) out << " " << p << " |";
  out << " reference best | default passes |\n|---|---:|---:|";
  for (size_t i = 0; i < policies.size(); ++i) out << "---:|";
  out << "---|---|\n";

  std::map<std::string_view, PolicyTotals> totals;
  std::vector<std::pair<std::string, Trace>> sized;
  for (const std::string& file : *files) {
    absl::StatusOr<Trace> trace = ReadTrace(dir + "/" + file);
    if (!trace.ok()) return trace.status();
    const ReferenceRows* rows = reference.Find(file);
    for (size_t column = 0; column < kReferencePercents.size(); ++column) {
      const double percent = kReferencePercents[column];
      const uint64_t capacity = PercentOf(percent, trace->unique_keys());
      out << absl::StrFormat("| %s | %g%% | %d |", file, percent, capacity);
      CellScore default_score;
      for (std::string_view policy : policies) {
        absl::StatusOr<ReplayResult> r = ReplayPolicy(*trace, policy, capacity);
        if (!r.ok()) return r.status();
        const double hit_ratio = r->HitRatioPercent();
        bool pass = true;
        if (rows != nullptr) {
          const CellScore score = ScoreCell(*rows, static_cast<int>(column), hit_ratio);
          if (policy == "default") default_score = score;
          if (policy != "opt") {
            PolicyTotals& t = totals[policy];
            ++t.cells;
            t.passed += score.pass ? 1 : 0;
            if (score.gap_closed.has_value()) {
              ++t.gap_cells;
              t.gap_sum += *score.gap_closed;
            }
            pass = score.pass;
          }
        }
        out << absl::StrFormat(" %.2f%s |", hit_ratio, pass ? "" : "*");
      }
      if (rows != nullptr) {
        out << absl::StrFormat(" %.2f (%s) | %s |\n", default_score.best, default_score.best_policy,
                               default_score.pass ? "yes" : "no");
      } else {
        out << " | |\n";
      }
    }
    if (!trace->sizes.empty()) sized.emplace_back(file, *std::move(trace));
  }
  out << "\n";
  for (std::string_view policy : policies) {
    auto it = totals.find(policy);
    if (it == totals.end()) continue;
    const PolicyTotals& t = it->second;
    out << absl::StrFormat("policy=%s cells=%d passed=%d gap_closed_avg=%.1f%% (over %d cells)\n",
                           policy, t.cells, t.passed,
                           t.gap_cells == 0 ? 0.0 : 100.0 * t.gap_sum / t.gap_cells, t.gap_cells);
  }

  for (const auto& [file, trace] : sized) {
    const uint64_t unique_bytes = UniqueBytes(trace);
    out << absl::StrFormat("\nByte budget, %s (%d unique bytes): request / byte hit ratio\n\n",
                           file, unique_bytes);
    out << "| size | bytes |";
    for (std::string_view p : policies) {
      if (p != "opt") out << " " << p << " |";
    }
    out << "\n|---:|---:|";
    for (size_t i = 1; i < policies.size(); ++i) out << "---:|";
    out << "\n";
    for (double percent : kReferencePercents) {
      const uint64_t capacity = PercentOf(percent, unique_bytes);
      out << absl::StrFormat("| %g%% | %d |", percent, capacity);
      for (std::string_view policy : policies) {
        if (policy == "opt") continue;
        absl::StatusOr<ReplayResult> r = ReplayPolicyBytes(trace, policy, capacity);
        if (!r.ok()) return r.status();
        out << absl::StrFormat(" %.2f / %.2f |", r->HitRatioPercent(), r->ByteHitRatioPercent());
      }
      out << "\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace asidekv::trace
