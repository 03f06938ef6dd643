#include "tools/bench/workload.h"

#include <array>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tools/bench/records.h"

namespace asidekv::bench {
namespace {

GenerateParams Params(const WorkloadSpec& spec, int threads, int thread_index) {
  GenerateParams params;
  params.record_count = 10000;
  params.insert_base = 10000;
  params.threads = threads;
  params.thread_index = thread_index;
  params.op_count = 100000;
  params.seed = 42;
  params.distribution.distribution = spec.distribution;
  return params;
}

TEST(WorkloadTest, EveryCoreWorkloadIsKnownByName) {
  for (char name : std::string("ABCDEFabcdef")) {
    ASSERT_TRUE(FindWorkload(name).has_value()) << name;
  }
  EXPECT_FALSE(FindWorkload('G').has_value());
  EXPECT_EQ(FindWorkload('d')->distribution, Distribution::kLatest);
  EXPECT_EQ(FindWorkload('E')->max_scan_length, 100u);
}

TEST(WorkloadTest, MixMatchesTheSpec) {
  for (char name : std::string("ABCDEF")) {
    const WorkloadSpec spec = *FindWorkload(name);
    const std::vector<Op> ops = GenerateOps(spec, Params(spec, 1, 0));
    ASSERT_EQ(ops.size(), 100000u);
    std::array<int, kNumOpTypes> counts{};
    for (const Op& op : ops) ++counts[static_cast<int>(op.type)];
    for (int t = 0; t < kNumOpTypes; ++t) {
      EXPECT_NEAR(counts[t] / 100000.0, spec.mix[t], 0.01) << name << " " << t;
    }
  }
}

TEST(WorkloadTest, SameSeedSameSequenceAndThreadsDiffer) {
  const WorkloadSpec spec = *FindWorkload('A');
  const std::vector<Op> a = GenerateOps(spec, Params(spec, 2, 0));
  const std::vector<Op> b = GenerateOps(spec, Params(spec, 2, 0));
  const std::vector<Op> c = GenerateOps(spec, Params(spec, 2, 1));
  ASSERT_EQ(a.size(), b.size());
  int differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].record, b[i].record);
    EXPECT_EQ(a[i].type, b[i].type);
    EXPECT_EQ(a[i].arg, b[i].arg);
    differ += a[i].record != c[i].record ? 1 : 0;
  }
  EXPECT_GT(differ, 50000);
}

TEST(WorkloadTest, InsertsAreDisjointAcrossThreadsAndBelowInsertEnd) {
  const WorkloadSpec spec = *FindWorkload('D');
  std::set<uint64_t> inserted;
  std::set<uint32_t> versions;
  const uint64_t end = InsertEnd(spec, 10000, 3, 100000);
  for (int t = 0; t < 3; ++t) {
    for (const Op& op : GenerateOps(spec, Params(spec, 3, t))) {
      if (op.type == OpType::kRead) {
        EXPECT_LT(op.record, end);
        continue;
      }
      ASSERT_EQ(op.type, OpType::kInsert);
      EXPECT_TRUE(inserted.insert(op.record).second) << op.record;
      EXPECT_GE(op.record, 10000u);
      EXPECT_LT(op.record, end);
      EXPECT_TRUE(versions.insert(op.arg).second);
      EXPECT_NE(op.arg, 0u);
    }
  }
  EXPECT_EQ(InsertEnd(*FindWorkload('C'), 10000, 3, 100000), 10000u);
}

TEST(WorkloadTest, LatestReadsOnlyRecordsThatExistAlready) {
  const WorkloadSpec spec = *FindWorkload('D');
  for (int t = 0; t < 2; ++t) {
    std::set<uint64_t> inserted_here;
    int newest_reads = 0;
    for (const Op& op : GenerateOps(spec, Params(spec, 2, t))) {
      if (op.type == OpType::kInsert) {
        inserted_here.insert(op.record);
      } else if (op.record >= 10000) {
        EXPECT_TRUE(inserted_here.contains(op.record)) << op.record;
        newest_reads += op.record == *inserted_here.rbegin() ? 1 : 0;
      }
    }
    EXPECT_GT(newest_reads, 1000);
  }
}

TEST(WorkloadTest, WarmupSequencesHaveNoInserts) {
  const WorkloadSpec spec = *FindWorkload('E');
  GenerateParams params = Params(spec, 1, 0);
  params.inserts_as_updates = true;
  for (const Op& op : GenerateOps(spec, params)) {
    EXPECT_NE(op.type, OpType::kInsert);
    EXPECT_LT(op.record, 10000u);
    if (op.type == OpType::kScan) {
      EXPECT_GE(op.arg, 1u);
      EXPECT_LE(op.arg, 100u);
    }
  }
}

TEST(RecordCodecTest, KeysAreFixedSizeAndDistinct) {
  RecordCodec codec(20, 100, 100);
  std::set<std::string> keys;
  for (uint64_t r = 0; r < 10000; ++r) {
    const std::string key = codec.Key(r);
    ASSERT_EQ(key.size(), 20u);
    EXPECT_EQ(key.substr(0, 4), "kkkk");
    EXPECT_TRUE(keys.insert(key).second);
  }
}

TEST(RecordCodecTest, ValuesVerifyAndCorruptionIsCaught) {
  RecordCodec codec(16, 40, 300);
  std::string value;
  std::string why;
  std::set<size_t> sizes;
  for (uint64_t r = 0; r < 1000; ++r) {
    codec.FormatValue(r, static_cast<uint32_t>(r * 7), &value);
    ASSERT_GE(value.size(), 40u);
    ASSERT_LE(value.size(), 300u);
    sizes.insert(value.size());
    EXPECT_TRUE(codec.Verify(r, value, &why)) << why;
    EXPECT_FALSE(codec.Verify(r + 1, value, &why));
    std::string corrupt = value;
    corrupt.back() ^= 1;
    EXPECT_FALSE(codec.Verify(r, corrupt, &why));
    EXPECT_FALSE(codec.Verify(r, value.substr(0, value.size() - 1), &why));
  }
  EXPECT_GT(sizes.size(), 100u);
  EXPECT_FALSE(codec.Verify(1, "short", &why));
  EXPECT_NE(why.find("5 bytes"), std::string::npos);
}

}  // namespace
}  // namespace asidekv::bench
