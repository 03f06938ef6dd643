// Key distributions of the YCSB core workloads: which record a request touches.
//
// Each chooser returns a record number (0-based); keys.h turns it into a key. The generators
// follow YCSB's (site.ycsb.generator.*) so that results are comparable:
//   - ZipfianGenerator: Gray et al.'s "Quickly generating billion-record synthetic databases",
//     rank 0 most popular; zeta(n) grows incrementally when the item count grows.
//   - KeyChooser(kZipfian): the zipfian rank scrambled by FNV-64 (YCSB's
//     ScrambledZipfianGenerator), so popular records are spread over the key space. Unlike YCSB
//     (which draws from 10^10 items with a precomputed zeta, valid only for theta 0.99) the
//     ranks are drawn over the record count itself, so any theta works.
//   - kUniform: uniform over the records.
//   - kLatest: the most recently inserted records are the most popular (YCSB's
//     SkewedLatestGenerator): newest - zipfian(count).
//   - kHotspot: `hot_op_fraction` of the requests go uniformly to the first
//     `hot_set_fraction` of the records, the rest uniformly to the others.
//
// Thread safety: none; each generating thread owns its choosers. Construction of a zipfian
// chooser costs O(record count) pow() calls unless the zeta constant is passed in (see Zeta()).

#ifndef ASIDEKV_TOOLS_BENCH_KEY_DISTRIBUTION_H_
#define ASIDEKV_TOOLS_BENCH_KEY_DISTRIBUTION_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "tools/bench/random.h"

namespace asidekv::bench {

enum class Distribution { kZipfian, kUniform, kLatest, kHotspot };

absl::string_view DistributionName(Distribution d);
// "zipfian", "uniform", "latest" or "hotspot"; nullopt otherwise.
std::optional<Distribution> ParseDistribution(absl::string_view name);

struct DistributionParams {
  Distribution distribution = Distribution::kZipfian;
  // Zipfian skew, in (0, 1). YCSB's default is 0.99.
  double zipfian_theta = 0.99;
  // Hotspot: fraction of the records that are hot, and fraction of the requests that hit them.
  double hot_set_fraction = 0.2;
  double hot_op_fraction = 0.8;
};

// sum_{i=1..n} 1/i^theta.
double Zeta(uint64_t n, double theta);

// Zipfian ranks in [0, item_count): rank 0 is the most popular.
class ZipfianGenerator {
 public:
  // REQUIRES: item_count >= 1, 0 < theta < 1. `zeta_n`, when given, must equal
  // Zeta(item_count, theta) (it saves the O(n) computation).
  ZipfianGenerator(uint64_t item_count, double theta, std::optional<double> zeta_n = {});

  uint64_t Next(Rng& rng);

  // Grows (or shrinks) the item range; growing by k costs k pow() calls, shrinking recomputes.
  void SetItemCount(uint64_t item_count);
  uint64_t item_count() const { return item_count_; }

 private:
  void UpdateEta();

  const double theta_;
  const double alpha_;
  const double zeta2theta_;
  uint64_t item_count_;
  double zeta_n_;
  double eta_ = 0;
};

// Picks record numbers from one of the distributions above.
class KeyChooser {
 public:
  // Over records [0, record_count). REQUIRES: record_count >= 1. `zeta_n` as for
  // ZipfianGenerator (for kZipfian and kLatest).
  KeyChooser(const DistributionParams& params, uint64_t record_count,
             std::optional<double> zeta_n = {});

  // For kLatest: the records are now [0, record_count) and the newest is record_count - 1.
  // Other distributions keep their range (reads go to records known to be loaded).
  void SetRecordCount(uint64_t record_count);

  uint64_t Next(Rng& rng);

 private:
  const DistributionParams params_;
  uint64_t record_count_;
  ZipfianGenerator zipfian_;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_KEY_DISTRIBUTION_H_
