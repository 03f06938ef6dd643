#include "tools/bench/node_wire.h"

#include <bit>

#include "util/coding.h"

namespace asidekv::bench {

void WireWriter::U64(uint64_t v) { util::PutVarint64(&out_, v); }

void WireWriter::Double(double v) { util::PutFixed64(&out_, std::bit_cast<uint64_t>(v)); }

void WireWriter::String(std::string_view s) {
  U64(s.size());
  out_.append(s.data(), s.size());
}

void WireWriter::OptionalU64(std::optional<uint64_t> v) {
  U64(v.has_value() ? 1 : 0);
  if (v.has_value()) U64(*v);
}

void WireWriter::Pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  U64(pairs.size());
  for (const auto& [key, value] : pairs) {
    String(key);
    String(value);
  }
}

bool WireReader::U64(uint64_t* v) { return util::GetVarint64(&in_, v); }

bool WireReader::Double(double* v) {
  uint64_t bits = 0;
  if (!util::GetFixed64(&in_, &bits)) return false;
  *v = std::bit_cast<double>(bits);
  return true;
}

bool WireReader::String(std::string* s) {
  uint64_t size = 0;
  if (!U64(&size) || size > in_.size()) return false;
  s->assign(in_.data(), size);
  in_.remove_prefix(size);
  return true;
}

bool WireReader::OptionalU64(std::optional<uint64_t>* v) {
  uint64_t present = 0;
  if (!U64(&present) || present > 1) return false;
  v->reset();
  if (present == 0) return true;
  uint64_t value = 0;
  if (!U64(&value)) return false;
  *v = value;
  return true;
}

bool WireReader::Pairs(std::vector<std::pair<std::string, std::string>>* pairs) {
  uint64_t n = 0;
  if (!U64(&n) || n > in_.size()) return false;
  pairs->assign(n, {});
  for (auto& [key, value] : *pairs) {
    if (!String(&key) || !String(&value)) return false;
  }
  return true;
}

void EncodeOutcome(const PhaseOutcome& outcome, WireWriter& out) {
  const PhaseResult& r = outcome.result;
  for (uint64_t v : {r.ops, r.point_reads, r.not_found, r.scanned_pairs, r.verified,
                     r.verify_failures, r.errors, r.wraps}) {
    out.U64(v);
  }
  out.Double(r.seconds);
  out.String(r.first_failure);
  for (const Histogram& h : r.latency) h.EncodeTo(out.raw());
  const CacheCounters& c = outcome.counters;
  for (const std::optional<uint64_t>& v : {c.hits, c.misses, c.db_reads, c.remote_hits}) {
    out.OptionalU64(v);
  }
  out.U64(outcome.backend_counters.size());
  for (const auto& [name, value] : outcome.backend_counters) {
    out.String(name);
    out.U64(value);
  }
}

bool DecodeOutcome(WireReader& in, PhaseOutcome* outcome) {
  PhaseResult& r = outcome->result;
  r = PhaseResult();
  for (uint64_t* v : {&r.ops, &r.point_reads, &r.not_found, &r.scanned_pairs, &r.verified,
                      &r.verify_failures, &r.errors, &r.wraps}) {
    if (!in.U64(v)) return false;
  }
  if (!in.Double(&r.seconds) || !in.String(&r.first_failure)) return false;
  for (Histogram& h : r.latency) {
    if (!h.DecodeFrom(in.raw())) return false;
  }
  CacheCounters& c = outcome->counters;
  for (std::optional<uint64_t>* v : {&c.hits, &c.misses, &c.db_reads, &c.remote_hits}) {
    if (!in.OptionalU64(v)) return false;
  }
  uint64_t n = 0;
  if (!in.U64(&n) || n > in.raw()->size()) return false;
  outcome->backend_counters.assign(n, {});
  for (auto& [name, value] : outcome->backend_counters) {
    if (!in.String(&name) || !in.U64(&value)) return false;
  }
  return true;
}

}  // namespace asidekv::bench
