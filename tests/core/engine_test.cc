// Engine behaviour: funding rules, budget-aware admission, exact settlement, job states.
#include "core/engine.h"

#include <gtest/gtest.h>

#include <limits>

namespace berth::core {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kT0 = 1'800'000'000'000;  // a fixed virtual "now"
constexpr Minor kPrice = 300'000;           // 30.0000 per GPU-hour

ClusterConfig two_nodes() {
  ClusterConfig c;
  c.nodes = {Node{NodeId(), "a1", "A100", 4, 32, 1000, NodeState::kUp},
             Node{NodeId(), "h1", "H100", 8, 64, 1000, NodeState::kUp}};
  c.prices = {{"A100", 200'000}, {"H100", kPrice}};
  c.partitions = {Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Engine::Create(two_nodes(), kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    org = engine->create_org("hku", OrgKind::kUniversity, kT0)->id;
    project = engine->create_project(org, "vision", kT0)->id;
    auto s = engine->create_scheme("ai-subsidy", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                   Shortfall::kWallet, 1'000'000'0000, kT0);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scheme = s->id;
  }

  AwardId grant(Minor amount, int gpu_level) {
    auto a = engine->create_award(scheme, project, amount, gpu_level, kT0 - kHour, kT0 + 1000 * kHour, kT0);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? a->id : AwardId();
  }
  void top_up(Minor amount) { ASSERT_TRUE(engine->top_up(project, amount, "", kT0).ok()); }

  // A job of one H100 for an hour that is requeued if it is lost.
  JobId submit_requeueable() {
    JobRequest r;
    r.project = project;
    r.gpus = 1;
    r.time_limit_s = 3600;
    r.gpu_model = "H100";
    r.requeue = true;
    auto id = engine->submit(r, kT0);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : JobId();
  }
  JobId submit(int gpus, int64_t limit_s = 3600, const std::string& model = "H100", Tier tier = Tier::kNormal,
               int64_t now = kT0) {
    JobRequest r;
    r.project = project;
    r.gpus = gpus;
    r.time_limit_s = limit_s;
    r.gpu_model = model;
    r.tier = tier;
    auto id = engine->submit(r, now);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : JobId();
  }
  const Account& wallet() { return *engine->ledger().account(engine->funding().project(project)->wallet); }
  const Account& award_account(AwardId a) { return *engine->ledger().account(engine->funding().award(a)->account); }
  const Account& revenue() { return *engine->ledger().account(kRevenueAccount); }
  const Job& job(JobId id) { return *engine->job(id); }

  std::unique_ptr<Engine> engine;
  OrgId org;
  ProjectId project;
  SchemeId scheme;
};

TEST(EngineLimits, AJobWhoseMaximumCostWouldOverflowIsRefusedNotACrash) {
  ClusterConfig c = two_nodes();
  c.prices = {{"A100", std::numeric_limits<Minor>::max() / 4}, {"H100", kPrice}};
  auto e = Engine::Create(c, kT0);
  ASSERT_TRUE(e.ok());
  const OrgId org = (*e)->create_org("o", OrgKind::kUniversity, kT0)->id;
  JobRequest r;
  r.project = (*e)->create_project(org, "p", kT0)->id;
  r.gpus = 4;
  r.time_limit_s = 24 * 3600;
  auto q = (*e)->quote(r, kT0);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), Code::kInvalidArgument);
  EXPECT_NE(q.status().message().find("too large"), std::string::npos) << q.status().ToString();
  EXPECT_FALSE((*e)->submit(r, kT0).ok());
}

TEST_F(EngineTest, InflowsThatWouldOverflowTheBooksAreRefusedAndChangeNothing) {
  const size_t transfers = engine->ledger().transfer_count();
  const Minor wallet = engine->ledger().account(engine->funding().project(project)->wallet)->balance();
  for (int i = 0; i < 2; ++i) {
    auto t = engine->top_up(project, std::numeric_limits<Minor>::max(), "", kT0);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), Code::kInvalidArgument) << t.status().ToString();
    EXPECT_NE(t.status().message().find("too large"), std::string::npos) << t.status().ToString();
  }
  EXPECT_EQ(engine->fund_scheme(scheme, std::numeric_limits<Minor>::max(), kT0).code(), Code::kInvalidArgument);
  EXPECT_EQ(engine->adjust_wallet(project, std::numeric_limits<Minor>::max(), "typo", kT0).status().code(),
            Code::kInvalidArgument);
  const size_t schemes = engine->funding().schemes().size();
  EXPECT_EQ(engine->create_scheme("huge", 7000, 1, Shortfall::kWallet, std::numeric_limits<Minor>::max(), kT0)
                .status().code(), Code::kInvalidArgument);
  EXPECT_EQ(engine->funding().schemes().size(), schemes);  // nothing half-made
  EXPECT_EQ(engine->ledger().transfer_count(), transfers);
  EXPECT_EQ(engine->ledger().account(engine->funding().project(project)->wallet)->balance(), wallet);
  // Ordinary amounts still move.
  EXPECT_TRUE(engine->top_up(project, 1'000'000'000'000'0000, "", kT0).ok());
  EXPECT_TRUE(engine->ledger().verify().ok());
}

TEST_F(EngineTest, QuoteSplitsMaxCostAtTheSchemeRate) {
  grant(100'0000, 8);
  top_up(100'0000);
  JobRequest r;
  r.project = project;
  r.gpus = 2;
  r.time_limit_s = 3600;
  r.gpu_model = "H100";
  auto q = engine->quote(r, kT0);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->max_cost_minor, 600'000);   // 30 x 2 GPUs x 1 h = 60.0000
  EXPECT_EQ(q->subsidy_minor, 420'000);    // 70 %
  EXPECT_EQ(q->copay_minor, 180'000);
  EXPECT_TRUE(q->affordable);
}

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
  const Minor cost = kPrice * 3 * ran_ms / kHour;     // floored
  const Minor subsidy = cost * 7000 / 10000;          // floored
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
  ASSERT_TRUE(engine->job_ended(id, JobEnd{0, 15, true, false, false}, kT0 + kHour, kT0 + kHour).ok());
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

TEST_F(EngineTest, WithoutAnAwardTheWalletPaysAll) {
  top_up(100'0000);
  const JobId id = submit(1);
  engine->schedule(kT0);
  EXPECT_EQ(job(id).subsidy_held_minor, 0);
  EXPECT_EQ(job(id).copay_held_minor, kPrice);
}

TEST_F(EngineTest, ShortfallWalletHoldsAllFromTheWalletWhenTheAwardIsShort) {
  const AwardId a = grant(1, 8);  // 0.0001 left: cannot cover a subsidy share
  top_up(100'0000);
  const JobId id = submit(1);
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);
  EXPECT_EQ(job(id).subsidy_held_minor, 0);
  EXPECT_EQ(job(id).copay_held_minor, kPrice);
  EXPECT_EQ(award_account(a).debits_pending, 0);
}

TEST_F(EngineTest, ShortfallWaitLeavesTheJobPending) {
  auto s = engine->create_scheme("strict", 7000, 1u << static_cast<int>(OrgKind::kUniversity), Shortfall::kWait,
                                 100'0000, kT0);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(engine->create_award(s->id, project, 1, 8, kT0 - kHour, kT0 + kHour, kT0).ok());
  top_up(100'0000);
  const JobId id = submit(1);
  EXPECT_TRUE(engine->schedule(kT0).empty());
  EXPECT_EQ(job(id).reason, PendingReason::kInsufficientFunds);
}

TEST_F(EngineTest, AwardGpuLevelCapsConcurrentGpus) {
  grant(1000'0000, 4);
  top_up(1000'0000);
  const JobId first = submit(3);
  const JobId second = submit(2);
  engine->schedule(kT0);
  EXPECT_EQ(job(first).state, JobState::kRunning);
  EXPECT_EQ(job(second).reason, PendingReason::kAwardCap);
  ASSERT_TRUE(engine->job_ended(first, JobEnd{}, kT0 + 1000, kT0 + 1000).ok());
  engine->schedule(kT0 + 1000);
  EXPECT_EQ(job(second).state, JobState::kRunning);
}

TEST_F(EngineTest, SubmitRefusesWhatCanNeverRun) {
  grant(100'0000, 6);
  JobRequest r;
  r.project = project;
  r.time_limit_s = 60;
  r.gpus = 0;
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kInvalidArgument);
  r.gpus = 9;  // the largest node has 8
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kInvalidArgument);
  r.gpus = 7;  // over the award's GPU level
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kInvalidArgument);
  r.gpus = 5;
  r.gpu_model = "A100";  // the A100 node has 4
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kInvalidArgument);
  r.gpu_model = "V100";
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kInvalidArgument);
  r.gpu_model = "";
  r.time_limit_s = 25 * 3600;  // over the partition's 24 h
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kInvalidArgument);
  r.time_limit_s = 60;
  r.partition = "nope";
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kInvalidArgument);
  r.partition = "";
  r.project = ProjectId(99);
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kNotFound);
  EXPECT_TRUE(engine->jobs().empty());
}

TEST_F(EngineTest, HighTierGoesFirstThenSubmitOrder) {
  top_up(1000'0000);
  const JobId normal = submit(8, 3600, "H100", Tier::kNormal, kT0);
  const JobId high = submit(8, 3600, "H100", Tier::kHigh, kT0 + 1);
  const JobId later = submit(8, 3600, "H100", Tier::kNormal, kT0 + 2);
  engine->schedule(kT0 + 2);
  EXPECT_EQ(job(high).state, JobState::kRunning);
  EXPECT_EQ(job(normal).reason, PendingReason::kResources);
  EXPECT_EQ(job(later).reason, PendingReason::kPriority);
}

TEST_F(EngineTest, FirstFitHonoursTheGpuModel) {
  top_up(1000'0000);
  const JobId any = submit(2, 3600, "");
  const JobId h100 = submit(2, 3600, "H100");
  engine->schedule(kT0);
  EXPECT_EQ(engine->cluster().node(job(any).node)->name, "a1");
  EXPECT_EQ(engine->cluster().node(job(h100).node)->name, "h1");
  EXPECT_EQ(job(any).price_per_gpu_hour_minor, 200'000);  // priced at the node it runs on
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
  ASSERT_TRUE(engine->job_ended(id, JobEnd{0, 15, false, true, false}, kT0 + 60'000, kT0 + 60'000).ok());
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

// A requeued job whose first run was subsidised and whose second was not (its award ended in
// between): the job's row keeps only the last run's rate (none), so its subsidy over both runs
// is above that rate's share of its cost. The books are right, and a restart must accept them.
TEST_F(EngineTest, ARequeuedJobPaidByAnAwardOnlyInItsFirstRunStillRestores) {
  top_up(100'0000);
  ASSERT_TRUE(engine->create_award(scheme, project, 100'0000, 8, kT0 - kHour, kT0 + 2 * kHour, kT0).ok());
  const JobId id = submit_requeueable();
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);
  JobEnd lost;
  lost.lost = true;
  ASSERT_TRUE(engine->job_ended(id, lost, kT0 + kHour, kT0 + kHour).ok());  // 30: 21 of subsidy
  engine->expire(kT0 + 3 * kHour);                                           // the award has ended
  ASSERT_EQ(engine->schedule(kT0 + 3 * kHour).size(), 1u);
  ASSERT_TRUE(engine->job_ended(id, JobEnd{}, kT0 + 4 * kHour, kT0 + 4 * kHour).ok());  // 30, all from the wallet
  ASSERT_EQ(job(id).rate_bps, 0);
  ASSERT_EQ(job(id).subsidy_minor, 21'0000);
  ASSERT_EQ(job(id).cost_minor, 60'0000);
  EXPECT_TRUE(engine->verify().ok()) << engine->verify().ToString();
  auto restored = Engine::Restore(two_nodes(), engine->snapshot());
  EXPECT_TRUE(restored.ok()) << restored.status().ToString();
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

TEST_F(EngineTest, FairShareFavoursTheProjectThatUsedLess) {
  const ProjectId heavy = project;
  const ProjectId light = engine->create_project(org, "light", kT0)->id;
  ASSERT_TRUE(engine->top_up(heavy, 1000'0000, "", kT0).ok());
  ASSERT_TRUE(engine->top_up(light, 1000'0000, "", kT0).ok());
  JobRequest r;
  r.gpus = 8;
  r.gpu_model = "H100";
  r.time_limit_s = 3600;
  r.project = heavy;
  const JobId used = *engine->submit(r, kT0);
  engine->schedule(kT0);
  ASSERT_TRUE(engine->job_ended(used, JobEnd{}, kT0 + kHour, kT0 + kHour).ok());
  // Both submit at the same moment; the node fits one. The light project goes first.
  const int64_t t = kT0 + kHour + 1;
  const JobId heavy_job = *engine->submit(r, t);
  r.project = light;
  const JobId light_job = *engine->submit(r, t);
  EXPECT_GT(job(light_job).priority, job(heavy_job).priority);
  engine->schedule(t);
  EXPECT_EQ(job(light_job).state, JobState::kRunning);
  EXPECT_EQ(job(heavy_job).state, JobState::kPending);
  EXPECT_GT(engine->fairshare().usage(heavy), 8 * 3600 - 1);
}

TEST_F(EngineTest, QuoteTellsTheEarliestStart) {
  top_up(1000'0000);
  JobRequest r;
  r.project = project;
  r.gpus = 8;
  r.gpu_model = "H100";
  r.time_limit_s = 3600;
  EXPECT_EQ(engine->quote(r, kT0)->earliest_start_ms, kT0);
  submit(6, 1800);
  engine->schedule(kT0);
  EXPECT_EQ(engine->quote(r, kT0 + 5)->earliest_start_ms, kT0 + kHour / 2);
  r.gpus = 2;
  EXPECT_EQ(engine->quote(r, kT0 + 5)->earliest_start_ms, kT0 + 5);
}

TEST_F(EngineTest, PendingJobShowsWhenBackfillExpectsItToStart) {
  top_up(1000'0000);
  const JobId first = submit(8, 3600);
  const JobId second = submit(8, 3600);
  engine->schedule(kT0);
  EXPECT_EQ(job(first).state, JobState::kRunning);
  EXPECT_EQ(job(second).reason, PendingReason::kResources);
  EXPECT_EQ(job(second).expected_start_ms, kT0 + kHour);
}

TEST_F(EngineTest, SpotJobsPayTheSpotShareOfTheListPrice) {
  top_up(1000'0000);
  const JobId spot = submit(2, 3600, "H100", Tier::kSpot);
  engine->schedule(kT0);
  EXPECT_EQ(job(spot).price_per_gpu_hour_minor, kPrice / 2);
  EXPECT_EQ(job(spot).max_cost_minor, kPrice);  // 2 GPUs x 1 h at half price
}

TEST_F(EngineTest, NormalJobPreemptsTheYoungestSpotJobsAndTheyAreRequeued) {
  top_up(1000'0000);
  const JobId old_spot = submit(4, 3600, "H100", Tier::kSpot, kT0);
  const JobId young_spot = submit(4, 3600, "H100", Tier::kSpot, kT0);
  engine->schedule(kT0);
  ASSERT_EQ(job(old_spot).state, JobState::kRunning);
  ASSERT_EQ(job(young_spot).state, JobState::kRunning);  // same start: the higher id is younger
  const int64_t t = kT0 + 60'000;
  const JobId normal = submit(4, 3600, "H100", Tier::kNormal, t);
  EXPECT_TRUE(engine->schedule(t).empty());
  EXPECT_EQ(engine->take_preemptions(), std::vector<JobId>{young_spot});
  EXPECT_TRUE(engine->take_preemptions().empty());
  EXPECT_EQ(job(normal).reason, PendingReason::kResources);
  EXPECT_EQ(job(normal).expected_start_ms, t);
  // While the spot job is still stopping, nobody else is asked to stop and nothing takes its node.
  const JobId small = submit(1, 600, "H100", Tier::kNormal, t);
  EXPECT_TRUE(engine->schedule(t + 1).empty());
  EXPECT_TRUE(engine->take_preemptions().empty());
  // It stops after its grace period: charged 70 s at the spot price, requeued.
  ASSERT_TRUE(engine->job_ended(young_spot, JobEnd{0, 15, false, true, false}, t + 10'000, t + 10'000).ok());
  EXPECT_EQ(job(young_spot).state, JobState::kPending);
  EXPECT_EQ(job(young_spot).restarts, 1);
  EXPECT_EQ(job(young_spot).cost_minor, gpu_cost_minor(kPrice / 2, 4, 70'000));
  engine->schedule(t + 10'000);
  EXPECT_EQ(job(normal).state, JobState::kRunning);
  EXPECT_EQ(job(small).state, JobState::kPending);  // the node is full again: 4 spot + 4 normal
  EXPECT_EQ(job(young_spot).state, JobState::kPending);
  EXPECT_EQ(job(old_spot).state, JobState::kRunning);
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(EngineTest, SpotJobsNeverPreemptEachOther) {
  top_up(1000'0000);
  submit(8, 3600, "H100", Tier::kSpot, kT0);
  engine->schedule(kT0);
  const JobId other = submit(8, 3600, "H100", Tier::kSpot, kT0 + 1);
  engine->schedule(kT0 + 1);
  EXPECT_TRUE(engine->take_preemptions().empty());
  EXPECT_EQ(job(other).reason, PendingReason::kResources);
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
  ASSERT_TRUE(engine->job_ended(other, JobEnd{1, 0, false, false, false}, kT0 + 1000, kT0 + 1000).ok());
  engine->schedule(kT0 + 1000);
  EXPECT_EQ(job(after_ok).state, JobState::kRunning);
  EXPECT_EQ(job(any).state, JobState::kRunning);
  EXPECT_EQ(job(never).reason, PendingReason::kDependencyNeverSatisfied);
}

TEST_F(EngineTest, ArrayTasksRespectTheThrottle) {
  top_up(1000'0000);
  JobRequest r;
  r.project = project;
  r.gpus = 1;
  r.time_limit_s = 600;
  auto ids = engine->submit_array(r, {0, 1, 2, 3, 4}, 2, kT0);
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 5u);
  EXPECT_EQ(job((*ids)[3]).array_id, (*ids)[0]);
  EXPECT_EQ(job((*ids)[3]).array_index, 3);
  EXPECT_EQ(engine->schedule(kT0).size(), 2u);
  EXPECT_EQ(job((*ids)[2]).reason, PendingReason::kJobArrayTaskLimit);
  ASSERT_TRUE(engine->job_ended((*ids)[0], JobEnd{}, kT0 + 1000, kT0 + 1000).ok());
  EXPECT_EQ(engine->schedule(kT0 + 1000).size(), 1u);
}

TEST(LimitsTest, GpuCapsHoldJobsAsQuotaLimitAndPendingCapsRefuseSubmits) {
  SchedulerConfig sc;
  sc.project_limits["vision"] = Limit{4, 2};
  sc.org_limits["hku"] = Limit{6, -1};
  auto e = std::move(*Engine::Create(two_nodes(), kT0, sc));
  const OrgId o = e->create_org("hku", OrgKind::kUniversity, kT0)->id;
  const ProjectId vision = e->create_project(o, "vision", kT0)->id;
  const ProjectId audio = e->create_project(o, "audio", kT0)->id;
  ASSERT_TRUE(e->top_up(vision, 1000'0000, "", kT0).ok());
  ASSERT_TRUE(e->top_up(audio, 1000'0000, "", kT0).ok());
  JobRequest r;
  r.project = vision;
  r.gpu_model = "H100";
  r.time_limit_s = 3600;
  r.gpus = 5;
  EXPECT_EQ(e->submit(r, kT0).status().code(), Code::kInvalidArgument);  // over the project's cap: never runs
  r.gpus = 3;
  const JobId a = *e->submit(r, kT0);
  const JobId b = *e->submit(r, kT0);
  EXPECT_EQ(e->submit(r, kT0).status().code(), Code::kConflict);  // two already waiting
  r.project = audio;
  const JobId c = *e->submit(r, kT0);
  e->schedule(kT0);
  EXPECT_EQ(e->job(a)->state, JobState::kRunning);
  EXPECT_EQ(e->job(b)->reason, PendingReason::kQuotaLimit);  // vision would hold 6 > 4
  EXPECT_EQ(e->job(c)->state, JobState::kRunning);           // hku now holds 6 of its 6
  r.gpus = 1;
  const JobId d = *e->submit(r, kT0);
  e->schedule(kT0);
  EXPECT_EQ(e->job(d)->reason, PendingReason::kQuotaLimit);  // the organisation's cap
  ASSERT_TRUE(e->job_ended(a, JobEnd{}, kT0 + 1000, kT0 + 1000).ok());
  e->schedule(kT0 + 1000);
  EXPECT_EQ(e->job(b)->state, JobState::kRunning);
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

TEST(FundingTest, IneligibleOrganisationGetsNoAwardAndNothingMoves) {
  auto e = std::move(*Engine::Create(two_nodes(), kT0));
  const OrgId startup = e->create_org("acme", OrgKind::kStartup, kT0)->id;
  const ProjectId p = e->create_project(startup, "llm", kT0)->id;
  const SchemeId s = e->create_scheme("unis-only", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                      Shortfall::kWallet, 100'0000, kT0)->id;
  const size_t transfers = e->ledger().transfer_count();
  auto a = e->create_award(s, p, 10'0000, 8, kT0, kT0 + kHour, kT0);
  EXPECT_EQ(a.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(e->ledger().transfer_count(), transfers);
  EXPECT_TRUE(e->funding().awards().empty());
}

TEST(FundingTest, AwardsNeverExceedTheFund) {
  auto e = std::move(*Engine::Create(two_nodes(), kT0));
  const OrgId o = e->create_org("hku", OrgKind::kUniversity, kT0)->id;
  const ProjectId p = e->create_project(o, "vision", kT0)->id;
  const SchemeId s = e->create_scheme("small", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                      Shortfall::kWallet, 100'0000, kT0)->id;
  ASSERT_TRUE(e->create_award(s, p, 60'0000, 8, kT0, kT0 + kHour, kT0).ok());
  EXPECT_EQ(e->create_award(s, p, 40'0001, 8, kT0, kT0 + kHour, kT0).status().code(), Code::kInsufficientFunds);
  EXPECT_TRUE(e->create_award(s, p, 40'0000, 8, kT0, kT0 + kHour, kT0).ok());
  EXPECT_EQ(e->ledger().account(e->funding().scheme(s)->fund)->balance(), 0);
}

TEST(FundingTest, BadFieldsAreRefused) {
  auto e = std::move(*Engine::Create(two_nodes(), kT0));
  EXPECT_EQ(e->create_org("", OrgKind::kOther, kT0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(e->create_org("12", OrgKind::kOther, kT0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(e->create_org("a b", OrgKind::kOther, kT0).status().code(), Code::kInvalidArgument);
  const OrgId o = e->create_org("hku", OrgKind::kUniversity, kT0)->id;
  EXPECT_EQ(e->create_org("hku", OrgKind::kOther, kT0).status().code(), Code::kConflict);
  EXPECT_EQ(e->create_project(OrgId(9), "x", kT0).status().code(), Code::kNotFound);
  const ProjectId p = e->create_project(o, "vision", kT0)->id;
  EXPECT_EQ(e->create_scheme("s", 10'001, 1, Shortfall::kWallet, 0, kT0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(e->create_scheme("s", 7000, 0, Shortfall::kWallet, 0, kT0).status().code(), Code::kInvalidArgument);
  const SchemeId s = e->create_scheme("s", 7000, 1u << static_cast<int>(OrgKind::kUniversity), Shortfall::kWallet,
                                      100'0000, kT0)->id;
  EXPECT_EQ(e->create_award(s, p, 10, 8, kT0 + kHour, kT0, kT0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(e->create_award(s, p, 0, 8, kT0, kT0 + kHour, kT0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(e->create_award(s, p, 10, 0, kT0, kT0 + kHour, kT0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(e->top_up(p, 0, "", kT0).status().code(), Code::kInvalidArgument);
  // Nothing above created an account beyond the system ones, the wallet and the fund.
  EXPECT_EQ(e->ledger().account_count(), 5u);
}

TEST(FundingTest, TopUpReferenceIsIdempotent) {
  auto e = std::move(*Engine::Create(two_nodes(), kT0));
  const OrgId o = e->create_org("hku", OrgKind::kUniversity, kT0)->id;
  const ProjectId p = e->create_project(o, "vision", kT0)->id;
  bool replayed = true;
  ASSERT_TRUE(e->top_up(p, 10'0000, "INV-1", kT0, &replayed).ok());
  EXPECT_FALSE(replayed);
  ASSERT_TRUE(e->top_up(p, 10'0000, "INV-1", kT0, &replayed).ok());
  EXPECT_TRUE(replayed);
  EXPECT_EQ(e->top_up(p, 20'0000, "INV-1", kT0).status().code(), Code::kConflict);
  EXPECT_EQ(e->ledger().account(e->funding().project(p)->wallet)->balance(), 10'0000);
}

TEST_F(EngineTest, RestoreFromASnapshotGivesTheSameState) {
  grant(100'0000, 8);
  top_up(100'0000);
  const JobId a = submit(2);
  submit(1);
  engine->schedule(kT0);
  ASSERT_TRUE(engine->job_ended(a, JobEnd{}, kT0 + 5000, kT0 + 5000).ok());
  const JobId c = submit(8);
  engine->schedule(kT0 + 5000);
  const ChangeSet rows = engine->snapshot();
  auto restored = Engine::Restore(two_nodes(), rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const Engine& r = **restored;
  EXPECT_EQ(r.jobs().size(), engine->jobs().size());
  EXPECT_EQ(r.cluster().used_gpus(), engine->cluster().used_gpus());
  EXPECT_EQ(r.job(c)->state, engine->job(c)->state);
  EXPECT_EQ(r.ledger().transfer_count(), engine->ledger().transfer_count());
  for (const Account* acct : engine->ledger().accounts()) {
    const Account* b = r.ledger().account(acct->id);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->debits_posted, acct->debits_posted);
    EXPECT_EQ(b->debits_pending, acct->debits_pending);
    EXPECT_EQ(b->credits_posted, acct->credits_posted);
  }
}

// Three 8-GPU H100 nodes for gang jobs.
ClusterConfig three_h100() {
  ClusterConfig c;
  for (const char* name : {"g1", "g2", "g3"}) c.nodes.push_back(Node{NodeId(), name, "H100", 8, 64, 1000, NodeState::kUp});
  c.prices = {{"H100", kPrice}};
  c.partitions = {Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

class GangTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine = std::move(*Engine::Create(three_h100(), kT0));
    org = engine->create_org("hku", OrgKind::kUniversity, kT0)->id;
    project = engine->create_project(org, "llm", kT0)->id;
    ASSERT_TRUE(engine->top_up(project, 10'000'0000, "", kT0).ok());
  }
  Result<JobId> submit(int gpus, int nodes, int64_t limit_s = 3600, int64_t now = kT0) {
    JobRequest r;
    r.project = project;
    r.gpus = gpus;
    r.nodes = nodes;
    r.time_limit_s = limit_s;
    return engine->submit(r, now);
  }
  std::unique_ptr<Engine> engine;
  OrgId org;
  ProjectId project;
};

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

TEST_F(EngineTest, AModelListIsValidatedAndQuotedAtItsDearestModel) {
  top_up(1000'0000);
  JobRequest r;
  r.project = project;
  r.gpus = 4;
  r.time_limit_s = 3600;
  r.gpu_model = "A100|H100";
  auto q = engine->quote(r, kT0);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->gpu_model, "H100");
  EXPECT_EQ(q->max_cost_minor, 4 * kPrice);
  r.gpu_model = "A100|B200";
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kInvalidArgument);
  r.gpu_model = "A100|H100";
  r.gpus = 8;  // only the H100 node holds 8
  const JobId id = *engine->submit(r, kT0);
  engine->schedule(kT0);
  ASSERT_EQ(engine->job(id)->state, JobState::kRunning);
  EXPECT_EQ(engine->cluster().node(engine->job(id)->node)->gpu_model, "H100");
  EXPECT_EQ(engine->job(id)->max_cost_minor, 8 * kPrice);
}

TEST_F(GangTest, RefusesWhatCanNeverBePlaced) {
  EXPECT_TRUE(submit(12, 2).ok()) << "6 GPUs on each of 2 nodes";
  EXPECT_EQ(submit(9, 2).status().code(), Code::kInvalidArgument);   // does not divide
  EXPECT_EQ(submit(32, 4).status().code(), Code::kInvalidArgument);  // only 3 nodes
  EXPECT_EQ(submit(32, 2).status().code(), Code::kInvalidArgument);  // 16 per node
  EXPECT_EQ(submit(2, 0).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(submit(24, 3).ok());
}

TEST_F(GangTest, ANodeGoingDownEndsTheGangOnAllItsNodes) {
  const JobId gang = *submit(16, 2);
  engine->schedule(kT0);
  const NodeId second = engine->job(gang)->more_nodes[0].node;
  auto ended = engine->set_node_state(second, NodeState::kDown, kT0 + kHour / 4);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(*ended, std::vector<JobId>{gang});
  EXPECT_EQ(engine->job(gang)->state, JobState::kNodeFail);
  EXPECT_EQ(engine->job(gang)->cost_minor, 4 * kPrice);  // charged for the quarter hour it ran
  EXPECT_EQ(engine->cluster().used_gpus(), 0);
}

TEST_F(GangTest, RestoreReallocatesEveryNodeOfARunningGang) {
  const JobId gang = *submit(16, 2);
  engine->schedule(kT0);
  auto restored = Engine::Restore(three_h100(), engine->snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->cluster().used_gpus(), 16);
  EXPECT_EQ((*restored)->job(gang)->more_nodes, engine->job(gang)->more_nodes);
}

TEST_F(GangTest, JobsWithoutALimitArePlannedWithTheProjectsRecentRuntimes) {
  // Two finished 8-GPU jobs ran 10 and 20 minutes: the next is planned for 15.
  for (int64_t minutes : {10, 20}) {
    const JobId id = *submit(8, 1, 0);
    engine->schedule(kT0);
    ASSERT_TRUE(engine->job_ended(id, JobEnd{}, kT0 + minutes * 60'000, kT0 + minutes * 60'000).ok());
  }
  const JobId next = *submit(8, 1, 0, kT0 + kHour);
  EXPECT_EQ(engine->job(next)->time_limit_s, 3600);  // the partition's default still ends it
  EXPECT_EQ(engine->job(next)->estimate_s, 15 * 60);
  EXPECT_EQ(engine->job(next)->planned_s(), 15 * 60);
  // A different size falls back to the project's history; a given limit is planned as is.
  EXPECT_EQ(engine->job(*submit(16, 2, 0, kT0 + kHour))->estimate_s, 15 * 60);
  EXPECT_EQ(engine->job(*submit(8, 1, 1800, kT0 + kHour))->estimate_s, 0);
  // A restored engine learns the same history.
  auto restored = Engine::Restore(three_h100(), engine->snapshot());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ((*restored)->predictor().predict(project, 8), 15 * 60);
}

TEST_F(GangTest, ShortestFirstOrdersByPlannedGpuTime) {
  SchedulerConfig config;
  config.order = QueueOrder::kShortest;
  engine = std::move(*Engine::Create(three_h100(), kT0, config));
  org = engine->create_org("o", OrgKind::kUniversity, kT0)->id;
  project = engine->create_project(org, "p", kT0)->id;
  ASSERT_TRUE(engine->top_up(project, 10'000'0000, "", kT0).ok());
  const JobId fill = *submit(24, 3, 600);
  engine->schedule(kT0);
  const JobId long_small = *submit(8, 1, 7200);   // 57,600 GPU-s
  const JobId short_big = *submit(16, 2, 1200);   // 19,200 GPU-s: first
  ASSERT_TRUE(engine->job_ended(fill, JobEnd{}, kT0 + 600'000, kT0 + 600'000).ok());
  const auto started = engine->schedule(kT0 + 600'000);
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[0], short_big);
  EXPECT_EQ(started[1], long_small);
}

}  // namespace
}  // namespace berth::core
