// The scheduler on its own: queue order, first fit, and the reasons jobs wait.
#include "core/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace berth::core {
namespace {

Cluster make_cluster() {
  ClusterConfig c;
  c.nodes = {Node{NodeId(), "a", "A100", 4, 0, 0, NodeState::kUp}, Node{NodeId(), "b", "H100", 8, 0, 0, NodeState::kUp}};
  c.prices = {{"A100", 1}, {"H100", 2}};
  c.partitions = {Partition{"gpu", 3600, 60, true}};
  return std::move(*Cluster::Create(c));
}

class SchedulerTest : public ::testing::Test {
 protected:
  Job& add(int gpus, Tier tier, int64_t submit_ms, const std::string& model = "", int64_t limit_s = 3600) {
    Job j;
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
  // Admits everything that fits, unless its id is refused.
  std::vector<JobId> pass() {
    return scheduler.pass(
        cluster, now, [this](JobId id) -> Job& { return jobs.at(id.value); },
        [this](Job& job, const Node& node) {
          if (refused.count(job.id.value)) return PendingReason::kInsufficientFunds;
          job.node = node.id;
          job.gpu_ids = cluster.allocate(node.id, job.gpus);
          job.state = JobState::kRunning;
          job.start_ms = now;
          scheduler.running(job);
          return PendingReason::kNone;
        },
        [](Job& job, PendingReason r, int64_t expected) {
          job.reason = r;
          job.expected_start_ms = expected;
        });
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
    c.nodes = {Node{NodeId(), "a", "H100", 8, 0, 0, NodeState::kUp}, Node{NodeId(), "b", "H100", 8, 0, 0, NodeState::kUp}};
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
  scheduler = Scheduler(false, 0);
  add(6, Tier::kHigh, 0, "H100", 3600);
  pass();
  Job& big = add(8, Tier::kHigh, 1, "H100", 3600);
  Job& long_job = add(2, Tier::kNormal, 2, "H100", 7200);
  pass();
  EXPECT_EQ(big.expected_start_ms, 0);
  EXPECT_EQ(long_job.state, JobState::kRunning);
}

}  // namespace
}  // namespace berth::core
