// The preemption policies on their own: who may preempt, who is a victim, in what order.
#include "core/policy/preemption.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace berth::core {
namespace {

constexpr int64_t kDemoteAfter = 3'600;  // GPU-seconds
constexpr int64_t kExempt = 600;         // seconds
constexpr int64_t kNow = 100'000'000;    // ms

// Running jobs by id, started `ran_s` seconds before kNow.
struct Running {
  std::map<uint64_t, Job> jobs;
  RunningSet spot, demotable;

  void add(const PreemptionPolicy& policy, uint64_t id, Tier tier, int gpus, int64_t ran_s) {
    Job job;
    job.id = JobId(id);
    job.tier = tier;
    job.gpus = gpus;
    job.requeue = true;
    job.state = JobState::kRunning;
    job.start_ms = kNow - ran_s * 1000;
    jobs[id] = job;
    if (tier == Tier::kSpot)
      spot.insert({job.start_ms, id});
    else if (policy.demotable(job))
      demotable.insert({job.start_ms, id});
  }
  Victims victims(const PreemptionPolicy& policy) const {
    Victims v;
    policy.list_victims(
        spot, demotable, [this](JobId id) -> const Job& { return jobs.at(id.value); }, kNow, &v);
    return v;
  }
};

std::vector<uint64_t> ids(const Victims& v) {
  std::vector<uint64_t> out;
  for (const auto& [key, id] : v.order) out.push_back(id);
  return out;
}

Job pending(Tier tier, int64_t ran_ms = 0) {
  Job job;
  job.tier = tier;
  job.gpus = 1;
  job.ran_ms = ran_ms;
  return job;
}

TEST(PreemptionPolicy, FlagsChooseThePolicy) {
  EXPECT_STREQ(make_preemption_policy(false, kDemoteAfter, 0)->name(), "none");
  EXPECT_STREQ(make_preemption_policy(true, 0, 0)->name(), "spot-then-demoted");
  EXPECT_STREQ(make_preemption_policy(true, kDemoteAfter, kExempt)->name(), "spot-then-demoted");
}

TEST(PreemptionPolicy, NoneStopsNothing) {
  const auto policy = no_preemption();
  Running r;
  r.add(*policy, 1, Tier::kSpot, 1, 10);
  r.add(*policy, 2, Tier::kNormal, 1, 100'000);
  EXPECT_TRUE(r.demotable.empty());
  EXPECT_FALSE(policy->may_preempt(pending(Tier::kHigh), false, kNow));
  EXPECT_TRUE(r.victims(*policy).order.empty());
}

TEST(PreemptionPolicy, SpotJobsYoungestFirstAndOnlyForTheFirstBlockedJob) {
  const auto policy = spot_then_demoted(0, 0);
  Running r;
  r.add(*policy, 1, Tier::kSpot, 1, 500);
  r.add(*policy, 2, Tier::kSpot, 1, 50);
  r.add(*policy, 3, Tier::kNormal, 8, 100'000);  // never demoted without least attained service
  EXPECT_TRUE(r.demotable.empty());
  const Victims v = r.victims(*policy);
  EXPECT_EQ(ids(v), (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(v.spot, 2u);
  EXPECT_TRUE(policy->may_preempt(pending(Tier::kNormal), false, kNow));
  EXPECT_FALSE(policy->may_preempt(pending(Tier::kNormal), true, kNow));
  EXPECT_FALSE(policy->may_preempt(pending(Tier::kSpot), false, kNow));
  EXPECT_EQ(policy->usable(pending(Tier::kNormal), v, kNow), 2u);
}

TEST(PreemptionPolicy, DemotedJobsFewestGpusFirstThenMostAttainedHighTierLast) {
  const auto policy = spot_then_demoted(kDemoteAfter, kExempt);
  Running r;
  r.add(*policy, 1, Tier::kSpot, 1, 100);      // exempt: in its first 600 s
  r.add(*policy, 2, Tier::kSpot, 1, 700);      // a victim
  r.add(*policy, 3, Tier::kNormal, 4, 7'200);  // demoted, 4 GPUs
  r.add(*policy, 4, Tier::kNormal, 1, 7'200);  // demoted, 1 GPU, less attained
  r.add(*policy, 5, Tier::kNormal, 1, 9'000);  // demoted, 1 GPU, more attained
  r.add(*policy, 6, Tier::kNormal, 1, 60);     // not demoted yet
  r.add(*policy, 7, Tier::kHigh, 1, 9'000);    // demoted, but high tier
  const Victims v = r.victims(*policy);
  EXPECT_EQ(ids(v), (std::vector<uint64_t>{2, 5, 4, 3, 7}));
  EXPECT_EQ(v.spot, 1u);
  EXPECT_EQ(v.low, 4u);
  EXPECT_EQ(policy->usable(pending(Tier::kNormal), v, kNow), 4u);
  EXPECT_EQ(policy->usable(pending(Tier::kHigh), v, kNow), 5u);
  // A demoted job may stop only spot jobs, and only as the first blocked job.
  const Job demoted = pending(Tier::kNormal, kDemoteAfter * 1000);
  EXPECT_EQ(policy->usable(demoted, v, kNow), 1u);
  EXPECT_TRUE(policy->may_preempt(demoted, false, kNow));
  EXPECT_FALSE(policy->may_preempt(demoted, true, kNow));
  // A job not demoted may preempt behind other blocked jobs.
  EXPECT_TRUE(policy->may_preempt(pending(Tier::kNormal), true, kNow));
}

TEST(PreemptionPolicy, OnlyJobsThatAskedToBeRequeuedAreDemotable) {
  const auto policy = spot_then_demoted(kDemoteAfter, 0);
  Job job = pending(Tier::kNormal);
  job.requeue = false;
  EXPECT_FALSE(policy->demotable(job));
  job.requeue = true;
  EXPECT_TRUE(policy->demotable(job));
}

}  // namespace
}  // namespace berth::core
