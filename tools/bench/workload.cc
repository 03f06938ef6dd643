#include "tools/bench/workload.h"

#include <cctype>

#include "tools/bench/random.h"

namespace asidekv::bench {
namespace {

constexpr std::array<WorkloadSpec, 6> kWorkloads = {{
    {'A', "read 50%, update 50%", {0.5, 0.5, 0, 0, 0}, Distribution::kZipfian, 0},
    {'B', "read 95%, update 5%", {0.95, 0.05, 0, 0, 0}, Distribution::kZipfian, 0},
    {'C', "read 100%", {1, 0, 0, 0, 0}, Distribution::kZipfian, 0},
    {'D', "read latest 95%, insert 5%", {0.95, 0, 0.05, 0, 0}, Distribution::kLatest, 0},
    {'E', "scan 95% (1-100 keys), insert 5%", {0, 0, 0.05, 0.95, 0}, Distribution::kZipfian, 100},
    {'F', "read 50%, read-modify-write 50%", {0.5, 0, 0, 0, 0.5}, Distribution::kZipfian, 0},
}};

OpType PickType(const WorkloadSpec& spec, double u) {
  double cumulative = 0;
  for (int i = 0; i < kNumOpTypes; ++i) {
    cumulative += spec.mix[i];
    if (u < cumulative && spec.mix[i] > 0) return static_cast<OpType>(i);
  }
  // Rounding left u above the sum: take the last type present.
  for (int i = kNumOpTypes - 1; i >= 0; --i) {
    if (spec.mix[i] > 0) return static_cast<OpType>(i);
  }
  return OpType::kRead;
}

}  // namespace

absl::string_view OpTypeName(OpType type) {
  switch (type) {
    case OpType::kRead:
      return "read";
    case OpType::kUpdate:
      return "update";
    case OpType::kInsert:
      return "insert";
    case OpType::kScan:
      return "scan";
    case OpType::kReadModifyWrite:
      return "rmw";
  }
  return "?";
}

std::optional<WorkloadSpec> FindWorkload(char name) {
  const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(name)));
  for (const WorkloadSpec& spec : kWorkloads) {
    if (spec.name == upper) return spec;
  }
  return std::nullopt;
}

uint64_t InsertEnd(const WorkloadSpec& spec, uint64_t insert_base, int threads, uint64_t op_count) {
  if (spec.mix[static_cast<int>(OpType::kInsert)] == 0) return insert_base;
  return insert_base + op_count * static_cast<uint64_t>(threads);
}

std::vector<Op> GenerateOps(const WorkloadSpec& spec, const GenerateParams& params) {
  const auto threads = static_cast<uint64_t>(params.threads);
  const auto thread_index = static_cast<uint64_t>(params.thread_index);
  Rng rng(Mix64(params.seed ^ Mix64((static_cast<uint64_t>(spec.name) << 32) | thread_index)));
  const bool latest = params.distribution.distribution == Distribution::kLatest;
  // "Latest" ranks count back from the newest record this thread knows exists: the records
  // below insert_base, then its own inserts (index j is record insert_base + j * threads + t).
  // Other threads' recent inserts are left out: whether they exist yet depends on timing.
  KeyChooser chooser(
      params.distribution, latest ? params.insert_base : params.record_count,
      latest && params.insert_base != params.record_count ? std::nullopt : params.zeta_n);
  auto choose = [&]() {
    const uint64_t index = chooser.Next(rng);
    if (!latest || index < params.insert_base) return index;
    return params.insert_base + (index - params.insert_base) * threads + thread_index;
  };

  std::vector<Op> ops;
  ops.reserve(params.op_count);
  uint64_t inserts = 0;
  uint64_t writes = 0;
  for (uint64_t i = 0; i < params.op_count; ++i) {
    Op op{};
    op.type = PickType(spec, rng.NextDouble());
    if (op.type == OpType::kInsert && params.inserts_as_updates) op.type = OpType::kUpdate;
    switch (op.type) {
      case OpType::kInsert:
        op.record = params.insert_base + inserts * threads + thread_index;
        op.arg = WriteVersion(writes++, params.threads, params.thread_index);
        ++inserts;
        if (latest) chooser.SetRecordCount(params.insert_base + inserts);
        break;
      case OpType::kScan:
        op.record = choose();
        op.arg = static_cast<uint32_t>(1 + rng.Uniform(spec.max_scan_length));
        break;
      case OpType::kUpdate:
      case OpType::kReadModifyWrite:
        op.record = choose();
        op.arg = WriteVersion(writes++, params.threads, params.thread_index);
        break;
      case OpType::kRead:
        op.record = choose();
        op.arg = 0;
        break;
    }
    ops.push_back(op);
  }
  return ops;
}

}  // namespace asidekv::bench
