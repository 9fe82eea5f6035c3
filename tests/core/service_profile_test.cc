#include "core/service_profile.h"

#include <gtest/gtest.h>

namespace berth::core {
namespace {

TEST(ServiceProfile, BucketsAreASquareRootOfTwoApartAndHoldTheirEdges) {
  EXPECT_EQ(ServiceProfile::edge_gpu_s(2), 2);
  EXPECT_EQ(ServiceProfile::edge_gpu_s(24), 4096);
  EXPECT_EQ(ServiceProfile::edge_gpu_s(25), 5792);
  EXPECT_EQ(ServiceProfile::bucket_of(4096), 24);
  EXPECT_EQ(ServiceProfile::bucket_of(5791), 24);
  EXPECT_EQ(ServiceProfile::bucket_of(5792), 25);
  EXPECT_EQ(ServiceProfile::bucket_of(0), ServiceProfile::bucket_of(1));
}

TEST(ServiceProfile, MeanResidualIsExactAtABucketEdge) {
  ServiceProfile p;
  for (int i = 0; i < 30; ++i) p.record(1, 100);
  for (int i = 0; i < 30; ++i) p.record(2, 5'000);  // 10,000 GPU-s each
  EXPECT_DOUBLE_EQ(p.mean_gpu_s(), 5'050);
  EXPECT_DOUBLE_EQ(p.mean_run_s(), 2'550);
  // Past 8,192 GPU-s only the 2-GPU jobs: 10,000 - 8,192 left.
  ASSERT_TRUE(p.mean_residual_gpu_s(8'192).has_value());
  EXPECT_DOUBLE_EQ(*p.mean_residual_gpu_s(8'192), 10'000 - 8'192);
  // Past 20,000 nobody: too few to say.
  EXPECT_FALSE(p.mean_residual_gpu_s(20'000).has_value());
}

TEST(ServiceProfile, JobsAlikeGiveNoThreshold) {
  ServiceProfile p;
  for (int i = 0; i < 200; ++i) p.record(1, 7'200 + (i * 37) % 7'200);  // 2 to 4 hours
  ASSERT_TRUE(p.demote_threshold_gpu_s(3'600, 2.0, 100).has_value());
  EXPECT_EQ(*p.demote_threshold_gpu_s(3'600, 2.0, 100), 0);
}

TEST(ServiceProfile, AHeavyTailGivesTheFirstEdgeWhereALongJobHasFarMoreLeft) {
  ServiceProfile p;
  for (int i = 0; i < 950; ++i) p.record(1, 300);
  for (int i = 0; i < 50; ++i) p.record(1, 100'000);
  // E[S] = 5,285; past any edge from 3,600 up to 100,000 a job has 100,000 - edge left.
  const auto t = p.demote_threshold_gpu_s(3'600, 2.0, 100);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, 4'096);
  EXPECT_FALSE(p.demote_threshold_gpu_s(3'600, 2.0, 2'000).has_value()) << "too few jobs yet";
}

TEST(ServiceProfile, HistoryIsHalvedSoThatItFollowsTheWorkload) {
  ServiceProfile p;
  for (int i = 0; i < ServiceProfile::kHalveAfter; ++i) p.record(1, 100);
  EXPECT_DOUBLE_EQ(p.jobs(), ServiceProfile::kHalveAfter);
  p.record(1, 100);
  EXPECT_DOUBLE_EQ(p.jobs(), ServiceProfile::kHalveAfter / 2 + 1);
  EXPECT_DOUBLE_EQ(p.mean_gpu_s(), 100);
}

}  // namespace
}  // namespace berth::core
