#include "tools/trace/reference.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "util/string_view.h"

namespace asidekv::trace {
namespace {

constexpr double kPassSlack = 0.5;
constexpr double kMinGap = 0.01;

}  // namespace

const ReferenceRows* ReferenceTable::Find(std::string_view file_name) const {
  const size_t dot = file_name.find('.');
  const std::string_view stem = file_name.substr(0, dot);
  for (const auto& [name, rows] : traces) {
    if (stem == name || absl::EndsWith(util::ToAbsl(stem), "_" + name)) return &rows;
  }
  return nullptr;
}

ReferenceTable ParseReferenceTable(std::string_view readme) {
  ReferenceTable table;
  std::string current;
  for (absl::string_view line : absl::StrSplit(util::ToAbsl(readme), '\n')) {
    if (!absl::StartsWith(line, "|")) {
      current.clear();
      continue;
    }
    std::vector<absl::string_view> cells = absl::StrSplit(line, '|');
    // "| a | b | c | d | e |" splits into 7 cells, the first and last empty.
    if (cells.size() != 7) continue;
    for (absl::string_view& cell : cells) cell = absl::StripAsciiWhitespace(cell);
    std::array<double, 3> values;
    bool numeric = true;
    for (int i = 0; i < 3; ++i) numeric = numeric && absl::SimpleAtod(cells[3 + i], &values[i]);
    if (!numeric) continue;
    if (!cells[1].empty()) {
      const size_t paren = cells[1].find(" (");
      current = std::string(cells[1].substr(0, paren));
    }
    if (current.empty()) continue;
    table.traces[current][std::string(cells[2])] = values;
  }
  return table;
}

CellScore ScoreCell(const ReferenceRows& rows, int column, double hit_ratio) {
  CellScore score;
  for (const auto& [policy, values] : rows) {
    const double v = values[column];
    if (policy == "OPT") {
      score.opt = v;
      continue;
    }
    if (policy == "LRU") score.lru = v;
    if (score.best_policy.empty() || v > score.best + 0.005) {
      score.best = v;
      score.best_policy = policy;
    } else if (v > score.best - 0.005) {
      score.best_policy += " = " + policy;
    }
  }
  score.pass = hit_ratio >= score.best - kPassSlack && hit_ratio >= score.lru - kPassSlack;
  if (score.opt - score.lru >= kMinGap) {
    score.gap_closed = (hit_ratio - score.lru) / (score.opt - score.lru);
  }
  return score;
}

}  // namespace asidekv::trace
