#include "tools/bench/histogram.h"

#include <algorithm>
#include <cmath>

#include "util/coding.h"

namespace asidekv::bench {

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < kNumBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kNumBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(BucketUpperBound(i), max_);
  }
  return max_;
}

void Histogram::EncodeTo(std::string* out) const {
  uint64_t used = 0;
  for (uint64_t c : counts_) used += c != 0 ? 1 : 0;
  util::PutVarint64(out, used);
  for (size_t i = 0; i < kNumBuckets; ++i) {
    if (counts_[i] == 0) continue;
    util::PutVarint64(out, i);
    util::PutVarint64(out, counts_[i]);
  }
  for (uint64_t v : {count_, sum_, min_, max_}) util::PutVarint64(out, v);
}

bool Histogram::DecodeFrom(std::string_view* in) {
  Clear();
  uint64_t used = 0;
  if (!util::GetVarint64(in, &used) || used > kNumBuckets) return false;
  for (uint64_t n = 0; n < used; ++n) {
    uint64_t index = 0;
    uint64_t count = 0;
    if (!util::GetVarint64(in, &index) || index >= kNumBuckets || !util::GetVarint64(in, &count)) {
      return false;
    }
    counts_[index] = count;
  }
  return util::GetVarint64(in, &count_) && util::GetVarint64(in, &sum_) &&
         util::GetVarint64(in, &min_) && util::GetVarint64(in, &max_);
}

}  // namespace asidekv::bench
