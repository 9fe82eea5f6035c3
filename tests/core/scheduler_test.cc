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
  Job& add(int gpus, Tier tier, int64_t submit_ms, const std::string& model = "") {
    Job j;
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
        cluster, [this](JobId id) -> Job& { return jobs.at(id.value); },
        [this](Job& job, const Node& node) {
          if (refused.count(job.id.value)) return PendingReason::kInsufficientFunds;
          job.node = node.id;
          job.gpu_ids = cluster.allocate(node.id, job.gpus);
          job.state = JobState::kRunning;
          return PendingReason::kNone;
        },
        [](Job& job, PendingReason r) { job.reason = r; });
  }

  Cluster cluster = make_cluster();
  Scheduler scheduler;
  std::map<uint64_t, Job> jobs;
  std::set<uint64_t> refused;
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

}  // namespace
}  // namespace berth::core
