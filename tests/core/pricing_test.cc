// The Engine's pricing (pricing.cc): requests checked against the cluster, quotes split at the
// award's rate, who pays when an award is short, spot prices, the earliest start.
#include <gtest/gtest.h>

#include <limits>

#include "core/engine.h"
#include "core/engine_fixture.h"
#include "core/reconcile.h"

namespace berth::core {
namespace {

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
  EXPECT_EQ(q->max_cost_minor, 600'000);  // 30 x 2 GPUs x 1 h = 60.0000
  EXPECT_EQ(q->subsidy_minor, 420'000);   // 70 %
  EXPECT_EQ(q->copay_minor, 180'000);
  EXPECT_TRUE(q->affordable);
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
  auto s = engine->create_scheme("strict", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                 Shortfall::kWait, 100'0000, kT0);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(engine->create_award(s->id, project, 1, 8, kT0 - kHour, kT0 + kHour, kT0).ok());
  top_up(100'0000);
  const JobId id = submit(1);
  EXPECT_TRUE(engine->schedule(kT0).empty());
  EXPECT_EQ(job(id).reason, PendingReason::kInsufficientFunds);
}

TEST_F(EngineTest, SubmitRefusesWhatCanNeverRun) {
  JobRequest r;
  r.project = project;
  r.time_limit_s = 60;
  r.gpus = 0;
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kInvalidArgument);
  r.gpus = 9;  // the largest node has 8
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

TEST_F(EngineTest, SpotJobsPayTheSpotShareOfTheListPrice) {
  top_up(1000'0000);
  const JobId spot = submit(2, 3600, "H100", Tier::kSpot);
  engine->schedule(kT0);
  EXPECT_EQ(job(spot).price_per_gpu_hour_minor, kPrice / 2);
  EXPECT_EQ(job(spot).max_cost_minor, kPrice);  // 2 GPUs x 1 h at half price
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

// A hold time shorter than the limit (berth sim's jobs without a limit) holds price x GPUs x
// that time; the job runs on past it and is charged at most what it held. Reconcile agrees.
TEST_F(EngineTest, AHoldTimeShorterThanTheLimitHoldsForThatLong) {
  top_up(1'000'0000);
  JobRequest r;
  r.project = project;
  r.gpus = 2;
  r.gpu_model = "H100";
  r.time_limit_s = 10 * 3600;
  r.hold_s = 3600;
  auto id = engine->submit(r, kT0);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);
  EXPECT_EQ(job(*id).max_cost_minor, 2 * kPrice);  // one hour, not ten
  EXPECT_EQ(wallet().debits_pending, 2 * kPrice);
  ASSERT_TRUE(engine->job_ended(*id, JobEnd{}, kT0 + 3 * kHour, kT0 + 3 * kHour).ok());
  EXPECT_EQ(job(*id).cost_minor, 2 * kPrice);  // ran three hours, charged what it held
  EXPECT_TRUE(engine->verify().ok());
  const ReconcileReport report = reconcile(engine->snapshot());
  EXPECT_TRUE(report.ok()) << report.differences_found << " differences, the first: "
                           << (report.differences.empty() ? "" : report.differences[0].message);

  r.hold_s = -1;
  EXPECT_EQ(engine->submit(r, kT0).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace berth::core
