// The policy comparison of issue 4 on the real Philly trace, Oct 1 - Nov 30 2017 (68,510 jobs):
// on a shared cluster of 64 nodes x 8 GPUs, where the queue is long, berth's default policy
// with predicted runtimes must cut FIFO's average JCT to at most 0.43x and come within 1.09x
// of shortest-job-first with the true runtimes (the ratios Helios found for QSSF); on the per-VC
// pools of philly_vc_nodes.csv, where this trace's load is light, it must not be worse than FIFO.
// (Full figures for all five policies: docs/sim.md.)
#include <gtest/gtest.h>

#include "sim/replay.h"
#include "sim_testing.h"

namespace berth::sim {
namespace {

using testing::real_traces;

Trace philly_oct_nov() {
  TraceOptions options;
  options.from_epoch_s = *parse_utc_timestamp_s("2017-10-01 00:00:00");
  options.to_epoch_s = *parse_utc_timestamp_s("2017-12-01 00:00:00");
  auto trace =
      read_trace((real_traces() / "philly" / "jobs.csv").string(), TraceFormat::kPhilly, options);
  EXPECT_TRUE(trace.ok()) << trace.status().ToString();
  return trace.ok() ? std::move(*trace) : Trace{};
}

double avg_jct(const Trace& trace, Policy policy,
               const std::vector<std::pair<std::string, int>>& pools, int nodes) {
  ReplayConfig config;
  for (int i = 0; i < nodes; ++i) {
    core::Node n;
    n.name = "n" + std::to_string(i + 1);
    n.gpu_model = "GPU";
    n.gpus = 8;
    config.cluster.nodes.push_back(n);
  }
  config.pools = pools;
  config.policy = policy;
  config.estimates = Estimates::kPredict;
  auto result = replay(trace, config);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return 0;
  EXPECT_EQ(result->never_started, 0);
  return compute_metrics(result->jobs, result->total_gpus)["avg_jct_s"].get<double>();
}

TEST(PhillyPolicies, DefaultCutsFifosAverageJctOnASharedBusyCluster) {
  SKIP_WITHOUT_REAL_TRACES();
  const Trace trace = philly_oct_nov();
  ASSERT_EQ(trace.jobs.size(), 68'510u);
  const double fifo = avg_jct(trace, Policy::kFifo, {}, 64);
  const double best = avg_jct(trace, Policy::kDefault, {}, 64);
  RecordProperty("fifo_avg_jct_s", std::to_string(fifo));
  RecordProperty("default_avg_jct_s", std::to_string(best));
  EXPECT_GT(fifo, 0);
  EXPECT_LE(best, 0.43 * fifo) << "default " << best << " s, fifo " << fifo << " s";
}

TEST(PhillyPolicies, DefaultWithoutAnOracleComesNearSjfWithOne) {
  SKIP_WITHOUT_REAL_TRACES();
  const Trace trace = philly_oct_nov();
  const double sjf = avg_jct(trace, Policy::kSjf, {}, 64);  // always plans with the true runtimes
  const double best = avg_jct(trace, Policy::kDefault, {}, 64);
  RecordProperty("sjf_avg_jct_s", std::to_string(sjf));
  EXPECT_GT(sjf, 0);
  // Measured 1.015x (docs/sim.md); the bar keeps it there rather than at Helios's 1.09x.
  EXPECT_LE(best, 1.03 * sjf) << "default " << best << " s, sjf " << sjf << " s";
}

TEST(PhillyPolicies, DefaultIsNoWorseThanFifoOnTheVcPools) {
  SKIP_WITHOUT_REAL_TRACES();
  const Trace trace = philly_oct_nov();
  auto pools = read_tenant_pools((real_traces() / "philly" / "philly_vc_nodes.csv").string());
  ASSERT_TRUE(pools.ok()) << pools.status().ToString();
  const double fifo = avg_jct(trace, Policy::kFifo, *pools, 1);
  const double best = avg_jct(trace, Policy::kDefault, *pools, 1);
  EXPECT_LE(best, fifo) << "default " << best << " s, fifo " << fifo << " s";
}

}  // namespace
}  // namespace berth::sim
