// The queue orders on their own: the priority each gives a job.
#include "core/policy/queue_order.h"

#include <gtest/gtest.h>

namespace berth::core {
namespace {

Job job(int gpus, Tier tier, int64_t limit_s, int64_t submit_ms = 0) {
  Job j;
  j.gpus = gpus;
  j.tier = tier;
  j.time_limit_s = limit_s;
  j.submit_ms = submit_ms;
  return j;
}

QueueInputs inputs(const PriorityWeights& w, bool demoted = false) {
  return QueueInputs{w, 0.5, 16, 3'600'000, demoted, false};
}

TEST(QueueOrder, EachOrderIsTheOneItsNameSays) {
  EXPECT_EQ(&queue_order_policy(QueueOrder::kPriority), &multifactor_order());
  EXPECT_EQ(&queue_order_policy(QueueOrder::kFifo), &fifo_order());
  EXPECT_EQ(&queue_order_policy(QueueOrder::kShortest), &shortest_order());
}

TEST(QueueOrder, FifoGivesEveryJobTheSamePrioritySoSubmitTimeDecides) {
  const PriorityWeights w;
  EXPECT_EQ(fifo_order().priority(job(8, Tier::kHigh, 60), inputs(w)),
            fifo_order().priority(job(1, Tier::kSpot, 7200, 5), inputs(w)));
  EXPECT_LT(fifo_order().priority(job(1, Tier::kHigh, 60), inputs(w, true)),
            fifo_order().priority(job(8, Tier::kSpot, 7200), inputs(w)));
}

TEST(QueueOrder, MultifactorIsSlurmsWeightedSum) {
  const PriorityWeights w;
  const Job j = job(4, Tier::kNormal, 3600, 1'800'000);
  EXPECT_EQ(multifactor_order().priority(j, inputs(w)), job_priority(j, w, 0.5, 16, 3'600'000));
  EXPECT_EQ(multifactor_order().priority(j, inputs(w, true)),
            job_priority(j, w, 0.5, 16, 3'600'000) - kDemotedOffset);
}

TEST(QueueOrder, ShortestPutsTierFirstThenTheSmallestGpuTime) {
  const PriorityWeights w;
  const auto p = [&](const Job& j, bool demoted = false) {
    return shortest_order().priority(j, inputs(w, demoted));
  };
  EXPECT_GT(p(job(1, Tier::kNormal, 60)), p(job(2, Tier::kNormal, 60)));
  EXPECT_GT(p(job(1, Tier::kNormal, 60)), p(job(1, Tier::kNormal, 120)));
  EXPECT_GT(p(job(64, Tier::kHigh, 86'400)), p(job(1, Tier::kNormal, 60)));
  EXPECT_GT(p(job(64, Tier::kNormal, 86'400)), p(job(1, Tier::kNormal, 60), true));
  EXPECT_GT(p(job(1, Tier::kNormal, 60), true), p(job(1, Tier::kSpot, 60)));
}

}  // namespace
}  // namespace berth::core
