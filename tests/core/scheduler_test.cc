// The scheduler on its own: queue order, first fit, and the reasons jobs wait.
#include "core/scheduler.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "core/model_names.h"
#include "core/priority.h"

namespace berth::core {
namespace {

Cluster make_cluster() {
  ClusterConfig c;
  c.nodes = {Node{NodeId(), "a", "A100", 4, 0, 0, NodeState::kUp},
             Node{NodeId(), "b", "H100", 8, 0, 0, NodeState::kUp}};
  c.prices = {{"A100", 1}, {"H100", 2}};
  c.partitions = {Partition{"gpu", 3600, 60, true}};
  return std::move(*Cluster::Create(c));
}

// A host that keeps jobs in a map and records what the scheduler tells it. `start` admits
// every job that fits unless its id is refused; without it, admission says yes and starts
// nothing. `stops`, when set, lets the pass preempt and receives the jobs it asks to stop.
class FakeHost : public SchedulerHost {
 public:
  FakeHost(std::map<uint64_t, Job>& jobs, Cluster& cluster, Scheduler& scheduler, int64_t now)
      : jobs_(jobs), cluster_(cluster), scheduler_(scheduler), now_(now) {}
  Job& job(JobId id) override { return jobs_.at(id.value); }
  PendingReason admit(Job& job, const std::vector<NodeId>& nodes) override {
    if (!start) return PendingReason::kNone;
    if (refused != nullptr && refused->count(job.id.value))
      return PendingReason::kInsufficientFunds;
    job.node = nodes[0];
    job.gpu_ids = cluster_.allocate(nodes[0], job.gpus_per_node());
    for (size_t i = 1; i < nodes.size(); ++i)
      job.more_nodes.push_back({nodes[i], cluster_.allocate(nodes[i], job.gpus_per_node())});
    job.state = JobState::kRunning;
    job.start_ms = now_;
    if (tell_running) scheduler_.running(job);
    return PendingReason::kNone;
  }
  void wait(Job& job, PendingReason r, int64_t expected) override {
    job.reason = r;
    job.expected_start_ms = expected;
  }
  PendingReason refusal(const Job& job) override {
    return refuse_outright ? refuse_outright(job) : PendingReason::kNone;
  }
  bool can_preempt() const override { return stops != nullptr; }
  void preempt(Job& victim) override {
    victim.preempt_requested = true;
    stops->push_back(victim.id);
  }

  bool start = true;
  bool tell_running = true;
  const std::set<uint64_t>* refused = nullptr;
  std::function<PendingReason(const Job&)> refuse_outright;
  std::vector<JobId>* stops = nullptr;

 private:
  std::map<uint64_t, Job>& jobs_;
  Cluster& cluster_;
  Scheduler& scheduler_;
  int64_t now_;
};

class SchedulerTest : public ::testing::Test {
 protected:
  Job& add(int gpus, Tier tier, int64_t submit_ms, const std::string& model = "",
           int64_t limit_s = 3600, int nodes = 1) {
    Job j;
    j.nodes = nodes;
    j.time_limit_s = limit_s;
    j.priority = tier == Tier::kHigh ? 100 : tier == Tier::kNormal ? 50 : 0;
    j.id = JobId(jobs.size() + 1);
    j.gpus = gpus;
    j.tier = tier;
    j.submit_ms = submit_ms;
    j.gpu_model = model;
    jobs[j.id.value] = j;
    scheduler.enqueue(j);
    return jobs[j.id.value];
  }
  FakeHost host() { return FakeHost(jobs, cluster, scheduler, now); }
  // Admits everything that fits, unless its id is refused.
  std::vector<JobId> pass() {
    FakeHost h = host();
    h.refused = &refused;
    return scheduler.pass(cluster, now, h);
  }

  // A pass that starts nothing and records the jobs it asks to stop.
  void pass_preempting(std::vector<JobId>* preempted) {
    FakeHost h = host();
    h.start = false;
    h.stops = preempted;
    scheduler.pass(cluster, now, h);
  }

  Cluster cluster = make_cluster();
  Scheduler scheduler;
  std::map<uint64_t, Job> jobs;
  std::set<uint64_t> refused;
  int64_t now = 1'000'000;
};

TEST_F(SchedulerTest, StartsInTierThenSubmitOrder) {
  add(8, Tier::kSpot, 1);
  add(8, Tier::kNormal, 3);
  add(8, Tier::kHigh, 5);
  const auto started = pass();
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0], JobId(3));  // high first, on the only 8-GPU node
  EXPECT_EQ(jobs[2].reason, PendingReason::kResources);
  EXPECT_EQ(jobs[1].reason, PendingReason::kPriority);
  EXPECT_EQ(scheduler.pending(), 2u);
}

TEST_F(SchedulerTest, FirstFitFillsTheFirstNodeThatFits) {
  add(3, Tier::kNormal, 1);
  add(2, Tier::kNormal, 2);  // does not fit beside the first on node a (4 GPUs)
  add(1, Tier::kNormal, 3);
  pass();
  EXPECT_EQ(cluster.node(jobs[1].node)->name, "a");
  EXPECT_EQ(cluster.node(jobs[2].node)->name, "b");
  EXPECT_EQ(cluster.node(jobs[3].node)->name, "a");
  EXPECT_EQ(jobs[3].gpu_ids, std::vector<int>{3});
}

TEST_F(SchedulerTest, GpuModelConstraintIsHonoured) {
  add(1, Tier::kNormal, 1, "H100");
  pass();
  EXPECT_EQ(cluster.node(jobs[1].node)->name, "b");
}

TEST_F(SchedulerTest, AModelListTakesTheCheapestModelWithRoom) {
  Job& either = add(4, Tier::kNormal, 1, "H100|A100");
  Job& second = add(4, Tier::kNormal, 2, "A100|H100");
  Job& third = add(4, Tier::kNormal, 3, "A100|H100");
  EXPECT_EQ(pass().size(), 3u);
  EXPECT_EQ(cluster.node(either.node)->name, "a");  // A100 is the cheaper
  EXPECT_EQ(cluster.node(second.node)->name, "b");  // a is full: the other model
  EXPECT_EQ(cluster.node(third.node)->name, "b");
  Job& none = add(1, Tier::kNormal, 4, "A100|H100");
  EXPECT_TRUE(pass().empty());
  EXPECT_EQ(none.reason, PendingReason::kResources);
}

TEST_F(SchedulerTest, DrainedAndDownNodesTakeNoJobs) {
  cluster.set_state(NodeId(2), NodeState::kDrain);
  add(8, Tier::kNormal, 1);
  EXPECT_TRUE(pass().empty());
  EXPECT_EQ(jobs[1].reason, PendingReason::kResources);
}

TEST_F(SchedulerTest, AJobRefusedForMoneyDoesNotBlockTheNext) {
  add(1, Tier::kNormal, 1);
  add(1, Tier::kNormal, 2);
  refused.insert(1);
  const auto started = pass();
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0], JobId(2));
  EXPECT_EQ(jobs[1].reason, PendingReason::kInsufficientFunds);
}

TEST_F(SchedulerTest, NeverMoreGpusThanTheClusterHas) {
  for (int i = 0; i < 20; ++i) add(1, Tier::kNormal, i);
  EXPECT_EQ(pass().size(), 12u);
  EXPECT_EQ(cluster.used_gpus(), 12);
  EXPECT_EQ(scheduler.pending(), 8u);
}

TEST_F(SchedulerTest, BestFitKeepsWholeNodesFree) {
  cluster = [] {
    ClusterConfig c;
    c.nodes = {Node{NodeId(), "a", "H100", 8, 0, 0, NodeState::kUp},
               Node{NodeId(), "b", "H100", 8, 0, 0, NodeState::kUp}};
    c.prices = {{"H100", 2}};
    c.partitions = {Partition{"gpu", 3600, 60, true}};
    return std::move(*Cluster::Create(c));
  }();
  add(6, Tier::kNormal, 1);
  add(2, Tier::kNormal, 2);
  add(8, Tier::kNormal, 3);
  EXPECT_EQ(pass().size(), 3u);
  EXPECT_EQ(cluster.node(jobs[1].node)->name, "a");
  EXPECT_EQ(cluster.node(jobs[2].node)->name, "a");  // the tightest fit, not the empty node
  EXPECT_EQ(cluster.node(jobs[3].node)->name, "b");
}

// One 8-GPU node (b) busy with 6 GPUs for an hour. The top job needs all 8: it is reserved
// node b in an hour. A short job that ends before then may use the 2 free GPUs; a long one may not.
TEST_F(SchedulerTest, EasyBackfillStartsOnlyJobsThatCannotDelayTheReservation) {
  add(6, Tier::kHigh, 0, "H100", 3600);
  add(4, Tier::kHigh, 0, "A100", 3600);  // fills node a
  EXPECT_EQ(pass().size(), 2u);
  Job& big = add(8, Tier::kHigh, 1, "H100", 3600);
  Job& long_job = add(2, Tier::kNormal, 2, "H100", 7200);
  Job& short_job = add(2, Tier::kNormal, 3, "H100", 1800);
  now += 1000;
  const auto started = pass();
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0], short_job.id);
  EXPECT_EQ(big.reason, PendingReason::kResources);
  EXPECT_EQ(big.expected_start_ms, now - 1000 + 3600 * 1000);
  EXPECT_EQ(long_job.reason, PendingReason::kPriority);
  EXPECT_EQ(long_job.state, JobState::kPending);
}

TEST_F(SchedulerTest, ReservationIsOnTheNodeThatFreesFirst) {
  add(4, Tier::kHigh, 0, "A100", 600);   // node a, ends in 10 min
  add(8, Tier::kHigh, 0, "H100", 3600);  // node b, ends in 1 h
  pass();
  Job& next = add(4, Tier::kHigh, 1, "", 60);
  pass();
  EXPECT_EQ(next.reason, PendingReason::kResources);
  EXPECT_EQ(next.expected_start_ms, now + 600 * 1000);
}

TEST_F(SchedulerTest, WithoutBackfillLowerJobsStartGreedily) {
  scheduler = Scheduler(Scheduler::Options{.backfill = false, .depth = 0});
  add(6, Tier::kHigh, 0, "H100", 3600);
  pass();
  Job& big = add(8, Tier::kHigh, 1, "H100", 3600);
  Job& long_job = add(2, Tier::kNormal, 2, "H100", 7200);
  pass();
  EXPECT_EQ(big.expected_start_ms, 0);
  EXPECT_EQ(long_job.state, JobState::kRunning);
}

// Eight H100 nodes: n1-n2 in NVLink domain d1, n3-n5 in d2, n6-n8 in d3.
Cluster topology_cluster() {
  ClusterConfig c;
  const char* domains[] = {"d1", "d1", "d2", "d2", "d2", "d3", "d3", "d3"};
  for (int i = 0; i < 8; ++i) {
    Node n{NodeId(), "n" + std::to_string(i + 1), "H100", 8, 0, 0, NodeState::kUp};
    n.domain = domains[i];
    c.nodes.push_back(n);
  }
  c.prices = {{"H100", 2}};
  c.partitions = {Partition{"gpu", 86'400, 60, true}};
  return std::move(*Cluster::Create(c));
}

std::vector<std::string> node_names(const Cluster& cluster, const Job& job) {
  std::vector<std::string> out;
  if (job.node.valid()) out.push_back(cluster.node(job.node)->name);
  for (const Placement& p : job.more_nodes) out.push_back(cluster.node(p.node)->name);
  return out;
}

using Names = std::vector<std::string>;

TEST_F(SchedulerTest, AGangStartsOnAllItsNodesAtOnce) {
  cluster = topology_cluster();
  Job& gang = add(16, Tier::kNormal, 1, "", 3600, 2);
  ASSERT_EQ(pass().size(), 1u);
  EXPECT_EQ(node_names(cluster, gang), (Names{"n1", "n2"}));
  EXPECT_EQ(gang.gpu_ids, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(gang.more_nodes[0].gpu_ids.size(), 8u);
  EXPECT_EQ(cluster.used_gpus(), 16);
}

TEST_F(SchedulerTest, AGangStaysInOneDomainWherePossible) {
  cluster = topology_cluster();
  add(1, Tier::kHigh, 0, "", 3600);  // n1 (best fit, lowest id): d1 now has one whole node
  ASSERT_EQ(pass().size(), 1u);
  // Two 8-GPU nodes: d1 has one, d2 and d3 three each; the smallest domain that holds it.
  Job& two = add(16, Tier::kNormal, 1, "", 3600, 2);
  ASSERT_EQ(pass().size(), 1u);
  EXPECT_EQ(node_names(cluster, two), (Names{"n3", "n4"}));
  // Three nodes: only d3 still has three.
  Job& three = add(24, Tier::kNormal, 2, "", 3600, 3);
  ASSERT_EQ(pass().size(), 1u);
  EXPECT_EQ(node_names(cluster, three), (Names{"n6", "n7", "n8"}));
  // Two more: no domain has two whole nodes left (n2 in d1, n5 in d2): it spans them.
  Job& spans = add(16, Tier::kNormal, 3, "", 3600, 2);
  ASSERT_EQ(pass().size(), 1u);
  EXPECT_EQ(node_names(cluster, spans), (Names{"n2", "n5"}));
}

TEST_F(SchedulerTest, AGangWaitsRatherThanStartingOnPart) {
  cluster = topology_cluster();
  for (int i = 0; i < 7; ++i) add(8, Tier::kHigh, 0, "", 3600);
  ASSERT_EQ(pass().size(), 7u);
  Job& gang = add(16, Tier::kNormal, 1, "", 3600, 2);
  EXPECT_TRUE(pass().empty());
  EXPECT_EQ(gang.state, JobState::kPending);
  EXPECT_EQ(gang.reason, PendingReason::kResources);
  EXPECT_EQ(gang.expected_start_ms, now + 3600 * 1000);  // when the first running job ends
  EXPECT_EQ(cluster.used_gpus(), 56);
}

// n1 half busy for an hour, n2-n7 busy for two, n8 idle. A 2-node gang is reserved n8 and n1
// (whole in an hour). A 30-minute job may backfill on n1's free GPUs; a 2-hour one may not.
TEST_F(SchedulerTest, BackfillCannotDelayAGangsReservation) {
  cluster = topology_cluster();
  add(4, Tier::kHigh, 0, "", 3600);                              // n1
  for (int i = 0; i < 6; ++i) add(8, Tier::kHigh, 0, "", 7200);  // n2..n7 (best fit skips n1)
  ASSERT_EQ(pass().size(), 7u);
  Job& gang = add(16, Tier::kNormal, 1, "", 3600, 2);
  Job& long_job = add(4, Tier::kNormal, 2, "", 7200);
  Job& short_job = add(4, Tier::kNormal, 3, "", 1800);
  const auto started = pass();
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0], short_job.id);
  EXPECT_EQ(node_names(cluster, short_job), (Names{"n1"}));
  EXPECT_EQ(gang.expected_start_ms, now + 3600 * 1000);
  EXPECT_EQ(long_job.state, JobState::kPending);
}

// Both nodes half busy for an hour. The first in line needs all of b (H100) in an hour, the
// second all of a (A100). A 2-hour job fits on a now: EASY starts it (it cannot delay the
// first), conservative does not (it would delay the second).
TEST_F(SchedulerTest, ConservativeBackfillProtectsEveryJobAhead) {
  for (bool conservative : {false, true}) {
    cluster = make_cluster();
    jobs.clear();
    scheduler = Scheduler(Scheduler::Options{.conservative = conservative});
    add(2, Tier::kHigh, 0, "A100", 3600);  // a: 2 of 4 busy for an hour
    add(4, Tier::kHigh, 0, "H100", 3600);  // b: 4 of 8 busy for an hour
    ASSERT_EQ(pass().size(), 2u);
    Job& first = add(8, Tier::kHigh, 1, "H100", 3600);     // b in an hour
    Job& second = add(4, Tier::kHigh, 2, "A100", 3600);    // a in an hour
    Job& filler = add(2, Tier::kNormal, 3, "A100", 7200);  // fits on a now, but for 2 hours
    pass();
    EXPECT_EQ(first.expected_start_ms, now + 3600 * 1000);
    if (conservative) {
      EXPECT_EQ(second.expected_start_ms, now + 3600 * 1000);
      EXPECT_EQ(filler.state, JobState::kPending) << "it would delay the second job";
    } else {
      EXPECT_EQ(second.expected_start_ms, 0);
      EXPECT_EQ(filler.state, JobState::kRunning) << "EASY protects only the first";
    }
  }
}

// A job held back by a cap waits with that reason and reserves nothing: the job behind it,
// which would otherwise be kept off the reserved node, starts.
TEST_F(SchedulerTest, AJobHeldByACapGetsNoReservation) {
  add(6, Tier::kHigh, 0, "H100", 3600);
  pass();
  Job& capped = add(8, Tier::kHigh, 1, "H100", 3600);
  Job& next = add(2, Tier::kNormal, 2, "H100", 7200);
  FakeHost h = host();
  h.tell_running = false;
  h.refuse_outright = [&capped](const Job& job) {
    return job.id == capped.id ? PendingReason::kQuotaLimit : PendingReason::kNone;
  };
  scheduler.pass(cluster, now, h);
  EXPECT_EQ(capped.reason, PendingReason::kQuotaLimit);
  EXPECT_EQ(capped.expected_start_ms, 0);
  EXPECT_EQ(next.state, JobState::kRunning);
}

// A running job planned for 10 minutes is still running after 30: it is replanned to run 60
// in all, so the job waiting for its node is expected then (not "now", which would stop
// all backfill on the node), and a 20-minute job may backfill beside it.
TEST_F(SchedulerTest, AJobThatOutlivesItsPredictionIsReplanned) {
  Job& running = add(6, Tier::kHigh, 0, "H100", 7200);
  running.estimate_s = 600;
  pass();
  ASSERT_EQ(running.state, JobState::kRunning);
  now += 1800 * 1000;
  int replanned = 0;
  scheduler.replan_overdue(
      now, [this](JobId id) -> Job& { return jobs.at(id.value); },
      [&](const Job&) { ++replanned; });
  EXPECT_EQ(replanned, 1);
  EXPECT_EQ(running.estimate_s, 3600);
  Job& big = add(8, Tier::kHigh, 1, "H100", 3600);
  Job& filler = add(2, Tier::kNormal, 2, "H100", 1200);
  pass();
  EXPECT_EQ(big.expected_start_ms, running.start_ms + 3600 * 1000);
  EXPECT_EQ(filler.state, JobState::kRunning);
}

TEST_F(SchedulerTest, StrictOrderLetsNothingPassABlockedJob) {
  scheduler = Scheduler(Scheduler::Options{.backfill = false, .strict = true});
  add(6, Tier::kHigh, 0, "H100", 3600);
  pass();
  Job& big = add(8, Tier::kHigh, 1, "H100", 3600);
  Job& small = add(1, Tier::kNormal, 2, "", 60);
  EXPECT_TRUE(pass().empty());
  EXPECT_EQ(big.reason, PendingReason::kResources);
  EXPECT_EQ(small.state, JobState::kPending);
}

TEST_F(SchedulerTest, AGangPreemptsTheYoungestSpotJobsOnEnoughNodes) {
  cluster = topology_cluster();
  std::vector<JobId> preempted;
  for (int i = 0; i < 8; ++i) add(8, Tier::kSpot, i, "", 3600);  // n1..n8, n8's the youngest
  ASSERT_EQ(pass().size(), 8u);
  for (auto& [id, j] : jobs) {  // started a millisecond apart, in id order
    scheduler.ended(j);
    j.start_ms = now + static_cast<int64_t>(id);
    scheduler.running(j);
  }
  Job& gang = add(16, Tier::kNormal, 10, "", 3600, 2);
  pass_preempting(&preempted);
  EXPECT_EQ(preempted, (std::vector<JobId>{JobId(8), JobId(7)}));
  EXPECT_EQ(gang.reason, PendingReason::kResources);
  EXPECT_EQ(gang.expected_start_ms, now);
}

// The same centre, with a host that cannot stop jobs: nothing is asked to stop and no nodes
// are held for preemption; the gang is reserved the nodes the spot jobs free when they end.
TEST_F(SchedulerTest, AHostThatCannotPreemptIsNeverAskedToAndReservesInstead) {
  cluster = topology_cluster();
  for (int i = 0; i < 8; ++i) add(8, Tier::kSpot, i, "", 3600);
  ASSERT_EQ(pass().size(), 8u);
  Job& gang = add(16, Tier::kNormal, 10, "", 3600, 2);
  FakeHost h = host();
  h.start = false;
  scheduler.pass(cluster, now, h);
  for (auto& [id, j] : jobs) EXPECT_FALSE(j.preempt_requested) << id;
  EXPECT_EQ(gang.reason, PendingReason::kResources);
  EXPECT_EQ(gang.expected_start_ms, now + 3600 * 1000);
}

TEST_F(SchedulerTest, AJobNotDemotedPreemptsTheMostAttainedRequeueableJob) {
  scheduler = Scheduler(Scheduler::Options{.demote_after_gpu_s = 3600});
  Job& old = add(4, Tier::kNormal, 1, "H100");
  Job& recent = add(4, Tier::kNormal, 2, "H100");
  Job& fixed = add(4, Tier::kNormal, 3, "A100");  // did not ask to be requeued
  old.requeue = recent.requeue = true;
  ASSERT_EQ(pass().size(), 3u);
  // Move their starts back: 4 GPUs for 2 h, 30 min and 3 h (all past 1 GPU-hour).
  for (auto [job, ago_ms] : std::vector<std::pair<Job*, int64_t>>{
           {&old, 2 * 3'600'000}, {&recent, 1'800'000}, {&fixed, 3 * 3'600'000}}) {
    scheduler.ended(*job);
    job->start_ms = now - ago_ms;
    scheduler.running(*job);
  }
  std::vector<JobId> preempted;
  Job& demoted = add(4, Tier::kNormal, 4, "H100");
  demoted.ran_ms = 3'600'000;  // 4 GPU-hours already, in an earlier run: it may not preempt
  pass_preempting(&preempted);
  EXPECT_TRUE(preempted.empty());
  EXPECT_EQ(demoted.reason, PendingReason::kResources);

  scheduler.dequeue(demoted);
  Job& fresh = add(4, Tier::kNormal, 5, "");
  pass_preempting(&preempted);
  EXPECT_EQ(preempted,
            std::vector<JobId>{old.id});  // 8 GPU-hours before recent's 2; fixed is never asked
  EXPECT_EQ(fresh.expected_start_ms, now);
}

TEST_F(SchedulerTest, PreemptionStopsTheSmallestDemotedJobThatMakesRoomAndSparesNewRuns) {
  scheduler = Scheduler(Scheduler::Options{.demote_after_gpu_s = 3600, .preempt_exempt_s = 600});
  Job& wide = add(4, Tier::kNormal, 1, "H100");    // most attained: 4 GPUs for 5 h
  Job& narrow = add(2, Tier::kNormal, 2, "H100");  // 2 GPUs for 2 h
  Job& young =
      add(2, Tier::kNormal, 3, "H100");  // 2 GPUs, 20 GPU-hours before, restarted 5 min ago
  Job& filler = add(4, Tier::kNormal, 4, "A100");
  wide.requeue = narrow.requeue = young.requeue = filler.requeue = true;
  ASSERT_EQ(pass().size(), 4u);
  young.ran_ms = 10 * 3'600'000;
  for (auto [job, ago_ms] : std::vector<std::pair<Job*, int64_t>>{{&wide, 5 * 3'600'000},
                                                                  {&narrow, 2 * 3'600'000},
                                                                  {&young, 300'000},
                                                                  {&filler, 30'000}}) {
    scheduler.ended(*job);
    job->start_ms = now - ago_ms;
    scheduler.running(*job);
  }
  std::vector<JobId> preempted;
  Job& fresh = add(2, Tier::kNormal, 5, "");
  pass_preempting(&preempted);
  // Not wide (4 GPUs, where 2 do), nor young (in its first 10 minutes), nor filler (not demoted).
  EXPECT_EQ(preempted, std::vector<JobId>{narrow.id});
  EXPECT_EQ(fresh.expected_start_ms, now);
}

TEST(QueuePriority, ADemotedJobQueuesBehindTheJobsThatAreNot) {
  SchedulerConfig config;
  config.demote_after_gpu_s = 3600;
  Job small_demoted, big_fresh, spot_fresh;
  small_demoted.gpus = 1;
  small_demoted.time_limit_s = 60;
  small_demoted.ran_ms = 3'600'000;  // exactly the threshold
  big_fresh.gpus = 8;
  big_fresh.time_limit_s = 10 * 3600;
  spot_fresh.tier = Tier::kSpot;
  spot_fresh.time_limit_s = 60;
  for (QueueOrder order : {QueueOrder::kShortest, QueueOrder::kFifo, QueueOrder::kPriority}) {
    config.order = order;
    EXPECT_TRUE(demoted(small_demoted, config, 0));
    EXPECT_FALSE(demoted(big_fresh, config, 0));
    EXPECT_LT(queue_priority(small_demoted, config, 1.0, 16, 0),
              queue_priority(big_fresh, config, 1.0, 16, 0))
        << queue_order_name(order);
  }
  config.order = QueueOrder::kShortest;  // tiers still come first
  EXPECT_GT(queue_priority(small_demoted, config, 1.0, 16, 0),
            queue_priority(spot_fresh, config, 1.0, 16, 0));
  config.demote_after_gpu_s = 0;  // off: the smaller job first, as always
  EXPECT_GT(queue_priority(small_demoted, config, 1.0, 16, 0),
            queue_priority(big_fresh, config, 1.0, 16, 0));
}

}  // namespace
}  // namespace berth::core

namespace berth::core {
namespace {

TEST(ClusterModels, ModelNamesMatchWhateverTheirCase) {
  const Cluster cluster = make_cluster();
  EXPECT_EQ(*canonical_model_constraint(cluster, "h100"), "H100");
  EXPECT_EQ(*canonical_model_constraint(cluster, "a100|H100"), "A100|H100");
  EXPECT_EQ(*canonical_model_constraint(cluster, ""), "");
}

TEST(ClusterModels, AnUnknownModelIsRefusedListingTheClustersModels) {
  const Cluster cluster = make_cluster();
  Result<std::string> none = canonical_model_constraint(cluster, "V100");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "no node has GPU model 'V100'; this cluster has A100, H100");
  EXPECT_FALSE(canonical_model_constraint(cluster, "h100|v100").ok());
}

TEST(ClusterModels, ModelsThatDifferOnlyInCaseAreRefused) {
  ClusterConfig c;
  c.nodes = {Node{NodeId(), "a", "H100", 4, 0, 0, NodeState::kUp}};
  c.prices = {{"H100", 1}, {"h100", 2}};
  c.partitions = {Partition{"gpu", 3600, 60, true}};
  Result<Cluster> cluster = Cluster::Create(c);
  ASSERT_FALSE(cluster.ok());
  EXPECT_NE(cluster.status().message().find("priced twice"), std::string::npos);
}

}  // namespace
}  // namespace berth::core
