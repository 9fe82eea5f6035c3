// Reconciliation: a real Engine's books reconcile clean, and each kind of tampering with the
// rows is reported against the right entity.
#include "core/reconcile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "common/enum_names_testing.h"
#include "core/engine.h"

namespace berth::core {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kT0 = 1'800'000'000'000;  // a fixed virtual "now"
constexpr Minor kH100Price = 300'000;       // 30.0000 per GPU-hour
constexpr Minor kA100Price = 200'000;

ClusterConfig two_nodes() {
  ClusterConfig c;
  c.nodes = {Node{NodeId(), "a1", "A100", 4, 32, 1000, NodeState::kUp},
             Node{NodeId(), "h1", "H100", 8, 64, 1000, NodeState::kUp}};
  c.prices = {{"A100", kA100Price}, {"H100", kH100Price}};
  c.partitions = {Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

std::string describe(const ReconcileReport& r) {
  std::ostringstream out;
  out << r.differences_found << " difference(s)\n";
  for (const Difference& d : r.differences)
    out << "  " << difference_kind_name(d.kind) << " " << entity_kind_name(d.entity) << " " << d.id
        << " " << d.field << ": " << d.message << "\n";
  return out.str();
}

bool has(const ReconcileReport& r, DifferenceKind kind, EntityKind entity, uint64_t id) {
  return std::any_of(r.differences.begin(), r.differences.end(), [&](const Difference& d) {
    return d.kind == kind && d.entity == entity && d.id == id;
  });
}

const Difference* find(const ReconcileReport& r, DifferenceKind kind) {
  for (const Difference& d : r.differences)
    if (d.kind == kind) return &d;
  return nullptr;
}

Transfer* transfer(ChangeSet& rows, TransferId id) {
  for (Transfer& t : rows.transfers)
    if (t.id == id) return &t;
  return nullptr;
}

// A centre whose books have seen every kind of movement: schemes funded, an award granted,
// top-ups, and jobs that completed, were cancelled before and while running, were requeued
// after a loss, were preempted, ended with their node, and one still running.
class ReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SchedulerConfig scheduling;
    scheduling.preemption = true;
    auto e = Engine::Create(two_nodes(), kT0, scheduling);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    const OrgId hku = engine->create_org("hku", OrgKind::kUniversity, kT0)->id;
    const OrgId acme = engine->create_org("acme", OrgKind::kStartup, kT0)->id;
    vision = engine->create_project(hku, "vision", kT0)->id;
    llm = engine->create_project(acme, "llm", kT0)->id;
    auto s = engine->create_scheme("ai-subsidy", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                   Shortfall::kWallet, 1'000'000'0000, kT0);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE(
        engine->create_award(s->id, vision, 500'0000, 8, kT0 - kHour, kT0 + 1000 * kHour, kT0)
            .ok());
    auto t = engine->top_up(vision, 1000'0000, "INV-1", kT0);
    ASSERT_TRUE(t.ok());
    topup = t->transfer;
    ASSERT_TRUE(engine->top_up(llm, 1000'0000, "", kT0).ok());
    run_jobs();
  }

  JobId submit(ProjectId project, int gpus, const std::string& model, int64_t now,
               bool requeue = false, Tier tier = Tier::kNormal) {
    JobRequest r;
    r.project = project;
    r.gpus = gpus;
    r.time_limit_s = 3600;
    r.gpu_model = model;
    r.requeue = requeue;
    r.tier = tier;
    auto id = engine->submit(r, now);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : JobId();
  }

  void end(JobId id, int64_t at, JobEnd how = JobEnd{}) {
    ASSERT_TRUE(engine->job_ended(id, how, at, at).ok());
  }

  void run_jobs() {
    completed = submit(vision, 3, "H100", kT0);
    never_ran = submit(vision, 1, "H100", kT0);
    ASSERT_TRUE(engine->cancel(never_ran, kT0).ok());
    requeued = submit(vision, 1, "H100", kT0, /*requeue=*/true);
    unsubsidised = submit(llm, 2, "H100", kT0);
    node_fail = submit(vision, 2, "A100", kT0);
    engine->schedule(kT0);
    ASSERT_EQ(engine->job(completed)->state, JobState::kRunning);
    ASSERT_EQ(engine->job(node_fail)->state, JobState::kRunning);
    end(completed, kT0 + 1'234'567);
    end(unsubsidised, kT0 + 2'000'001, JobEnd{1, 0, false, false, false});  // FAILED
    JobEnd lost;
    lost.lost = true;
    end(requeued, kT0 + 60'000, lost);  // requeued: charged one minute, held afresh
    ASSERT_EQ(engine->job(requeued)->restarts, 1);
    engine->schedule(kT0 + 120'000);
    ASSERT_EQ(engine->job(requeued)->state, JobState::kRunning);
    end(requeued, kT0 + 180'001);
    // A node going down ends its job as NODE_FAIL, charged up to then.
    ASSERT_TRUE(engine
                    ->set_node_state(engine->cluster().node_by_name("a1")->id, NodeState::kDown,
                                     kT0 + 300'000)
                    .ok());
    ASSERT_EQ(engine->job(node_fail)->state, JobState::kNodeFail);
    // A spot job preempted by a normal one is charged for its time and requeued; the normal one
    // is cancelled while running.
    spot = submit(llm, 8, "H100", kT0 + 400'000, false, Tier::kSpot);
    engine->schedule(kT0 + 400'000);
    ASSERT_EQ(engine->job(spot)->state, JobState::kRunning);
    cancelled_running = submit(vision, 8, "H100", kT0 + 500'000);
    engine->schedule(kT0 + 500'000);
    ASSERT_EQ(engine->take_preemptions(), std::vector<JobId>{spot});
    end(spot, kT0 + 510'000, JobEnd{0, 15, false, true, false});
    ASSERT_EQ(engine->job(spot)->restarts, 1);
    engine->schedule(kT0 + 510'000);
    ASSERT_EQ(engine->job(cancelled_running)->state, JobState::kRunning);
    ASSERT_TRUE(engine->cancel(cancelled_running, kT0 + 520'000).ok());
    end(cancelled_running, kT0 + 530'000, JobEnd{0, 15, false, true, false});
    engine->schedule(kT0 + 530'000);
    ASSERT_EQ(engine->job(spot)->state, JobState::kRunning);  // its second run, still going
    ASSERT_TRUE(engine->verify().ok());
  }

  // The subsidy and co-payment transfers of a job's run.
  static TransferId id_of(JobId job, int run, int phase) {
    return Engine::job_transfer_id(job, run, phase);
  }

  std::unique_ptr<Engine> engine;
  ProjectId vision, llm;
  TransferId topup;
  JobId completed, never_ran, requeued, unsubsidised, node_fail, spot, cancelled_running;
};

TEST_F(ReconcileTest, AnEnginesSnapshotReconcilesClean) {
  const ChangeSet rows = engine->snapshot();
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.accounts_checked, rows.accounts.size());
  EXPECT_EQ(r.transfers_checked, rows.transfers.size());
  EXPECT_EQ(r.jobs_checked, 7u);
  EXPECT_EQ(r.topups_checked, 2u);
  EXPECT_EQ(r.runs_not_recomputed, 0u);  // every earlier run ran at its job's last price
  // The requeued job was charged for both of its runs, each from its own holds.
  EXPECT_EQ(engine->job(requeued)->cost_minor,
            gpu_cost_minor(kH100Price, 1, 60'000) + gpu_cost_minor(kH100Price, 1, 60'001));
}

TEST_F(ReconcileTest, AReloadedEngineReconcilesClean) {
  auto restored = Engine::Restore(two_nodes(), engine->snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const ReconcileReport r = reconcile((*restored)->snapshot());
  EXPECT_TRUE(r.ok()) << describe(r);
}

TEST_F(ReconcileTest, AnAccountBalanceOffByOneMinorUnitIsReported) {
  ChangeSet rows = engine->snapshot();
  const AccountId wallet = engine->funding().project(vision)->wallet;
  for (Account& a : rows.accounts)
    if (a.id == wallet) a.debits_posted += 1;
  const ReconcileReport r = reconcile(rows);
  ASSERT_TRUE(has(r, DifferenceKind::kAccountBalance, EntityKind::kAccount, wallet.value))
      << describe(r);
  const Difference* d = find(r, DifferenceKind::kAccountBalance);
  EXPECT_EQ(d->field, "debits_posted");
  EXPECT_EQ(d->found - d->expected, 1);
  EXPECT_TRUE(has(r, DifferenceKind::kUnbalancedTotals, EntityKind::kLedger, 0)) << describe(r);
  EXPECT_EQ(r.differences_found, 2u) << describe(r);
}

TEST_F(ReconcileTest, AJobsChangedSubsidyIsReported) {
  ChangeSet rows = engine->snapshot();
  rows.jobs[completed.value - 1].subsidy_minor -= 1;
  rows.jobs[completed.value - 1].copay_minor += 1;  // still adds up to the cost
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(has(r, DifferenceKind::kJobSubsidy, EntityKind::kJob, completed.value))
      << describe(r);
  EXPECT_TRUE(has(r, DifferenceKind::kJobCopay, EntityKind::kJob, completed.value)) << describe(r);
  EXPECT_EQ(r.differences_found, 2u) << describe(r);
}

TEST_F(ReconcileTest, AJobsCostThatDoesNotMatchItsRuntimeIsReported) {
  ChangeSet rows = engine->snapshot();
  Job& j = rows.jobs[completed.value - 1];
  j.end_ms += 60'000;  // a minute more than its posts were charged for
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(has(r, DifferenceKind::kJobCost, EntityKind::kJob, completed.value)) << describe(r);
  EXPECT_TRUE(has(r, DifferenceKind::kJobPosting, EntityKind::kTransfer,
                  id_of(completed, 0, Engine::kPhaseSubsidyPost).value))
      << describe(r);
}

TEST_F(ReconcileTest, ATransfersChangedAmountIsReported) {
  ChangeSet rows = engine->snapshot();
  const TransferId post = id_of(completed, 0, Engine::kPhaseCopayPost);
  transfer(rows, post)->amount += 1;
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(has(r, DifferenceKind::kJobPosting, EntityKind::kTransfer, post.value))
      << describe(r);
  EXPECT_TRUE(has(r, DifferenceKind::kPendingState, EntityKind::kTransfer,
                  id_of(completed, 0, Engine::kPhaseCopayHold).value))
      << describe(r);
  EXPECT_TRUE(has(r, DifferenceKind::kAccountBalance, EntityKind::kAccount, kRevenueAccount.value))
      << describe(r);

  ChangeSet rows2 = engine->snapshot();
  transfer(rows2, topup)->amount -= 1;
  const ReconcileReport r2 = reconcile(rows2);
  EXPECT_TRUE(has(r2, DifferenceKind::kTopUpTransfer, EntityKind::kTopUp, topup.value))
      << describe(r2);
  EXPECT_TRUE(
      has(r2, DifferenceKind::kAccountBalance, EntityKind::kAccount, kExternalAccount.value))
      << describe(r2);
}

TEST_F(ReconcileTest, APostAboveItsHoldIsReported) {
  ChangeSet rows = engine->snapshot();
  const Transfer* hold = transfer(rows, id_of(completed, 0, Engine::kPhaseSubsidyHold));
  Transfer* post = transfer(rows, id_of(completed, 0, Engine::kPhaseSubsidyPost));
  post->amount = hold->amount + 1;
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(has(r, DifferenceKind::kPostExceedsHold, EntityKind::kTransfer, post->id.value))
      << describe(r);
  const Difference* d = find(r, DifferenceKind::kPostExceedsHold);
  EXPECT_EQ(d->expected, hold->amount);
  EXPECT_EQ(d->found, hold->amount + 1);
}

TEST_F(ReconcileTest, AHoldResolvedTwiceIsReported) {
  ChangeSet rows = engine->snapshot();
  Transfer again = *transfer(rows, id_of(completed, 0, Engine::kPhaseSubsidyPost));
  again.id = TransferId(again.id.value + 4);  // a fifth phase no run has
  rows.transfers.push_back(again);
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(has(r, DifferenceKind::kHoldResolvedTwice, EntityKind::kTransfer,
                  id_of(completed, 0, Engine::kPhaseSubsidyHold).value))
      << describe(r);
  EXPECT_TRUE(has(r, DifferenceKind::kJobTransfer, EntityKind::kTransfer, again.id.value))
      << describe(r);
}

TEST_F(ReconcileTest, AMissingTopUpTransferIsReported) {
  ChangeSet rows = engine->snapshot();
  std::erase_if(rows.transfers, [&](const Transfer& t) { return t.id == topup; });
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(has(r, DifferenceKind::kTopUpTransfer, EntityKind::kTopUp, topup.value))
      << describe(r);
  const AccountId wallet = engine->funding().project(vision)->wallet;
  EXPECT_TRUE(has(r, DifferenceKind::kAccountBalance, EntityKind::kAccount, wallet.value))
      << describe(r);
  EXPECT_TRUE(has(r, DifferenceKind::kOverdraft, EntityKind::kAccount, wallet.value))
      << describe(r);
}

TEST_F(ReconcileTest, ATopUpTransferWithoutItsRowIsReported) {
  ChangeSet rows = engine->snapshot();
  std::erase_if(rows.topups, [&](const TopUp& t) { return t.transfer == topup; });
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(has(r, DifferenceKind::kTopUpUnrecorded, EntityKind::kTransfer, topup.value))
      << describe(r);
  EXPECT_EQ(r.differences_found, 1u) << describe(r);
}

TEST_F(ReconcileTest, AnEarlierRunIsRecomputedFromItsTransfers) {
  // The first run of the requeued job is known only by its transfers: its post moved a
  // second later charges a second more than was posted.
  ChangeSet rows = engine->snapshot();
  for (int phase : {Engine::kPhaseSubsidyPost, Engine::kPhaseCopayPost})
    transfer(rows, id_of(requeued, 0, phase))->timestamp_ms += 1000;
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(has(r, DifferenceKind::kJobPosting, EntityKind::kTransfer,
                  id_of(requeued, 0, Engine::kPhaseCopayPost).value))
      << describe(r);
  EXPECT_TRUE(has(r, DifferenceKind::kJobCost, EntityKind::kJob, requeued.value)) << describe(r);
}

TEST_F(ReconcileTest, AnEarlierRunAtAnotherPriceIsCountedNotRecomputed) {
  // Were the job's last run at another price, the first run's charge could not be recomputed
  // from the rows; its split and the job's totals are still checked.
  ChangeSet rows = engine->snapshot();
  Job& j = rows.jobs[spot.value - 1];
  ASSERT_EQ(j.state, JobState::kRunning);
  j.price_per_gpu_hour_minor += 1;
  j.max_cost_minor = gpu_cost_minor(j.price_per_gpu_hour_minor, j.gpus, j.time_limit_s * 1000);
  const Minor change = j.max_cost_minor - (j.subsidy_held_minor + j.copay_held_minor);
  j.copay_held_minor += change;
  transfer(rows, id_of(spot, 1, Engine::kPhaseCopayHold))->amount += change;
  for (Account& a : rows.accounts) {
    if (a.id == engine->funding().project(llm)->wallet) a.debits_pending += change;
    if (a.id == kRevenueAccount) a.credits_pending += change;
  }
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.runs_not_recomputed, 1u);
}

TEST_F(ReconcileTest, ARunningJobsHoldThatDiffersFromItsRowIsReported) {
  ChangeSet rows = engine->snapshot();
  const TransferId hold = id_of(spot, 1, Engine::kPhaseCopayHold);
  transfer(rows, hold)->amount = 1'000'000'0000;  // far more than the wallet has
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(has(r, DifferenceKind::kJobHold, EntityKind::kTransfer, hold.value)) << describe(r);
  EXPECT_TRUE(has(r, DifferenceKind::kOverdraft, EntityKind::kAccount,
                  engine->funding().project(llm)->wallet.value))
      << describe(r);
}

TEST_F(ReconcileTest, AStoredHoldStateThatDisagreesIsReported) {
  ChangeSet rows = engine->snapshot();
  const TransferId hold = id_of(node_fail, 0, Engine::kPhaseSubsidyHold);
  for (PendingUpdate& u : rows.pending)
    if (u.id == hold) u.posted_minor += 1;
  const ReconcileReport r = reconcile(rows);
  EXPECT_TRUE(has(r, DifferenceKind::kPendingState, EntityKind::kTransfer, hold.value))
      << describe(r);
  EXPECT_EQ(r.differences_found, 1u) << describe(r);
}

TEST_F(ReconcileTest, TheListIsCappedButEveryDifferenceIsCounted) {
  ChangeSet rows = engine->snapshot();
  for (Account& a : rows.accounts) a.credits_posted += 1;
  const ReconcileReport all = reconcile(rows);
  ASSERT_GT(all.differences_found, 3u);
  const ReconcileReport capped = reconcile(rows, ReconcileOptions{.max_listed = 3});
  EXPECT_EQ(capped.differences.size(), 3u);
  EXPECT_EQ(capped.differences_found, all.differences_found);
  EXPECT_FALSE(capped.ok());
}

// Awards with their own terms, on a fresh centre with room to run jobs. Both cases were found
// by the randomized run (tests/store/random_restart_test.cc).
class ReconcileAwardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Engine::Create(two_nodes(), kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    org = engine->create_org("hku", OrgKind::kUniversity, kT0)->id;
    vision = engine->create_project(org, "vision", kT0)->id;
    SchemeSpec spec;
    spec.name = "ai-subsidy";
    spec.rate_bps = 7000;
    spec.exceptional_rate_bps = 9000;
    spec.eligible_kinds = 1u << static_cast<int>(OrgKind::kUniversity);
    auto s = engine->create_scheme(spec, 1'000'000'0000, kT0);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scheme = s->id;
    ASSERT_TRUE(engine->top_up(vision, 1000'0000, "", kT0).ok());
  }
  // Starts a one-GPU H100 job of vision's at `at`.
  JobId start_job(int64_t at) {
    JobRequest r;
    r.project = vision;
    r.gpus = 1;
    r.gpu_model = "H100";
    r.time_limit_s = 3600;
    auto id = engine->submit(r, at);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_EQ(engine->schedule(at).size(), 1u);
    return id.ok() ? *id : JobId();
  }

  std::unique_ptr<Engine> engine;
  OrgId org;
  ProjectId vision;
  SchemeId scheme;
};

TEST_F(ReconcileAwardTest, AJobOnAnAwardAtItsExceptionalRateReconcilesClean) {
  const Actor member{"alice", FundingRole::kMember, org};
  const Actor reviewer{"rita", FundingRole::kReviewer, OrgId()};
  ASSERT_TRUE(engine->set_criteria(reviewer, scheme, {{"merit", 10'000}}, kT0).ok());
  ApplicationTerms terms;
  terms.amount_minor = 500'0000;
  terms.gpu_level = 8;
  terms.duration_days = 30;
  terms.justification = "a model";
  auto app = engine->draft_application(member, scheme, vision, terms, kT0);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  ASSERT_TRUE(engine->submit_application(member, *app, kT0).ok());
  ASSERT_TRUE(engine->review_application(reviewer, *app, {{"merit", 80}}, "", kT0).ok());
  Approval approval;
  approval.exceptional_rate = true;
  auto award = engine->approve_application(reviewer, *app, approval, kT0);
  ASSERT_TRUE(award.ok()) << award.status().ToString();
  ASSERT_EQ(award->rate_bps, 9000);
  const JobId job = start_job(kT0 + 1);
  ASSERT_EQ(engine->job(job)->rate_bps, 9000);
  ASSERT_TRUE(engine->job_ended(job, JobEnd{}, kT0 + kHour / 2, kT0 + kHour / 2).ok());
  const ReconcileReport r = reconcile(engine->snapshot());
  EXPECT_TRUE(r.ok()) << describe(r);  // the job's rate is its award's, not its scheme's 7000
}

TEST_F(ReconcileAwardTest, AHoldPlacedTheMomentItsAwardClosesReconcilesClean) {
  auto award = engine->create_award(scheme, vision, 500'0000, 8, kT0, kT0 + 1000 * kHour, kT0);
  ASSERT_TRUE(award.ok()) << award.status().ToString();
  const int64_t at = kT0 + kHour;
  const JobId job = start_job(at);
  ASSERT_EQ(engine->job(job)->award, award->id);
  ASSERT_TRUE(engine->close_award(award->id, "ended early", at).ok());  // in the same batch
  ASSERT_TRUE(engine->verify().ok());
  const ReconcileReport running = reconcile(engine->snapshot());
  EXPECT_TRUE(running.ok()) << describe(running);
  ASSERT_TRUE(engine->job_ended(job, JobEnd{}, at + kHour / 2, at + kHour / 2).ok());
  const ReconcileReport ended = reconcile(engine->snapshot());
  EXPECT_TRUE(ended.ok()) << describe(ended);
  // A hold placed after the closing moment is still reported.
  ChangeSet rows = engine->snapshot();
  Transfer* hold = transfer(rows, Engine::job_transfer_id(job, 0, Engine::kPhaseSubsidyHold));
  ASSERT_NE(hold, nullptr);
  hold->timestamp_ms = at + 1;
  EXPECT_TRUE(has(reconcile(rows), DifferenceKind::kHoldOutsideAward, EntityKind::kTransfer,
                  hold->id.value));
}

TEST(ReconcileNames, NameEveryEnumerator) {
  enum_testing::expect_every_enumerator_named(kDifferenceKindNames);
  enum_testing::expect_every_enumerator_named(kEntityKindNames);
  EXPECT_STREQ(difference_kind_name(DifferenceKind::kTopUpUnrecorded), "topup_unrecorded");
  EXPECT_STREQ(entity_kind_name(EntityKind::kTopUp), "topup");
}

}  // namespace
}  // namespace berth::core
