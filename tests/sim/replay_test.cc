// Replay: hand-made traces whose schedule is worked out by hand in a comment, run through the
// real core, asserting each job's exact start, end and wait; then slices of the real traces
// (skipped when /work/shared/traces is absent) checked for invariants any schedule must keep.
#include "sim/replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "common/enum_names_testing.h"
#include "sim/sim_testing.h"

namespace berth::sim {
namespace {

using testing::real_traces;

// A trace job. Its time limit is its runtime unless given, so that backfill (--estimates
// limit) plans with the truth and a job's money held at start is its whole cost.
TraceJob trace_job(int64_t id, int64_t submit_s, int gpus, int64_t runtime_s,
                   const std::string& tenant = "t", int64_t time_limit_s = -1) {
  return TraceJob{.id = std::to_string(id),
                  .submit_s = submit_s,
                  .runtime_s = runtime_s,
                  .gpus = gpus,
                  .tenant = tenant,
                  .time_limit_s = time_limit_s < 0 ? runtime_s : time_limit_s};
}

Trace trace_of(std::vector<TraceJob> jobs) {
  Trace t;
  t.jobs = std::move(jobs);
  return t;
}

core::ClusterConfig nodes(int count, int gpus_per_node) {
  core::ClusterConfig c;
  for (int i = 0; i < count; ++i) {
    core::Node n;
    n.name = "n" + std::to_string(i + 1);
    n.gpu_model = "GPU";
    n.gpus = gpus_per_node;
    c.nodes.push_back(n);
  }
  return c;
}

ReplayConfig config_for(core::ClusterConfig cluster, Policy policy,
                        Estimates estimates = Estimates::kLimit) {
  ReplayConfig c;
  c.cluster = std::move(cluster);
  c.policy = policy;
  c.estimates = estimates;
  return c;
}

ReplayResult replay_ok(const Trace& trace, const ReplayConfig& config) {
  Result<ReplayResult> r = replay(trace, config);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : ReplayResult{};
}

struct Expected {
  int64_t id, start_s, end_s;
};

// Every job in `want` ran exactly then (wait = start - submit), and no other job ran.
void expect_schedule(const ReplayResult& r, const Trace& trace, const std::vector<Expected>& want) {
  std::map<std::string, const JobOutcome*> by_id;
  for (const JobOutcome& o : r.jobs) by_id[o.id] = &o;
  EXPECT_EQ(r.jobs.size(), want.size());
  for (const Expected& w : want) {
    SCOPED_TRACE("job " + std::to_string(w.id));
    auto it = by_id.find(std::to_string(w.id));
    ASSERT_NE(it, by_id.end());
    const JobOutcome& o = *it->second;
    const auto t = std::find_if(trace.jobs.begin(), trace.jobs.end(),
                                [&](const TraceJob& j) { return j.id == std::to_string(w.id); });
    ASSERT_NE(t, trace.jobs.end());
    EXPECT_EQ(o.submit_s, t->submit_s);
    EXPECT_EQ(o.start_s, w.start_s);
    EXPECT_EQ(o.end_s, w.end_s);
    EXPECT_EQ(o.start_s - o.submit_s, w.start_s - t->submit_s);  // the wait
  }
}

// One node of 4 GPUs:
//   1: submit 0,  2 GPUs, 100 s -> runs 0-100.
//   2: submit 10, 4 GPUs,  50 s -> blocked (2 free); the first blocked job.
//   3: submit 20, 1 GPU,   50 s
//   4: submit 30, 1 GPU,  200 s
Trace blocked_head() {
  return trace_of({trace_job(1, 0, 2, 100), trace_job(2, 10, 4, 50), trace_job(3, 20, 1, 50),
                   trace_job(4, 30, 1, 200)});
}

// EASY: job 2 is reserved the whole node at 100 (when 1 ends). Job 3 fits in a free GPU and
// ends at 70, before 100: it backfills, 20-70. Job 4 would hold a GPU until 230, past 100,
// delaying 2: it waits. 2 runs 100-150 (wait 90), then 4 runs 150-350 (wait 120).
TEST(Replay, EasyBackfillsAShortJobButNotALongOne) {
  const Trace t = blocked_head();
  const ReplayResult r = replay_ok(t, config_for(nodes(1, 4), Policy::kEasy));
  expect_schedule(r, t, {{1, 0, 100}, {2, 100, 150}, {3, 20, 70}, {4, 150, 350}});
  EXPECT_EQ(r.total_gpus, 4);
  EXPECT_EQ(r.never_started, 0);
}

// Strict FIFO: nothing passes the blocked job 2. 2 runs 100-150; then 3 and 4 start together
// at 150: 3 runs 150-200 (wait 130), 4 runs 150-350 (wait 120).
TEST(Replay, FifoLetsNothingPassTheBlockedJob) {
  const Trace t = blocked_head();
  const ReplayResult r = replay_ok(t, config_for(nodes(1, 4), Policy::kFifo));
  expect_schedule(r, t, {{1, 0, 100}, {2, 100, 150}, {3, 150, 200}, {4, 150, 350}});
}

// SJF on one 4-GPU node, by GPU-time (GPUs x true runtime), not by runtime:
//   1: submit 0,  4 GPUs, 100 s -> runs 0-100; meanwhile the rest arrive:
//   2: submit 10, 4 GPUs, 300 s (1,200 GPU-s)
//   3: submit 20, 4 GPUs, 100 s (  400 GPU-s)
//   4: submit 30, 2 GPUs, 100 s (  200 GPU-s)
//   5: submit 30, 4 GPUs,  60 s (  240 GPU-s; the shortest runtime, but not the least GPU-time)
// At 100 the order is 4, 5, 3, 2: 4 starts (100-200); 5 is blocked and reserved the node at
// 200; 3 and 2 need all 4 GPUs and wait. 5 runs 200-260, 3 260-360, 2 360-660.
// The time limits are all 1,000 s, so only the oracle runtimes tell the jobs apart.
TEST(Replay, SjfOrdersByGpuTime) {
  const Trace t =
      trace_of({trace_job(1, 0, 4, 100, "t", 1000), trace_job(2, 10, 4, 300, "t", 1000),
                trace_job(3, 20, 4, 100, "t", 1000), trace_job(4, 30, 2, 100, "t", 1000),
                trace_job(5, 30, 4, 60, "t", 1000)});
  const ReplayResult r = replay_ok(t, config_for(nodes(1, 4), Policy::kSjf));
  expect_schedule(r, t, {{1, 0, 100}, {2, 360, 660}, {3, 260, 360}, {4, 100, 200}, {5, 200, 260}});

  // With the limits alone (all 1,000 s), default orders by GPUs x limit: 4 (2,000) first, then
  // 2, 3 and 5 tie at 4,000 and go in submit order: 2 200-500, 3 500-600, 5 600-660.
  const ReplayResult d = replay_ok(t, config_for(nodes(1, 4), Policy::kDefault, Estimates::kLimit));
  expect_schedule(d, t, {{1, 0, 100}, {2, 200, 500}, {3, 500, 600}, {4, 100, 200}, {5, 600, 660}});
}

// default with a threshold of its own (--demote-after 1), not learned.
ReplayConfig fixed_demotion(core::ClusterConfig cluster) {
  ReplayConfig c = config_for(std::move(cluster), Policy::kDefault);
  c.adapt_demotion = false;
  return c;
}

// Least attained service (--demote-after 1: demoted after 1 GPU-hour, 30 s to restart from a
// checkpoint) on one node of 1 GPU:
//   1: submit 0,     1 GPU, 10,000 s -> runs from 0; demoted at 3,600 s.
//   2: submit 5,000, 1 GPU,    100 s -> has had nothing, so it preempts 1: 5,000-5,100.
// 1 resumes at 5,100 with 5,000 s of work left, after its 30 s restart: it ends at 10,130,
// having held the GPU for 10,030 s in two runs; its wait is to its first start (0).
// sjf preempts nothing: 2 waits for 1 to end, 10,000-10,100.
TEST(Replay, DefaultLetsANewJobPreemptOneThatHasRunLong) {
  const Trace t = trace_of({trace_job(1, 0, 1, 10'000), trace_job(2, 5'000, 1, 100)});
  const ReplayResult r = replay_ok(t, fixed_demotion(nodes(1, 1)));
  expect_schedule(r, t, {{1, 0, 10'130}, {2, 5'000, 5'100}});
  EXPECT_EQ(r.preemptions, 1);
  const JobOutcome& first = r.jobs[0].id == "1" ? r.jobs[0] : r.jobs[1];
  EXPECT_EQ(first.runs_s, (std::vector<std::pair<int64_t, int64_t>>{{0, 5'000}, {5'100, 10'130}}));
  EXPECT_EQ(first.run_s(), 10'030);

  const ReplayResult sjf = replay_ok(t, config_for(nodes(1, 1), Policy::kSjf));
  expect_schedule(sjf, t, {{1, 0, 10'000}, {2, 10'000, 10'100}});
  EXPECT_EQ(sjf.preemptions, 0);

  ReplayConfig off = fixed_demotion(nodes(1, 1));
  off.demote_after_gpu_s = 0;  // --demote-after 0: default without preemption
  expect_schedule(replay_ok(t, off), t, {{1, 0, 10'000}, {2, 10'000, 10'100}});

  // Learned (--demote-after auto), nothing is demoted before 100 jobs have finished.
  expect_schedule(replay_ok(t, config_for(nodes(1, 1), Policy::kDefault)), t,
                  {{1, 0, 10'000}, {2, 10'000, 10'100}});
}

// A gang is never stopped for least attained service: two 1-GPU nodes; 1 is a 2-GPU gang of
// 10,000 s, demoted after half an hour; 2, a 1-GPU job submitted at 5,000 s, waits for it.
TEST(Replay, DefaultNeverPreemptsAGang) {
  const Trace t = trace_of({trace_job(1, 0, 2, 10'000), trace_job(2, 5'000, 1, 100)});
  const ReplayResult r = replay_ok(t, fixed_demotion(nodes(2, 1)));
  expect_schedule(r, t, {{1, 0, 10'000}, {2, 10'000, 10'100}});
  EXPECT_EQ(r.preemptions, 0);
}

// Jobs alike (all 1-GPU, 2 to 4 hours): after the first 100 have finished, what a job that
// has run an hour still needs is no more than a new one needs, so the learned threshold is
// "never": the rest run as under easy, with no preemption. With a fixed threshold of 1
// GPU-hour the same jobs take turns.
TEST(Replay, DefaultLearnsNotToDemoteJobsThatAreAlike) {
  std::vector<TraceJob> jobs;
  for (int i = 0; i < 400; ++i)  // about 90% of the 4 GPUs
    jobs.push_back(trace_job(i + 1, int64_t{i} * 3'000, 1, 7'200 + (i * 7'919) % 7'200));
  const Trace t = trace_of(jobs);
  const ReplayResult learned = replay_ok(t, config_for(nodes(1, 4), Policy::kDefault));
  const ReplayResult easy = replay_ok(t, config_for(nodes(1, 4), Policy::kEasy));
  const ReplayResult fixed = replay_ok(t, fixed_demotion(nodes(1, 4)));
  EXPECT_EQ(learned.preemptions, 0);
  EXPECT_GT(fixed.preemptions, 0);
  const auto avg_jct = [](const ReplayResult& r) {
    return compute_metrics(r.jobs, r.total_gpus)["avg_jct_s"].get<double>();
  };
  EXPECT_LE(avg_jct(learned), avg_jct(easy) * 1.001);
  EXPECT_LT(avg_jct(learned), avg_jct(fixed));
}

// Jobs that vary enormously (one in 25 runs 20,000 s, the rest 300 s), planned without
// knowing it (no time limits): the learned threshold demotes, short jobs preempt the long ones
// once they have had an hour, and do better than under easy.
TEST(Replay, DefaultLearnsToDemoteWhereRuntimesVary) {
  std::vector<TraceJob> jobs;
  for (int i = 0; i < 1'000; ++i)  // about 78% of the 2 GPUs
    jobs.push_back(trace_job(i + 1, int64_t{i} * 700, 1, i % 25 == 0 ? 20'000 : 300, "t", 0));
  const Trace t = trace_of(jobs);
  const ReplayResult learned = replay_ok(t, config_for(nodes(1, 2), Policy::kDefault));
  const ReplayResult easy = replay_ok(t, config_for(nodes(1, 2), Policy::kEasy));
  EXPECT_GT(learned.preemptions, 0);
  const auto avg_jct = [](const ReplayResult& r) {
    return compute_metrics(r.jobs, r.total_gpus)["avg_jct_s"].get<double>();
  };
  EXPECT_LT(avg_jct(learned), avg_jct(easy));
}

// Starvation: on one 2-GPU node, shortest-first would keep a 2-GPU job behind a stream of
// 1-GPU jobs that always leaves one GPU busy; once it has waited the starvation limit
// (--starve-after 1 h here, learned only after 100 jobs) it goes first, gets the reservation,
// and starts within the limit plus one short job's run.
TEST(Replay, DefaultStartsAStarvingJobSoon) {
  std::vector<TraceJob> jobs = {trace_job(1, 0, 1, 1'000), trace_job(2, 10, 2, 1'000)};
  for (int i = 0; i < 40; ++i)  // 1-GPU jobs of 1,000 s every 500 s: two overlap at any time
    jobs.push_back(trace_job(i + 3, 500 + int64_t{i} * 500, 1, 1'000));
  const Trace t = trace_of(jobs);
  ReplayConfig config = fixed_demotion(nodes(1, 2));
  config.demote_after_gpu_s = 0;
  config.starve_after_s = 3'600;
  const ReplayResult r = replay_ok(t, config);
  const auto start_of_gang = [&](const ReplayResult& res) {
    for (const JobOutcome& o : res.jobs)
      if (o.gpus == 2) return o.start_s;
    return int64_t{-1};
  };
  EXPECT_GE(start_of_gang(r), 3'610);
  EXPECT_LE(start_of_gang(r), 3'610 + 1'000);
  config.starve_after_s = 0;
  EXPECT_GT(start_of_gang(replay_ok(t, config)), 3'610 + 1'000) << "without the limit it waits";
}

// Three 8-GPU nodes:
//   1: submit 0, 16 GPUs, 100 s -> a gang of 2 nodes, 0-100.
//   2: submit 0,  9 GPUs,  50 s -> 2 nodes of 5 GPUs (rounded up to 10, counted); only one
//      node is free, so it waits for 1: 100-150.
//   3: submit 5,  8 GPUs,  50 s -> the free node, ending at 55, before 2's reservation: 5-55.
TEST(Replay, JobsLargerThanANodeRunAsGangs) {
  const Trace t =
      trace_of({trace_job(1, 0, 16, 100), trace_job(2, 0, 9, 50), trace_job(3, 5, 8, 50)});
  const ReplayResult r = replay_ok(t, config_for(nodes(3, 8), Policy::kEasy));
  expect_schedule(r, t, {{1, 0, 100}, {2, 100, 150}, {3, 5, 55}});
  std::vector<int> gpus;
  for (const JobOutcome& o : r.jobs) gpus.push_back(o.gpus);
  EXPECT_EQ(gpus, (std::vector<int>{16, 10, 8}));  // 9 rounded up to 5 on each of 2 nodes
  EXPECT_EQ(r.gpus_rounded_up, 1);
  EXPECT_EQ(r.total_gpus, 24);
}

// Two 8-GPU nodes (16 GPUs): 24 GPUs (3 nodes) can never run; neither can 4 GPUs asked on 3
// nodes (more nodes than the cluster has). Both are skipped as too large; 3 takes the whole
// cluster, 0-10, and 4 (submitted at 5) follows it, 10-20.
TEST(Replay, JobsLargerThanTheClusterAreSkipped) {
  TraceJob three_nodes = trace_job(2, 0, 4, 10);
  three_nodes.nodes = 3;
  const Trace t = trace_of(
      {trace_job(1, 0, 24, 10), three_nodes, trace_job(3, 0, 16, 10), trace_job(4, 5, 1, 10)});
  const ReplayResult r = replay_ok(t, config_for(nodes(2, 8), Policy::kEasy));
  expect_schedule(r, t, {{3, 0, 10}, {4, 10, 20}});
  EXPECT_EQ(r.skipped_too_large, 2);
}

// The last jobs submitted to an idle cluster start at once: one 4-GPU node, job 1 (submit 0,
// 1 GPU, 10 s) runs 0-10; job 2 (submit 100, 1 GPU, 10 s) finds the node idle: 100-110.
TEST(Replay, LastJobOnAnIdleClusterStarts) {
  const Trace t = trace_of({trace_job(1, 0, 1, 10), trace_job(2, 100, 1, 10)});
  const ReplayResult r = replay_ok(t, config_for(nodes(1, 4), Policy::kEasy));
  expect_schedule(r, t, {{1, 0, 10}, {2, 100, 110}});
  EXPECT_EQ(r.never_started, 0);
}

// Pools of 4-GPU nodes: a has 1 node, b 2, d 3 (and no jobs); c has none.
//   a1: submit 0,  4 GPUs, 100 s -> 0-100;   a2: submit 10, 4 GPUs, 100 s -> waits for a1: 100-200.
//   b1: submit 0,  8 GPUs,  50 s -> both of b's nodes, 0-50;
//   b2: submit 10, 4 GPUs,  10 s -> waits for b1 (a's and d's free nodes are not b's): 50-60.
//   c1: skipped, counted. Capacity: 4 + 8 + 12 = 24 GPUs (d's pool counts though it is idle).
TEST(Replay, TenantPoolsAreIndependentClusters) {
  const Trace t = trace_of({trace_job(1, 0, 4, 100, "a"), trace_job(2, 0, 8, 50, "b"),
                            trace_job(3, 0, 1, 10, "c"), trace_job(4, 10, 4, 100, "a"),
                            trace_job(5, 10, 4, 10, "b")});
  ReplayConfig config = config_for(nodes(1, 4), Policy::kEasy);
  config.pools = {{"a", 1}, {"b", 2}, {"d", 3}};
  const ReplayResult r = replay_ok(t, config);
  expect_schedule(r, t, {{1, 0, 100}, {4, 100, 200}, {2, 0, 50}, {5, 50, 60}});
  EXPECT_EQ(r.skipped_no_pool, 1);
  EXPECT_EQ(r.total_gpus, 24);
  // Outcomes come back in submit order across pools (stable: pool order within a second).
  std::vector<std::string> ids;
  for (const JobOutcome& o : r.jobs) ids.push_back(o.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"1", "2", "4", "5"}));
  EXPECT_EQ(r.jobs[0].tenant, "a");
  EXPECT_EQ(r.jobs[1].tenant, "b");
}

TEST(Replay, AClusterWithoutNodesIsRefused) {
  EXPECT_FALSE(replay(blocked_head(), config_for(core::ClusterConfig{}, Policy::kEasy)).ok());
}

// Trace tenants are any text (spaces, slashes, numbers), which the engine's names may not be:
// they replay all the same, and outcomes name them as the trace does.
TEST(Replay, AnyTenantNameReplays) {
  const Trace t = trace_of({trace_job(1, 0, 1, 10, "team a/1"), trace_job(2, 0, 1, 10, "42"),
                            trace_job(3, 0, 1, 10, "")});
  const ReplayResult r = replay_ok(t, config_for(nodes(1, 4), Policy::kEasy));
  ASSERT_EQ(r.jobs.size(), 3u);
  EXPECT_EQ(r.jobs[0].tenant, "team a/1");
  EXPECT_EQ(r.jobs[1].tenant, "42");
  EXPECT_EQ(r.jobs[2].tenant, "");
}

// Prices of 10.0000 per GPU-hour (100,000 minor), a 70% scheme and tenant "lab" with an award.
Economics lab_economics(Minor award_minor, Minor wallet_minor) {
  Economics e;
  e.prices = {{"GPU", 100'000}};
  e.rate_bps = 7000;
  e.fund_minor = 1'000'000'000;
  e.tenants["lab"] = TenantMoney{award_minor, 1 << 20, 365, wallet_minor};
  return e;
}

// `trace` under EASY with limits on `cluster`, with `economics`.
ReplayResult replay_with(const Trace& trace, const Economics& economics,
                         core::ClusterConfig cluster) {
  ReplayConfig config = config_for(std::move(cluster), Policy::kEasy);
  config.economics = &economics;
  return replay_ok(trace, config);
}

// Three 1-GPU jobs of lab, an hour each, all submitted at 0.
Trace three_lab_hours() {
  return trace_of({trace_job(1, 0, 1, 3600, "lab"), trace_job(2, 0, 1, 3600, "lab"),
                   trace_job(3, 0, 1, 3600, "lab")});
}

TEST(Replay, AnEconomicsErrorNamesTheTenantAsTheTraceDoes) {
  Economics e;
  e.prices = {{"GPU", 100'000}};
  e.fund_minor = 0;  // nothing to grant the award from
  e.tenants["team a/1"] = TenantMoney{.award_minor = 1'000};
  ReplayConfig config = config_for(nodes(1, 1), Policy::kEasy);
  config.economics = &e;
  const Result<ReplayResult> r = replay(trace_of({trace_job(1, 0, 1, 10, "team a/1")}), config);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("economics: award for tenant 'team a/1': "),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find("tenant-"), std::string::npos) << r.status().message();
}

// One node of 2 GPUs, tenant lab with an award of 1,000.0000 (10,000,000 minor), wallet 100:
//   1: submit 0, 1 GPU, 3,600 s -> 0-3600;     cost 100,000, subsidy 70,000, copay 30,000.
//   2: submit 0, 2 GPUs, 1,800 s -> 3600-5400;  cost 100,000, subsidy 70,000, copay 30,000.
//   3: submit 0, 1 GPU,   900 s -> backfills 0-900; cost 25,000, subsidy 17,500, copay 7,500.
// Sums: cost 225,000, subsidy 157,500, copay 67,500; the award never runs out. Award money
// left, by job end: 10,000,000 at 0, 9,982,500 at 900, 9,912,500 at 3,600, 9,842,500 at 5,400.
TEST(Replay, EconomicsSplitsEachJobsCostAtTheSchemeRate) {
  const Trace t = trace_of({trace_job(1, 0, 1, 3600, "lab"), trace_job(2, 0, 2, 1800, "lab"),
                            trace_job(3, 0, 1, 900, "lab")});
  const ReplayResult r = replay_with(t, lab_economics(10'000'000, 1'000'000), nodes(1, 2));
  expect_schedule(r, t, {{1, 0, 3600}, {2, 3600, 5400}, {3, 0, 900}});
  const nlohmann::json& lab = r.money["lab"];
  EXPECT_EQ(lab["cost_minor"], 225'000);
  EXPECT_EQ(lab["subsidy_minor"], 157'500);
  EXPECT_EQ(lab["copay_minor"], 67'500);
  EXPECT_TRUE(lab["award_ran_out_s"].is_null());
  ASSERT_EQ(r.jobs.size(), 3u);
  EXPECT_EQ(r.jobs[0].cost_minor, 100'000);
  EXPECT_EQ(r.jobs[0].subsidy_minor, 70'000);
  EXPECT_EQ(r.jobs[2].cost_minor, 25'000);
  EXPECT_EQ(r.jobs[2].subsidy_minor, 17'500);
  ASSERT_EQ(r.awards.size(), 1u);
  EXPECT_EQ(r.awards[0].tenant, "lab");
  const std::vector<std::pair<int64_t, int64_t>> left = {
      {0, 10'000'000}, {900, 9'982'500}, {3600, 9'912'500}, {5400, 9'842'500}};
  EXPECT_EQ(r.awards[0].left_minor, left);
  EXPECT_EQ(r.jobs_delayed_by_funds, 0);
}

// One node of 1 GPU, an award of 10.0000 (100,000 minor), wallet 100, shortfall = wallet;
// three 1-GPU jobs of 3,600 s (cost 100,000 each) submitted at 0 run one after another:
//   1: 0-3600, subsidy 70,000: 30,000 of the award left, less than the next job's 70,000 share;
//   2: 3600-7200 and 3: 7200-10800 run unsubsidised; the wallet pays 100,000 each.
// Sums: cost 300,000, subsidy 70,000, copay 230,000; the award ran out at 3,600 (2's start).
TEST(Replay, AnAwardTooSmallRunsOutAtTheFirstUnsubsidisedStart) {
  const Trace t = three_lab_hours();
  const ReplayResult r = replay_with(t, lab_economics(100'000, 1'000'000), nodes(1, 1));
  expect_schedule(r, t, {{1, 0, 3600}, {2, 3600, 7200}, {3, 7200, 10800}});
  const nlohmann::json& lab = r.money["lab"];
  EXPECT_EQ(lab["cost_minor"], 300'000);
  EXPECT_EQ(lab["subsidy_minor"], 70'000);
  EXPECT_EQ(lab["copay_minor"], 230'000);
  EXPECT_EQ(lab["award_ran_out_s"], 3600);
  ASSERT_EQ(r.awards.size(), 1u);
  const std::vector<std::pair<int64_t, int64_t>> left = {{0, 100'000}, {3600, 30'000}};
  EXPECT_EQ(r.awards[0].left_minor, left);
}

// The same with shortfall = wait and a one-day award: after job 1, jobs 2 and 3 wait for
// money (the award cannot cover their share) until the award ends at 86,400; then, with no
// award, the wallet pays all: 2 runs 86400-90000 and 3 90000-93600, both delayed by funds.
TEST(Replay, ShortfallWaitHoldsJobsUntilTheAwardEnds) {
  const Trace t = three_lab_hours();
  Economics e = lab_economics(100'000, 1'000'000);
  e.shortfall = core::Shortfall::kWait;
  e.tenants["lab"].award_days = 1;
  const ReplayResult r = replay_with(t, e, nodes(1, 1));
  expect_schedule(r, t, {{1, 0, 3600}, {2, 86400, 90000}, {3, 90000, 93600}});
  EXPECT_EQ(r.jobs_delayed_by_funds, 2);
  const std::map<std::string, int64_t> by = {{"InsufficientFunds", 2}};
  EXPECT_EQ(r.delayed_by, by);
  EXPECT_EQ(r.money["lab"]["subsidy_minor"], 70'000);
  // With job 1's share held, the award could not cover another at once: it ran out at 0.
  EXPECT_EQ(r.money["lab"]["award_ran_out_s"], 0);
}

// A tenant with neither award nor wallet cannot pay for any job at a non-zero price: its jobs
// never start and are counted, as never started and as delayed by money; other tenants run.
TEST(Replay, JobsNobodyCanPayForNeverStart) {
  const Trace t = trace_of({trace_job(1, 0, 1, 60, "lab"), trace_job(2, 0, 1, 60, "broke")});
  const ReplayResult r = replay_with(t, lab_economics(100'000, 1'000'000), nodes(1, 2));
  expect_schedule(r, t, {{1, 0, 60}});
  EXPECT_EQ(r.never_started, 1);
  EXPECT_EQ(r.jobs_delayed_by_funds, 1);  // a job that never started was delayed, too
  const std::map<std::string, int64_t> by = {{"InsufficientFunds", 1}};
  EXPECT_EQ(r.delayed_by, by);
}

// An award of plenty with a GPU level of 1 on one node of 2 GPUs; two 1-GPU jobs of an hour at
// 0. The award pays for job 1; job 2 would take its GPUs to 2. Under shortfall = wallet job 2
// runs at once, paid in full by the wallet (cost 100,000, subsidy 0), nothing is delayed, and
// the award has not run out.
TEST(Replay, AnAwardsGpuLevelDoesNotHoldBackJobsTheWalletPays) {
  const Trace t = trace_of({trace_job(1, 0, 1, 3600, "lab"), trace_job(2, 0, 1, 3600, "lab")});
  Economics e = lab_economics(10'000'000, 1'000'000);
  e.tenants["lab"].gpu_level = 1;
  const ReplayResult r = replay_with(t, e, nodes(1, 2));
  expect_schedule(r, t, {{1, 0, 3600}, {2, 0, 3600}});
  ASSERT_EQ(r.jobs.size(), 2u);
  EXPECT_EQ(r.jobs[0].subsidy_minor, 70'000);
  EXPECT_EQ(r.jobs[1].subsidy_minor, 0);
  EXPECT_EQ(r.jobs[1].cost_minor, 100'000);
  EXPECT_EQ(r.jobs_delayed_by_funds, 0);
  EXPECT_TRUE(r.delayed_by.empty());
  EXPECT_TRUE(r.money["lab"]["award_ran_out_s"].is_null());  // it had the money throughout
}

// The same under shortfall = wait: job 2 waits for AwardCap until job 1 ends at 3,600, then the
// award pays for it; it is counted as delayed by money, under AwardCap.
TEST(Replay, UnderShortfallWaitAJobOverTheLevelWaitsAndIsCountedUnderAwardCap) {
  const Trace t = trace_of({trace_job(1, 0, 1, 3600, "lab"), trace_job(2, 0, 1, 3600, "lab")});
  Economics e = lab_economics(10'000'000, 1'000'000);
  e.tenants["lab"].gpu_level = 1;
  e.shortfall = core::Shortfall::kWait;
  const ReplayResult r = replay_with(t, e, nodes(1, 2));
  expect_schedule(r, t, {{1, 0, 3600}, {2, 3600, 7200}});
  EXPECT_EQ(r.jobs[1].subsidy_minor, 70'000);
  EXPECT_EQ(r.jobs_delayed_by_funds, 1);
  const std::map<std::string, int64_t> by = {{"AwardCap", 1}};
  EXPECT_EQ(r.delayed_by, by);
}

// A job of 2 GPUs against an award level of 1 is not too large (the cluster has 2): it runs,
// paid by the wallet, under either shortfall rule.
TEST(Replay, AJobLargerThanTheAwardsLevelRunsPaidByTheWallet) {
  for (core::Shortfall rule : {core::Shortfall::kWallet, core::Shortfall::kWait}) {
    SCOPED_TRACE(core::shortfall_name(rule));
    const Trace t = trace_of({trace_job(1, 0, 2, 3600, "lab")});
    Economics e = lab_economics(10'000'000, 1'000'000);
    e.tenants["lab"].gpu_level = 1;
    e.shortfall = rule;
    const ReplayResult r = replay_with(t, e, nodes(1, 2));
    expect_schedule(r, t, {{1, 0, 3600}});
    EXPECT_EQ(r.skipped_too_large, 0);
    EXPECT_EQ(r.jobs[0].cost_minor, 200'000);
    EXPECT_EQ(r.jobs[0].subsidy_minor, 0);
  }
}

// A submit the engine refuses for another reason than size is counted as refused, with why.
// At a price of 4e18 minor per GPU-hour two hours of 2 GPUs are more than the ledger can hold.
TEST(Replay, ASubmitRefusedForAnotherReasonIsCountedApartFromTooLarge) {
  const Trace t = trace_of({trace_job(7, 0, 2, 7200, "lab"), trace_job(8, 0, 4, 3600, "lab")});
  Economics e = lab_economics(10'000'000, 1'000'000);
  e.prices = {{"GPU", 4'000'000'000'000'000'000}};
  const ReplayResult r = replay_with(t, e, nodes(1, 2));
  EXPECT_EQ(r.skipped_too_large, 1);  // job 8: 4 GPUs on a cluster of 2
  EXPECT_EQ(r.skipped_refused, 1);    // job 7
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("job 7 refused at submit: "), std::string::npos) << r.notes[0];
  EXPECT_NE(r.notes[0].find("too large to hold"), std::string::npos) << r.notes[0];
}

// A job without a time limit holds price x GPUs x hold_hours. Award 1.5000 (150,000 minor),
// one 1-GPU job of an hour without a limit: with hold_hours = 2 it holds 200,000, whose 70%
// share (140,000) the award covers, so it is subsidised (70,000 of its 100,000); with the default
// of 24 hours the share (1,680,000) is more than the award, and the wallet pays all.
TEST(Replay, AJobWithoutALimitHoldsForTheSchemesHoldHours) {
  const Trace t = trace_of({trace_job(1, 0, 1, 3600, "lab", 0)});
  Economics e = lab_economics(150'000, 10'000'000);
  e.hold_hours = 2;
  ReplayResult r = replay_with(t, e, nodes(1, 1));
  expect_schedule(r, t, {{1, 0, 3600}});
  EXPECT_EQ(r.jobs[0].subsidy_minor, 70'000);
  e.hold_hours = Economics::kDefaultHoldHours;
  r = replay_with(t, e, nodes(1, 1));
  expect_schedule(r, t, {{1, 0, 3600}});
  EXPECT_EQ(r.jobs[0].cost_minor, 100'000);
  EXPECT_EQ(r.jobs[0].subsidy_minor, 0);
}

// It is never stopped at its hold: a job of 3 hours without a limit, holding 2, runs its 3
// hours and is charged what it held (2 hours: 200,000).
TEST(Replay, AJobWithoutALimitRunsPastItsHoldAndIsChargedWhatItHeld) {
  const Trace t = trace_of({trace_job(1, 0, 1, 3 * 3600, "lab", 0)});
  Economics e = lab_economics(10'000'000, 10'000'000);
  e.hold_hours = 2;
  const ReplayResult r = replay_with(t, e, nodes(1, 1));
  expect_schedule(r, t, {{1, 0, 3 * 3600}});
  EXPECT_EQ(r.jobs[0].cost_minor, 200'000);
}

// A few hundred jobs of three tenants over four days, from a fixed linear congruential
// sequence: 1 to 8 GPUs, runs of a minute to ten hours, a third without a time limit.
Trace generated_trace(int jobs) {
  Trace t;
  uint64_t x = 12345;
  auto next = [&x](uint64_t below) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int64_t>((x >> 33) % below);
  };
  int64_t submit_s = 0;
  for (int i = 1; i <= jobs; ++i) {
    submit_s += next(1200);
    const int64_t runtime_s = 60 + next(36'000);
    const int64_t limit_s = next(3) == 0 ? 0 : runtime_s + next(7200);
    t.jobs.push_back(trace_job(i, submit_s, 1 + static_cast<int>(next(8)), runtime_s,
                               std::string(1, static_cast<char>('a' + next(3))), limit_s));
  }
  return t;
}

// Money that no job is short of changes no decision: under default and easy, every job starts
// and ends (each run) exactly as without economics, though every tenant's award (gpu_level
// above the cluster) ends on day 2, in the middle of the trace.
TEST(Replay, AmpleMoneyChangesNothing) {
  const Trace t = generated_trace(300);
  Economics e;
  e.prices = {{"GPU", 25'000}};
  e.fund_minor = int64_t{1} << 50;
  e.others = TenantMoney{.award_minor = int64_t{1} << 40,
                         .gpu_level = 1 << 20,
                         .award_days = 2,
                         .wallet_minor = int64_t{1} << 40};
  for (Policy p : {Policy::kDefault, Policy::kEasy}) {
    SCOPED_TRACE(policy_name(p));
    ReplayConfig config = config_for(nodes(4, 8), p, Estimates::kPredict);
    const ReplayResult without = replay_ok(t, config);
    config.economics = &e;
    const ReplayResult with = replay_ok(t, config);
    ASSERT_EQ(without.jobs.size(), t.jobs.size());
    ASSERT_EQ(with.jobs.size(), without.jobs.size());
    EXPECT_EQ(with.jobs_delayed_by_funds, 0);
    int64_t subsidy = 0;
    for (size_t k = 0; k < with.jobs.size(); ++k) {
      const JobOutcome& a = without.jobs[k];
      const JobOutcome& b = with.jobs[k];
      SCOPED_TRACE("job " + std::to_string(k));
      EXPECT_EQ(a.id, b.id);
      EXPECT_EQ(a.submit_s, b.submit_s);
      EXPECT_EQ(a.start_s, b.start_s);
      EXPECT_EQ(a.end_s, b.end_s);
      EXPECT_EQ(a.runs_s, b.runs_s);
      subsidy += b.subsidy_minor;
    }
    EXPECT_GT(subsidy, 0);  // the money moved
  }
}

// ---------------------------------------------------------------------------------------------
// Real traces

Trace read_real(const std::string& relative, TraceFormat format, const TraceOptions& options = {}) {
  Result<Trace> t = read_trace((real_traces() / relative).string(), format, options);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : Trace{};
}

// The first `n` jobs of KTH-SP2 (100 nodes of one processor, here one GPU).
Trace kth_head(size_t n) {
  Trace t = read_real("swf/KTH-SP2-1996-2.1-cln.swf", TraceFormat::kSwf);
  if (t.jobs.size() > n) t.jobs.resize(n);
  return t;
}

// One week of Philly, Oct 1-7 2017.
Trace philly_week() {
  TraceOptions options;
  options.from_epoch_s = *parse_utc_timestamp_s("2017-10-01 00:00:00");
  options.to_epoch_s = *parse_utc_timestamp_s("2017-10-08 00:00:00");
  return read_real("philly/jobs.csv", TraceFormat::kPhilly, options);
}

// What every replay must keep: each job ends once, starts no earlier than it was submitted,
// runs exactly its runtime (or until its time limit) — a job preempted and resumed from its
// checkpoint, in runs that add up to its runtime and a restart for each resumption — and
// the GPUs in use never exceed the cluster's at any instant (ends before starts at the same
// second); utilisation in (0, 1]. `expected_jobs` counts the jobs that ran and those that
// never started.
void expect_invariants(const Trace& trace, const ReplayResult& r, size_t expected_jobs) {
  const int64_t restart_s = ReplayConfig{}.restart_overhead_s;
  EXPECT_EQ(r.jobs.size() + static_cast<size_t>(r.never_started), expected_jobs);
  std::map<std::string, const TraceJob*> by_id;
  for (const TraceJob& j : trace.jobs) by_id[j.id] = &j;
  std::vector<std::pair<int64_t, int64_t>> events;  // (time, GPU change)
  std::map<std::string, int> seen;
  for (const JobOutcome& o : r.jobs) {
    ASSERT_EQ(++seen[o.id], 1) << "job " << o.id << " ran twice";
    const TraceJob& t = *by_id.at(o.id);
    ASSERT_EQ(o.submit_s, t.submit_s) << "job " << o.id;
    ASSERT_GE(o.start_s, o.submit_s) << "job " << o.id;
    const int64_t runs_s = t.time_limit_s > 0 ? std::min(t.runtime_s, t.time_limit_s) : t.runtime_s;
    ASSERT_GE(o.gpus, t.gpus) << "job " << o.id;
    if (o.runs_s.empty()) {
      ASSERT_EQ(o.end_s - o.start_s, runs_s) << "job " << o.id;
      events.push_back({o.start_s, o.gpus});
      events.push_back({o.end_s, -o.gpus});
      continue;
    }
    ASSERT_EQ(o.run_s(), runs_s + restart_s * static_cast<int64_t>(o.runs_s.size() - 1))
        << "job " << o.id;
    ASSERT_EQ(o.runs_s.front().first, o.start_s) << "job " << o.id;
    ASSERT_EQ(o.runs_s.back().second, o.end_s) << "job " << o.id;
    for (size_t k = 0; k < o.runs_s.size(); ++k) {
      if (k > 0) {
        ASSERT_GE(o.runs_s[k].first, o.runs_s[k - 1].second) << "job " << o.id;
      }
      events.push_back({o.runs_s[k].first, o.gpus});
      events.push_back({o.runs_s[k].second, -o.gpus});
    }
  }
  std::sort(events.begin(), events.end());  // at one time, ends (negative) first
  int64_t busy = 0, peak = 0;
  for (const auto& [at_s, change] : events) {
    busy += change;
    peak = std::max(peak, busy);
  }
  EXPECT_EQ(busy, 0);
  EXPECT_LE(peak, r.total_gpus);
  EXPECT_GT(peak, 0);
  const nlohmann::json m = compute_metrics(r.jobs, r.total_gpus);
  EXPECT_GT(m["utilization"].get<double>(), 0.0);
  EXPECT_LE(m["utilization"].get<double>(), 1.0);
}

TEST(ReplayRealTrace, KthHeadUnderEasyKeepsTheInvariants) {
  SKIP_WITHOUT_REAL_TRACES();
  const Trace t = kth_head(2000);
  ASSERT_EQ(t.jobs.size(), 2000u);
  for (Policy p : {Policy::kFifo, Policy::kEasy, Policy::kSjf}) {
    SCOPED_TRACE(policy_name(p));
    const ReplayResult r = replay_ok(t, config_for(nodes(100, 1), p, Estimates::kLimit));
    expect_invariants(t, r, t.jobs.size());
    EXPECT_EQ(r.never_started, 0);
    EXPECT_EQ(r.total_gpus, 100);
  }
}

TEST(ReplayRealTrace, PhillyWeekOnSharedNodesKeepsTheInvariants) {
  SKIP_WITHOUT_REAL_TRACES();
  const Trace t = philly_week();
  ASSERT_GT(t.jobs.size(), 1000u);
  const ReplayResult r =
      replay_ok(t, config_for(nodes(64, 8), Policy::kDefault, Estimates::kPredict));
  expect_invariants(t, r, t.jobs.size() - static_cast<size_t>(r.skipped_too_large));
  EXPECT_EQ(r.never_started, 0);
  EXPECT_EQ(r.total_gpus, 512);
  EXPECT_GT(r.preemptions, 0);  // busy enough for least attained service to stop long jobs
  EXPECT_TRUE(std::any_of(r.jobs.begin(), r.jobs.end(),
                          [](const JobOutcome& o) { return o.runs_s.size() > 1; }));
}

// Money with preemption: every VC has an award that ends on day 3, so jobs preempted before
// it and resumed after run partly subsidised; the books must still verify (replay checks
// Engine::verify) and every tenant's subsidy and co-payment add up to its cost.
TEST(ReplayRealTrace, PhillyWeekWithMoneyAndPreemptionKeepsTheBooks) {
  SKIP_WITHOUT_REAL_TRACES();
  const Trace t = philly_week();
  Economics e;
  e.prices = {{"GPU", 25'000}};
  e.rate_bps = 7000;
  e.fund_minor = int64_t{1} << 50;
  e.others = TenantMoney{.award_minor = int64_t{1} << 40,
                         .gpu_level = 1 << 20,
                         .award_days = 3,
                         .wallet_minor = int64_t{1} << 40};
  ReplayConfig config = config_for(nodes(64, 8), Policy::kDefault, Estimates::kPredict);
  config.economics = &e;
  const ReplayResult r = replay_ok(t, config);
  expect_invariants(t, r, t.jobs.size() - static_cast<size_t>(r.skipped_too_large));
  EXPECT_GT(r.preemptions, 0);
  int64_t subsidy = 0;
  for (const auto& [tenant, m] : r.money.items()) {
    EXPECT_EQ(m["subsidy_minor"].get<int64_t>() + m["copay_minor"].get<int64_t>(),
              m["cost_minor"].get<int64_t>())
        << tenant;
    subsidy += m["subsidy_minor"].get<int64_t>();
  }
  EXPECT_GT(subsidy, 0);
}

TEST(ReplayRealTrace, PhillyWeekOnTenantPoolsKeepsTheInvariants) {
  SKIP_WITHOUT_REAL_TRACES();
  const Trace t = philly_week();
  Result<std::vector<std::pair<std::string, int>>> pools =
      read_tenant_pools((real_traces() / "philly" / "philly_vc_nodes.csv").string());
  ASSERT_TRUE(pools.ok()) << pools.status().ToString();
  ReplayConfig config = config_for(nodes(1, 8), Policy::kDefault, Estimates::kPredict);
  config.pools = *pools;
  const ReplayResult r = replay_ok(t, config);
  expect_invariants(t, r,
                    t.jobs.size() - static_cast<size_t>(r.skipped_no_pool + r.skipped_too_large));
  EXPECT_EQ(r.total_gpus, 2816);
  EXPECT_EQ(r.never_started, 0);  // 11cb48's pool is idle at its last submit: that job too
}

bool same_outcomes(const std::vector<JobOutcome>& a, const std::vector<JobOutcome>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const JobOutcome& x, const JobOutcome& y) {
                      return x.id == y.id && x.tenant == y.tenant && x.submit_s == y.submit_s &&
                             x.start_s == y.start_s && x.end_s == y.end_s && x.gpus == y.gpus &&
                             x.cost_minor == y.cost_minor && x.subsidy_minor == y.subsidy_minor &&
                             x.waited_for_funds == y.waited_for_funds;
                    });
}

// Multifactor priority (age, decayed fair share) is the policy most exposed to when passes run;
// two replays of the same input must still agree job for job.
TEST(ReplayRealTrace, TwoReplaysGiveIdenticalOutcomes) {
  SKIP_WITHOUT_REAL_TRACES();
  const Trace t = kth_head(2000);
  const ReplayConfig config = config_for(nodes(100, 1), Policy::kMultifactor, Estimates::kPredict);
  const ReplayResult a = replay_ok(t, config);
  const ReplayResult b = replay_ok(t, config);
  ASSERT_EQ(a.jobs.size(), t.jobs.size());
  EXPECT_TRUE(same_outcomes(a.jobs, b.jobs));
}

TEST(Replay, TwoReplaysOfAHandMadeTraceAreIdentical) {
  const Trace t = blocked_head();
  Economics e = lab_economics(100'000, 1'000'000);
  e.others = e.tenants["lab"];  // blocked_head's tenant "t" has the same award and wallet
  for (Policy p :
       {Policy::kFifo, Policy::kEasy, Policy::kMultifactor, Policy::kSjf, Policy::kDefault}) {
    ReplayConfig config = config_for(nodes(1, 4), p, Estimates::kPredict);
    config.economics = &e;
    const ReplayResult a = replay_ok(t, config);
    const ReplayResult b = replay_ok(t, config);
    EXPECT_TRUE(same_outcomes(a.jobs, b.jobs)) << policy_name(p);
    EXPECT_EQ(a.money, b.money) << policy_name(p);
  }
}

TEST(ReplayNames, NameEveryPolicyAndEstimate) {
  enum_testing::expect_every_enumerator_named(kPolicyNames);
  enum_testing::expect_every_enumerator_named(kEstimatesNames);
  EXPECT_STREQ(policy_name(Policy::kMultifactor), "multifactor");
  EXPECT_STREQ(estimates_name(Estimates::kOracle), "oracle");
}

}  // namespace
}  // namespace berth::sim
