#include "tools/bench/key_distribution.h"

#include <algorithm>
#include <cmath>

namespace asidekv::bench {

absl::string_view DistributionName(Distribution d) {
  switch (d) {
    case Distribution::kZipfian:
      return "zipfian";
    case Distribution::kUniform:
      return "uniform";
    case Distribution::kLatest:
      return "latest";
    case Distribution::kHotspot:
      return "hotspot";
  }
  return "?";
}

std::optional<Distribution> ParseDistribution(absl::string_view name) {
  for (Distribution d : {Distribution::kZipfian, Distribution::kUniform, Distribution::kLatest,
                         Distribution::kHotspot}) {
    if (name == DistributionName(d)) return d;
  }
  return std::nullopt;
}

double Zeta(uint64_t n, double theta) {
  double sum = 0;
  for (uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(static_cast<double>(i), theta);
  return sum;
}

ZipfianGenerator::ZipfianGenerator(uint64_t item_count, double theta, std::optional<double> zeta_n)
    : theta_(theta),
      alpha_(1.0 / (1.0 - theta)),
      zeta2theta_(Zeta(2, theta)),
      item_count_(std::max<uint64_t>(item_count, 1)),
      zeta_n_(zeta_n.has_value() ? *zeta_n : Zeta(item_count_, theta)) {
  UpdateEta();
}

void ZipfianGenerator::UpdateEta() {
  eta_ = (1 - std::pow(2.0 / static_cast<double>(item_count_), 1 - theta_)) /
         (1 - zeta2theta_ / zeta_n_);
}

void ZipfianGenerator::SetItemCount(uint64_t item_count) {
  item_count = std::max<uint64_t>(item_count, 1);
  if (item_count == item_count_) return;
  if (item_count > item_count_) {
    for (uint64_t i = item_count_ + 1; i <= item_count; ++i) {
      zeta_n_ += 1.0 / std::pow(static_cast<double>(i), theta_);
    }
  } else {
    zeta_n_ = Zeta(item_count, theta_);
  }
  item_count_ = item_count;
  UpdateEta();
}

uint64_t ZipfianGenerator::Next(Rng& rng) {
  const double u = rng.NextDouble();
  const double uz = u * zeta_n_;
  if (uz < 1.0) return 0;
  if (uz < 1.0 + std::pow(0.5, theta_)) return std::min<uint64_t>(1, item_count_ - 1);
  const auto rank = static_cast<uint64_t>(static_cast<double>(item_count_) *
                                          std::pow(eta_ * u - eta_ + 1, alpha_));
  return std::min(rank, item_count_ - 1);
}

KeyChooser::KeyChooser(const DistributionParams& params, uint64_t record_count,
                       std::optional<double> zeta_n)
    : params_(params),
      record_count_(std::max<uint64_t>(record_count, 1)),
      // Uniform and hotspot never draw from it: give them a one-item generator for free.
      zipfian_(params.distribution == Distribution::kZipfian ||
                       params.distribution == Distribution::kLatest
                   ? record_count_
                   : 1,
               params.zipfian_theta,
               params.distribution == Distribution::kZipfian ||
                       params.distribution == Distribution::kLatest
                   ? zeta_n
                   : std::optional<double>(1.0)) {}

void KeyChooser::SetRecordCount(uint64_t record_count) {
  if (params_.distribution != Distribution::kLatest) return;
  record_count_ = std::max<uint64_t>(record_count, 1);
  zipfian_.SetItemCount(record_count_);
}

uint64_t KeyChooser::Next(Rng& rng) {
  switch (params_.distribution) {
    case Distribution::kZipfian:
      return FnvHash64(zipfian_.Next(rng)) % record_count_;
    case Distribution::kUniform:
      return rng.Uniform(record_count_);
    case Distribution::kLatest:
      return record_count_ - 1 - zipfian_.Next(rng);
    case Distribution::kHotspot: {
      const auto hot = std::clamp<uint64_t>(
          static_cast<uint64_t>(params_.hot_set_fraction * static_cast<double>(record_count_)), 1,
          record_count_);
      const uint64_t cold = record_count_ - hot;
      if (cold == 0 || rng.NextDouble() < params_.hot_op_fraction) return rng.Uniform(hot);
      return hot + rng.Uniform(cold);
    }
  }
  return 0;
}

}  // namespace asidekv::bench
