// Reference hit ratios of a traces folder, read from its README, and the score of a policy
// against them.
//
// The README of the traces folder has a table with one row per trace and reference policy:
//   | arc_OLTP (1,868 / 9,344 / 18,688 obj) | LRU | 41.63 | 60.08 | 66.52 |
//   | | S3-FIFO | 46.47 | 62.11 | 67.78 |
// (the first row of a trace names it; the columns are 1%, 5% and 10% of its unique keys).
// ParseReferenceTable collects those rows; other lines are ignored. A trace file matches a
// reference trace when its name, without extensions, is the reference name or ends in
// "_<name>" (libcachesim_cloudPhysicsIO.keys is "cloudPhysicsIO").
//
// Scoring a cell (one trace at one size), as the eviction issue defines it:
//   best       the highest reference policy other than OPT;
//   pass       hit ratio >= best - 0.5 and >= LRU - 0.5 (points);
//   gap closed (hit ratio - LRU) / (OPT - LRU); undefined (and left out of averages) when OPT
//              and LRU are within 0.01 points of each other.

#ifndef ASIDEKV_TOOLS_TRACE_REFERENCE_H_
#define ASIDEKV_TOOLS_TRACE_REFERENCE_H_

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace asidekv::trace {

// The sizes of the reference table, in percent of a trace's unique keys.
inline constexpr std::array<double, 3> kReferencePercents = {1, 5, 10};

// Reference hit ratios (percent) of one trace: policy name as the README spells it -> one value
// per kReferencePercents.
using ReferenceRows = std::map<std::string, std::array<double, 3>>;

struct ReferenceTable {
  std::map<std::string, ReferenceRows> traces;

  // The rows for a trace file name (see above), or nullptr.
  const ReferenceRows* Find(std::string_view file_name) const;
};

ReferenceTable ParseReferenceTable(std::string_view readme);

struct CellScore {
  std::string best_policy;  // Ties: the names joined by " = ".
  double best = 0;
  double lru = 0;
  double opt = 0;
  bool pass = false;
  std::optional<double> gap_closed;  // A fraction; see above.
};

// Scores `hit_ratio` in column `column` of `rows`. Rows without LRU or OPT score as 0.
CellScore ScoreCell(const ReferenceRows& rows, int column, double hit_ratio);

}  // namespace asidekv::trace

#endif  // ASIDEKV_TOOLS_TRACE_REFERENCE_H_
