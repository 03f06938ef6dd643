// Small deterministic random-number and hashing helpers for the benchmark.
//
// Everything here is a pure function or a value type: no global state, so a seed fixes every
// sequence on every machine. Rng is not thread safe; give each thread its own.

#ifndef ASIDEKV_TOOLS_BENCH_RANDOM_H_
#define ASIDEKV_TOOLS_BENCH_RANDOM_H_

#include <cstdint>

namespace asidekv::bench {

// FNV-1a over the 8 bytes of `value`, then the absolute value, as YCSB's Utils.fnvhash64
// (used to scramble zipfian ranks and to order inserts).
inline uint64_t FnvHash64(uint64_t value) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (int i = 0; i < 8; ++i) {
    hash ^= value & 0xff;
    value >>= 8;
    hash *= 1099511628211ull;
  }
  const auto signed_hash = static_cast<int64_t>(hash);
  return signed_hash < 0 ? static_cast<uint64_t>(0) - hash : hash;
}

// MurmurHash3's 64-bit finalizer: a bijection on uint64_t with good avalanche. Used to turn
// record numbers into keys without collisions.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

// SplitMix64: fast, 64-bit state, passes BigCrush; plenty for workload generation.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Uniform in [0, n) (Lemire's multiply-shift; bias below 2^-64 * n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_RANDOM_H_
