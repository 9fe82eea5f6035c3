// The Engine's job lifecycle (job_lifecycle.cc): money held at start and settled exactly at
// the end, cancel, hold and release, requeue when lost, dependencies, partitions' organisations.
#include <gtest/gtest.h>

#include <limits>

#include "core/engine.h"
#include "core/engine_fixture.h"

namespace berth::core {
namespace {

TEST_F(EngineTest, StartHoldsSubsidyAndCopayAsTwoPendingTransfers) {
  const AwardId a = grant(100'0000, 8);
  top_up(100'0000);
  const JobId id = submit(2);
  const auto started = engine->schedule(kT0);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(job(id).state, JobState::kRunning);
  EXPECT_EQ(engine->cluster().node(job(id).node)->name, "h1");
  EXPECT_EQ(award_account(a).debits_pending, 420'000);
  EXPECT_EQ(wallet().debits_pending, 180'000);
  EXPECT_EQ(revenue().credits_pending, 600'000);
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(EngineTest, SettleChargesTheTimeRunSplitExactly) {
  const AwardId a = grant(100'0000, 8);
  top_up(100'0000);
  const JobId id = submit(3);
  engine->schedule(kT0);
  const int64_t ran_ms = 1'234'567;
  ASSERT_TRUE(engine->job_ended(id, JobEnd{}, kT0 + ran_ms, kT0 + ran_ms).ok());
  const Minor cost = kPrice * 3 * ran_ms / kHour;  // floored
  const Minor subsidy = cost * 7000 / 10000;       // floored
  EXPECT_EQ(job(id).state, JobState::kCompleted);
  EXPECT_EQ(job(id).cost_minor, cost);
  EXPECT_EQ(job(id).subsidy_minor, subsidy);
  EXPECT_EQ(job(id).copay_minor, cost - subsidy);
  EXPECT_EQ(award_account(a).debits_posted, subsidy);
  EXPECT_EQ(award_account(a).debits_pending, 0);
  EXPECT_EQ(wallet().debits_posted, cost - subsidy);
  EXPECT_EQ(wallet().debits_pending, 0);
  EXPECT_EQ(revenue().credits_posted, cost);
  EXPECT_EQ(engine->cluster().used_gpus(), 0);
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(EngineTest, ChargeNeverExceedsTheHeldMaximum) {
  grant(100'0000, 8);
  top_up(100'0000);
  const JobId id = submit(1, 60);
  engine->schedule(kT0);
  // Ends long after its limit (the grace period, a slow kill): charged the limit only.
  ASSERT_TRUE(
      engine->job_ended(id, JobEnd{0, 15, true, false, false}, kT0 + kHour, kT0 + kHour).ok());
  EXPECT_EQ(job(id).state, JobState::kTimeout);
  EXPECT_EQ(job(id).cost_minor, kPrice / 60);
}

TEST_F(EngineTest, NoMoneyMeansInsufficientFundsAndNothingHeld) {
  const JobId id = submit(1);  // no award, empty wallet
  EXPECT_TRUE(engine->schedule(kT0).empty());
  EXPECT_EQ(job(id).state, JobState::kPending);
  EXPECT_EQ(job(id).reason, PendingReason::kInsufficientFunds);
  EXPECT_EQ(revenue().credits_pending, 0);
  top_up(30'0000);  // exactly the maximum cost
  EXPECT_EQ(engine->schedule(kT0).size(), 1u);
  EXPECT_EQ(wallet().available(), 0);
}

TEST_F(EngineTest, CancelPendingReleasesNothingBecauseNothingWasHeld) {
  const JobId id = submit(1);
  auto r = engine->cancel(id, kT0);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(job(id).state, JobState::kCancelled);
  EXPECT_EQ(engine->cancel(id, kT0).status().code(), Code::kConflict);
  top_up(100'0000);
  EXPECT_TRUE(engine->schedule(kT0).empty());
}

TEST_F(EngineTest, CancelRunningChargesTheTimeRun) {
  top_up(100'0000);
  const JobId id = submit(1);
  engine->schedule(kT0);
  auto r = engine->cancel(id, kT0 + 10);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(job(id).state, JobState::kRunning);
  ASSERT_TRUE(
      engine->job_ended(id, JobEnd{0, 15, false, true, false}, kT0 + 60'000, kT0 + 60'000).ok());
  EXPECT_EQ(job(id).state, JobState::kCancelled);
  EXPECT_EQ(job(id).cost_minor, kPrice / 60);
  EXPECT_EQ(wallet().debits_pending, 0);
}

TEST_F(EngineTest, LostJobWithRequeueIsChargedThenHeldAfresh) {
  top_up(100'0000);
  const JobId id = submit_requeueable();
  engine->schedule(kT0);
  JobEnd lost;
  lost.lost = true;
  ASSERT_TRUE(engine->job_ended(id, lost, kT0 + 60'000, kT0 + 120'000).ok());
  EXPECT_EQ(job(id).state, JobState::kPending);
  EXPECT_EQ(job(id).restarts, 1);
  EXPECT_EQ(job(id).cost_minor, kPrice / 60);
  EXPECT_EQ(engine->schedule(kT0 + 120'000).size(), 1u);
  EXPECT_EQ(wallet().debits_pending, kPrice);
  ASSERT_TRUE(engine->job_ended(id, JobEnd{}, kT0 + 180'000, kT0 + 180'000).ok());
  EXPECT_EQ(job(id).cost_minor, 2 * (kPrice / 60));
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(EngineTest, LostJobWithoutRequeueIsNodeFail) {
  top_up(100'0000);
  const JobId id = submit(1);
  engine->schedule(kT0);
  JobEnd lost;
  lost.lost = true;
  ASSERT_TRUE(engine->job_ended(id, lost, kT0 + 60'000, kT0 + 999'000).ok());
  EXPECT_EQ(job(id).state, JobState::kNodeFail);
  EXPECT_EQ(job(id).cost_minor, kPrice / 60);  // only up to the moment it was lost
}

TEST_F(EngineTest, EndingAJobTwiceIsRefusedAndChargesOnce) {
  top_up(100'0000);
  const JobId id = submit(1);
  engine->schedule(kT0);
  ASSERT_TRUE(engine->job_ended(id, JobEnd{}, kT0 + 60'000, kT0 + 60'000).ok());
  EXPECT_EQ(engine->job_ended(id, JobEnd{}, kT0 + 90'000, kT0 + 90'000).code(), Code::kConflict);
  EXPECT_EQ(wallet().debits_posted, kPrice / 60);
}

TEST_F(EngineTest, NonZeroExitIsFailed) {
  top_up(100'0000);
  const JobId id = submit(1);
  engine->schedule(kT0);
  ASSERT_TRUE(engine->job_ended(id, JobEnd{3, 0, false, false, false}, kT0 + 1, kT0 + 1).ok());
  EXPECT_EQ(job(id).state, JobState::kFailed);
  EXPECT_EQ(job(id).exit_code, 3);
}

TEST_F(EngineTest, HeldJobWaitsUntilReleased) {
  top_up(100'0000);
  JobRequest r;
  r.project = project;
  r.gpus = 1;
  r.time_limit_s = 600;
  r.hold = true;
  const JobId id = *engine->submit(r, kT0);
  EXPECT_TRUE(engine->schedule(kT0).empty());
  EXPECT_EQ(job(id).reason, PendingReason::kJobHeldUser);
  ASSERT_TRUE(engine->release(id, kT0 + 1).ok());
  EXPECT_EQ(engine->release(id, kT0 + 1).code(), Code::kConflict);
  EXPECT_EQ(engine->schedule(kT0 + 1).size(), 1u);
  EXPECT_EQ(engine->hold(id, kT0 + 2).code(), Code::kConflict);  // running: too late
}

TEST_F(EngineTest, AfterOkRunsWhenTheFirstCompletesAndNeverIfItFails) {
  top_up(100'0000);
  const JobId first = submit(1, 600);
  const JobId other = submit(1, 600);
  JobRequest r;
  r.project = project;
  r.gpus = 1;
  r.time_limit_s = 600;
  r.dependencies = {{DependencyType::kAfterOk, first}};
  const JobId after_ok = *engine->submit(r, kT0);
  r.dependencies = {{DependencyType::kAfterOk, other}};
  const JobId never = *engine->submit(r, kT0);
  r.dependencies = {{DependencyType::kAfterAny, other}};
  const JobId any = *engine->submit(r, kT0);
  r.dependencies = {{DependencyType::kAfterOk, JobId(999)}};
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kNotFound);
  engine->schedule(kT0);
  EXPECT_EQ(job(after_ok).reason, PendingReason::kDependency);
  ASSERT_TRUE(engine->job_ended(first, JobEnd{}, kT0 + 1000, kT0 + 1000).ok());
  ASSERT_TRUE(
      engine->job_ended(other, JobEnd{1, 0, false, false, false}, kT0 + 1000, kT0 + 1000).ok());
  engine->schedule(kT0 + 1000);
  EXPECT_EQ(job(after_ok).state, JobState::kRunning);
  EXPECT_EQ(job(any).state, JobState::kRunning);
  EXPECT_EQ(job(never).reason, PendingReason::kDependencyNeverSatisfied);
}

TEST(LimitsTest, PartitionOpenOnlyToListedOrganisations) {
  ClusterConfig c = two_nodes();
  c.partitions.push_back(Partition{"private", 3600, 600, false, {"hku"}});
  auto e = std::move(*Engine::Create(c, kT0));
  const OrgId hku = e->create_org("hku", OrgKind::kUniversity, kT0)->id;
  const OrgId acme = e->create_org("acme", OrgKind::kStartup, kT0)->id;
  JobRequest r;
  r.partition = "private";
  r.project = e->create_project(acme, "llm", kT0)->id;
  EXPECT_EQ(e->submit(r, kT0).status().code(), Code::kPermissionDenied);
  r.project = e->create_project(hku, "vision", kT0)->id;
  EXPECT_TRUE(e->submit(r, kT0).ok());
}

TEST_F(GangTest, HoldsTheMoneyOfAllItsGpusAsOne) {
  const JobId gang = *submit(16, 2);
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);
  const Job& j = *engine->job(gang);
  EXPECT_EQ(j.state, JobState::kRunning);
  EXPECT_EQ(j.more_nodes.size(), 1u);
  EXPECT_EQ(j.max_cost_minor, 16 * kPrice);  // 16 GPUs for an hour, one hold
  EXPECT_EQ(j.copay_held_minor, 16 * kPrice);
  EXPECT_EQ(engine->cluster().used_gpus(), 16);
  ASSERT_TRUE(engine->job_ended(gang, JobEnd{}, kT0 + kHour / 2, kT0 + kHour / 2).ok());
  EXPECT_EQ(engine->job(gang)->cost_minor, 8 * kPrice);  // half an hour of 16 GPUs
  EXPECT_EQ(engine->cluster().used_gpus(), 0);
  EXPECT_TRUE(engine->verify().ok());
}

}  // namespace
}  // namespace berth::core
