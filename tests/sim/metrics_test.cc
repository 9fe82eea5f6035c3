// Replay metrics on hand-computed examples.
#include "sim/metrics.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "sim/sim_testing.h"

namespace berth::sim {
namespace {

using testing::outcome;

// Three jobs on one 8-GPU node:
//   1 (a): submitted 0, runs 0-100 on 8 GPUs;
//   2 (b): submitted 0, waits for 1, runs 100-300 on 4 GPUs;
//   3 (a): submitted 50, runs 100-105 on 4 GPUs beside 2.
std::vector<JobOutcome> three_jobs() {
  return {outcome(1, "a", 0, 0, 100, 8), outcome(2, "b", 0, 100, 300, 4),
          outcome(3, "a", 50, 100, 105, 4)};
}

TEST(Metrics, ThreeJobsOnOneNode) {
  const nlohmann::json m = compute_metrics(three_jobs(), 8);
  EXPECT_EQ(m["jobs"], 3);
  EXPECT_EQ(m["makespan_s"], 300);
  EXPECT_EQ(m["gpu_seconds"], 800 + 800 + 20);
  EXPECT_DOUBLE_EQ(m["utilization"].get<double>(), 1620.0 / (8 * 300));
  // JCTs 100, 300, 55; waits 0, 100, 50.
  EXPECT_DOUBLE_EQ(m["avg_jct_s"].get<double>(), 455.0 / 3);
  EXPECT_EQ(m["p50_jct_s"], 100);
  EXPECT_EQ(m["p99_jct_s"], 300);
  EXPECT_DOUBLE_EQ(m["avg_wait_s"].get<double>(), 50.0);
  EXPECT_EQ(m["p50_wait_s"], 50);
  EXPECT_EQ(m["p99_wait_s"], 100);
  // Bounded slowdowns: 100/100 = 1, 300/200 = 1.5, 55/max(5, 10) = 5.5.
  EXPECT_DOUBLE_EQ(m["avg_bounded_slowdown"].get<double>(), 8.0 / 3);
  // Tenants: a averages (1 + 5.5) / 2 = 3.25, b 1.5; Jain = 4.75^2 / (2 * (3.25^2 + 1.5^2)).
  EXPECT_NEAR(m["jain_fairness"].get<double>(), 22.5625 / 25.625, 1e-12);
  ASSERT_TRUE(m["tenants"].contains("a"));
  EXPECT_EQ(m["tenants"]["a"]["jobs"], 2);
  EXPECT_DOUBLE_EQ(m["tenants"]["a"]["avg_bounded_slowdown"].get<double>(), 3.25);
  EXPECT_DOUBLE_EQ(m["tenants"]["a"]["avg_wait_s"].get<double>(), 25.0);
  EXPECT_EQ(m["tenants"]["b"]["p99_jct_s"], 300);
  EXPECT_FALSE(m.contains("cost"));  // no money without costs
  EXPECT_FALSE(m["tenants"]["a"].contains("cost_minor"));
}

// Delay = JCT - time holding GPUs: the wait, and for a preempted job the gap between its runs.
TEST(Metrics, DelaysCountEveryMomentAwayFromTheGpus) {
  const nlohmann::json m = compute_metrics(three_jobs(), 8);
  // Never preempted: delay = wait, 0, 100, 50.
  EXPECT_DOUBLE_EQ(m["avg_delay_s"].get<double>(), 50.0);
  EXPECT_EQ(m["p99_delay_s"], 100);
  EXPECT_EQ(m["max_delay_s"], 100);
  EXPECT_DOUBLE_EQ(m["tenants"]["a"]["avg_delay_s"].get<double>(), 25.0);
  EXPECT_EQ(m["tenants"]["b"]["max_delay_s"], 100);

  // Submitted 0, runs 10-100, preempted, runs again 400-500: JCT 500, held 190, delay 310,
  // though it waited only 10 s for its first start.
  JobOutcome preempted = outcome(4, "c", 0, 10, 500, 1);
  preempted.runs_s = {{10, 100}, {400, 500}};
  const nlohmann::json p = compute_metrics({preempted}, 8);
  EXPECT_EQ(p["avg_wait_s"], 10.0);
  EXPECT_EQ(p["max_delay_s"], 310);
  EXPECT_DOUBLE_EQ(p["avg_delay_s"].get<double>(), 310.0);
}

TEST(Metrics, SizeClassesByGpus) {
  EXPECT_STREQ(size_class(1), "1");
  EXPECT_STREQ(size_class(2), "2-8");
  EXPECT_STREQ(size_class(8), "2-8");
  EXPECT_STREQ(size_class(9), "9-32");
  EXPECT_STREQ(size_class(32), "9-32");
  EXPECT_STREQ(size_class(33), "33+");
  EXPECT_STREQ(size_class(512), "33+");

  // three_jobs: job 1 on 8 GPUs, jobs 2 and 3 on 4; and a 64-GPU job that waited 1,000 s.
  std::vector<JobOutcome> jobs = three_jobs();
  jobs.push_back(outcome(5, "a", 0, 1000, 1100, 64));
  const nlohmann::json m = compute_metrics(jobs, 64);
  const nlohmann::json& classes = m["size_classes"];
  ASSERT_EQ(classes.size(), 2u) << classes.dump();  // only classes with jobs
  const nlohmann::json& mid = classes["2-8"];
  EXPECT_EQ(mid["jobs"], 3);
  EXPECT_DOUBLE_EQ(mid["avg_jct_s"].get<double>(), 455.0 / 3);
  EXPECT_EQ(mid["p99_jct_s"], 300);
  EXPECT_DOUBLE_EQ(mid["avg_bounded_slowdown"].get<double>(), 8.0 / 3);
  EXPECT_DOUBLE_EQ(mid["avg_delay_s"].get<double>(), 50.0);
  EXPECT_EQ(mid["p99_delay_s"], 100);
  EXPECT_EQ(mid["max_delay_s"], 100);
  const nlohmann::json& big = classes["33+"];
  EXPECT_EQ(big["jobs"], 1);
  EXPECT_EQ(big["max_delay_s"], 1000);
  EXPECT_DOUBLE_EQ(big["avg_bounded_slowdown"].get<double>(), 11.0);
  EXPECT_EQ(big.size(), 7u);  // exactly the seven figures
}

TEST(Metrics, OneTenantIsPerfectlyFair) {
  const nlohmann::json m =
      compute_metrics({outcome(1, "", 0, 0, 10, 1), outcome(2, "", 0, 1000, 1010, 1)}, 1);
  EXPECT_DOUBLE_EQ(m["jain_fairness"].get<double>(), 1.0);
  EXPECT_TRUE(m["tenants"].contains(""));
}

TEST(Metrics, NoJobsGivesZeros) {
  const nlohmann::json m = compute_metrics({}, 8);
  EXPECT_EQ(m["jobs"], 0);
  EXPECT_EQ(m["makespan_s"], 0);
  EXPECT_DOUBLE_EQ(m["utilization"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(m["jain_fairness"].get<double>(), 1.0);
  EXPECT_TRUE(m["tenants"].is_object());
  EXPECT_TRUE(m["tenants"].empty());
}

TEST(Metrics, MoneyTotalsAppearWhenJobsCost) {
  std::vector<JobOutcome> jobs = three_jobs();
  jobs[0].cost_minor = 10'0000;
  jobs[0].subsidy_minor = 7'0000;
  jobs[1].cost_minor = 2'5000;
  jobs[1].waited_for_funds = true;
  const nlohmann::json m = compute_metrics(jobs, 8);
  EXPECT_EQ(m["cost_minor"], 12'5000);
  EXPECT_EQ(m["subsidy_minor"], 7'0000);
  EXPECT_EQ(m["copay_minor"], 5'5000);
  EXPECT_EQ(m["cost"], "12.5000");
  EXPECT_EQ(m["copay"], "5.5000");
  EXPECT_EQ(m["jobs_waited_for_funds"], 1);
  EXPECT_EQ(m["tenants"]["a"]["subsidy"], "7.0000");
  EXPECT_EQ(m["tenants"]["b"]["jobs_waited_for_funds"], 1);
}

TEST(Percentile, NearestRank) {
  std::vector<int64_t> v(100);
  std::iota(v.begin(), v.end(), 1);  // 1..100
  EXPECT_EQ(percentile_nearest_rank(&v, 50), 50);
  EXPECT_EQ(percentile_nearest_rank(&v, 99), 99);
  EXPECT_EQ(percentile_nearest_rank(&v, 100), 100);
  EXPECT_EQ(percentile_nearest_rank(&v, 0.5), 1);
  std::vector<int64_t> ten = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};  // sorted by the call
  EXPECT_EQ(percentile_nearest_rank(&ten, 1), 1);
  EXPECT_EQ(percentile_nearest_rank(&ten, 50), 5);
  EXPECT_EQ(percentile_nearest_rank(&ten, 51), 6);
  EXPECT_EQ(percentile_nearest_rank(&ten, 99), 10);
  std::vector<int64_t> one = {7};
  EXPECT_EQ(percentile_nearest_rank(&one, 50), 7);
  std::vector<int64_t> none;
  EXPECT_EQ(percentile_nearest_rank(&none, 50), 0);
}

TEST(Jain, KnownValues) {
  EXPECT_DOUBLE_EQ(jain_index({1, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(jain_index({1, 0, 0}), 1.0 / 3);
  EXPECT_DOUBLE_EQ(jain_index({1, 2, 3, 4}), 100.0 / 120);
  EXPECT_DOUBLE_EQ(jain_index({5}), 1.0);
  EXPECT_DOUBLE_EQ(jain_index({}), 1.0);
}

TEST(UtilizationSeries, ThreeBucketsOfThreeJobs) {
  const std::vector<double> u = utilization_series(three_jobs(), 8, 3);
  ASSERT_EQ(u.size(), 3u);
  EXPECT_DOUBLE_EQ(u[0], 1.0);      // 0-100: job 1 on all 8
  EXPECT_DOUBLE_EQ(u[1], 4.2 / 8);  // 100-200: job 2 on 4, job 3 on 4 for 5 of 100 s
  EXPECT_DOUBLE_EQ(u[2], 0.5);      // 200-300: job 2 on 4
  // The series averages to the overall utilisation.
  EXPECT_NEAR((u[0] + u[1] + u[2]) / 3, 0.675, 1e-12);
}

TEST(UtilizationSeries, LongJobsSpanBucketsExactly) {
  // One GPU busy 15-85 s of 0-100 s, ten buckets: 5 s of bucket 1, all of 2-7, 5 s of bucket 8.
  const std::vector<double> u =
      utilization_series({outcome(1, "", 0, 15, 85, 1), outcome(2, "", 0, 100, 100, 1)}, 1, 10);
  ASSERT_EQ(u.size(), 10u);
  const std::vector<double> want = {0, 0.5, 1, 1, 1, 1, 1, 1, 0.5, 0};
  for (size_t i = 0; i < 10; ++i) EXPECT_NEAR(u[i], want[i], 1e-12) << i;
}

TEST(UtilizationSeries, EdgeCases) {
  EXPECT_TRUE(utilization_series({}, 8, 10).empty());
  EXPECT_TRUE(utilization_series(three_jobs(), 8, 0).empty());
  const std::vector<double> zero_gpus = utilization_series(three_jobs(), 0, 4);
  EXPECT_EQ(zero_gpus, std::vector<double>(4, 0.0));
  // A span given explicitly: time outside it is not counted.
  const std::vector<double> half = utilization_series_between(three_jobs(), 8, 0, 100, 2);
  EXPECT_EQ(half, std::vector<double>({1.0, 1.0}));
}

}  // namespace
}  // namespace berth::sim
