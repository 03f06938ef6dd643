// The messages between `asidekv-bench ycsb --nodes` and its node processes, as bytes: a
// writer and a reader of varints, doubles and strings (util/coding.h's integers), and the
// encodings of what a node reports about a phase (PhaseOutcome: operations, latency
// histograms, counters). Both ends are the same binary, so the format has no version.
//
// Thread safety: none; a WireWriter or WireReader belongs to one thread.
//
// Example:
//   WireWriter w;
//   EncodeOutcome(outcome, w);
//   std::string bytes = w.Take();
//   WireReader r(bytes);
//   PhaseOutcome back;
//   if (!DecodeOutcome(r, &back) || !r.done()) { ... malformed ... }

#ifndef ASIDEKV_TOOLS_BENCH_NODE_WIRE_H_
#define ASIDEKV_TOOLS_BENCH_NODE_WIRE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/bench/results.h"
#include "tools/bench/ycsb_steps.h"

namespace asidekv::bench {

class WireWriter {
 public:
  void U64(uint64_t v);
  void Double(double v);
  void String(std::string_view s);
  void OptionalU64(std::optional<uint64_t> v);
  void Pairs(const std::vector<std::pair<std::string, std::string>>& pairs);
  std::string Take() { return std::move(out_); }
  std::string* raw() { return &out_; }

 private:
  std::string out_;
};

// Each getter returns false on a short or malformed input.
class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  bool U64(uint64_t* v);
  bool Double(double* v);
  bool String(std::string* s);
  bool OptionalU64(std::optional<uint64_t>* v);
  bool Pairs(std::vector<std::pair<std::string, std::string>>* pairs);
  bool done() const { return in_.empty(); }
  std::string_view* raw() { return &in_; }

 private:
  std::string_view in_;
};

void EncodeOutcome(const PhaseOutcome& outcome, WireWriter& out);
bool DecodeOutcome(WireReader& in, PhaseOutcome* outcome);

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_NODE_WIRE_H_
