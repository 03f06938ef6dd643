#include "tools/bench/key_distribution.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "tools/bench/random.h"

namespace asidekv::bench {
namespace {

TEST(ZipfianTest, RankFrequenciesFollowTheLaw) {
  constexpr uint64_t kItems = 1000;
  constexpr double kTheta = 0.99;
  constexpr int kDraws = 400000;
  ZipfianGenerator zipf(kItems, kTheta);
  Rng rng(3);
  std::vector<int> counts(kItems);
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t r = zipf.Next(rng);
    ASSERT_LT(r, kItems);
    ++counts[r];
  }
  const double zeta = Zeta(kItems, kTheta);
  // The generator is exact for ranks 0 and 1 and approximate beyond (Gray et al.).
  for (uint64_t rank : {0u, 1u}) {
    const double expected = kDraws / std::pow(rank + 1.0, kTheta) / zeta;
    EXPECT_NEAR(counts[rank], expected, 0.03 * expected) << rank;
  }
  EXPECT_GT(counts[0], counts[1]);
  EXPECT_GT(counts[1], counts[9]);
  EXPECT_GT(counts[9], counts[99]);
}

TEST(ZipfianTest, GrowingMatchesBuildingAtTheNewSize) {
  ZipfianGenerator grown(100, 0.9);
  grown.SetItemCount(5000);
  ZipfianGenerator direct(5000, 0.9);
  Rng a(5);
  Rng b(5);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(grown.Next(a), direct.Next(b));
}

TEST(KeyChooserTest, ScrambledZipfianSpreadsTheHotKeys) {
  DistributionParams params;
  params.distribution = Distribution::kZipfian;
  KeyChooser chooser(params, 100000);
  Rng rng(9);
  std::vector<int> counts(100000);
  for (int i = 0; i < 200000; ++i) ++counts[chooser.Next(rng)];
  // The hottest record is not record 0 (scrambled), and it is hot.
  int hottest = 0;
  for (int i = 1; i < 100000; ++i) {
    if (counts[i] > counts[hottest]) hottest = i;
  }
  EXPECT_NE(hottest, 0);
  EXPECT_EQ(static_cast<uint64_t>(hottest), FnvHash64(0) % 100000);
  EXPECT_GT(counts[hottest], 200000 / 20);
}

TEST(KeyChooserTest, UniformStaysInRange) {
  DistributionParams params;
  params.distribution = Distribution::kUniform;
  KeyChooser chooser(params, 10);
  Rng rng(1);
  std::vector<int> counts(10);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t r = chooser.Next(rng);
    ASSERT_LT(r, 10u);
    ++counts[r];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 600);
}

TEST(KeyChooserTest, HotspotSendsItsShareToTheHotSet) {
  DistributionParams params;
  params.distribution = Distribution::kHotspot;
  params.hot_set_fraction = 0.1;
  params.hot_op_fraction = 0.9;
  KeyChooser chooser(params, 1000);
  Rng rng(2);
  int hot = 0;
  for (int i = 0; i < 100000; ++i) {
    const uint64_t r = chooser.Next(rng);
    ASSERT_LT(r, 1000u);
    if (r < 100) ++hot;
  }
  EXPECT_NEAR(hot, 90000, 1000);
}

TEST(KeyChooserTest, LatestFavoursTheNewestAndFollowsGrowth) {
  DistributionParams params;
  params.distribution = Distribution::kLatest;
  KeyChooser chooser(params, 1000);
  Rng rng(4);
  int newest = 0;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t r = chooser.Next(rng);
    ASSERT_LT(r, 1000u);
    if (r == 999) ++newest;
  }
  EXPECT_GT(newest, 10000 / 20);
  chooser.SetRecordCount(2000);
  int above = 0;
  for (int i = 0; i < 1000; ++i) above += chooser.Next(rng) >= 1000 ? 1 : 0;
  EXPECT_GT(above, 500);
}

TEST(DistributionTest, NamesRoundTrip) {
  for (Distribution d : {Distribution::kZipfian, Distribution::kUniform, Distribution::kLatest,
                         Distribution::kHotspot}) {
    EXPECT_EQ(ParseDistribution(DistributionName(d)), d);
  }
  EXPECT_FALSE(ParseDistribution("gaussian").has_value());
}

}  // namespace
}  // namespace asidekv::bench
