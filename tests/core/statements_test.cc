// Statements, scheme reports and balances, driven through a real Engine with explicit times:
// two months of one project's jobs and top-ups, worked out by hand below.
#include "core/statements.h"

#include <gtest/gtest.h>

#include "common/enum_names_testing.h"
#include "common/timefmt.h"

namespace berth::core {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr Minor kUnit = kMinorPerUnit;  // one currency unit
constexpr Minor kPrice = 30 * kUnit;    // per H100 GPU-hour

int64_t at(const char* text) { return *parse_time_ms(text); }

// One node of 8 H100s at 30.0000 per GPU-hour; a 70% scheme created on 1 October 2026.
//
// The story, and what it costs (cost = 30 x GPUs x hours, subsidy 70%, co-payment the rest;
// a job holds its maximum M = 30 x GPUs x 10 h limit when it starts):
//   Oct 1    award of 2000 to vision (1 Oct 2026 - 1 Apr 2027); award of 500 to nlp (unused)
//   Oct 10   top-up 1000 (INV-1)
//   Oct 20   job A, 2 GPUs, 10:00-14:00 (4 h):  240 = 168 subsidy + 72 co-payment
//   Oct 31   job B, 1 GPU, 22:00 - Nov 1 03:00 (5 h): 150 = 105 + 45, charged in November;
//            at the end of October it holds M - S = 300 - 210 = 90 from the wallet
//   Nov 5    top-up 500 (INV-2)
//   Nov 10   job C, 4 GPUs, 00:00-02:30 (2.5 h): 300 = 210 + 90
//   Nov 30   job D, 2 GPUs, 20:00 - Dec 1 02:00 (6 h): 360 = 252 + 108; at the end of November
//            it holds 600 - 420 = 180 from the wallet
// Wallet: October 0 + 1000 - 72 = 928; November 928 + 500 - (45 + 90) = 1293;
// December (to its end) 1293 - 108 = 1185.
class StatementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.nodes = {Node{NodeId(), "h1", "H100", 8, 64, 1000, NodeState::kUp}};
    cluster.prices = {{"H100", kPrice}};
    cluster.partitions = {Partition{"gpu", 24 * 3600, 3600, true}};
    const int64_t t0 = at("2026-10-01");
    auto e = Engine::Create(cluster, t0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    const OrgId hku = engine->create_org("hku", OrgKind::kUniversity, t0)->id;
    vision = engine->create_project(hku, "vision", t0)->id;
    nlp = engine->create_project(hku, "nlp", t0)->id;
    auto s = engine->create_scheme("ai-subsidy", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                   Shortfall::kWallet, 1'000'000 * kUnit, t0);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scheme = s->id;
    auto a = engine->create_award(scheme, vision, 2000 * kUnit, 8, t0, at("2027-04-01"), t0);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    award = a->id;
    ASSERT_TRUE(engine->create_award(scheme, nlp, 500 * kUnit, 8, t0, at("2027-04-01"), t0).ok());
    ASSERT_TRUE(engine->top_up(nlp, 50 * kUnit, "NLP-1", at("2026-11-02")).ok());
  }

  void top_up(Minor amount, const std::string& ref, const char* when) {
    ASSERT_TRUE(engine->top_up(vision, amount, ref, at(when)).ok());
  }
  JobId start(const std::string& name, int gpus, const char* when) {
    JobRequest r;
    r.name = name;
    r.user = "alice";
    r.project = vision;
    r.gpus = gpus;
    r.time_limit_s = 10 * 3600;
    const int64_t t = at(when);
    auto id = engine->submit(r, t);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    const auto started = engine->schedule(t);
    EXPECT_EQ(started.size(), 1u) << name;
    return id.ok() ? *id : JobId();
  }
  void end(JobId id, const char* when) {
    const int64_t t = at(when);
    ASSERT_TRUE(engine->job_ended(id, JobEnd{}, t, t).ok());
  }
  // The story of the class comment, up to D's start.
  void play() {
    top_up(1000 * kUnit, "INV-1", "2026-10-10T09:00:00Z");
    a = start("A", 2, "2026-10-20T10:00:00Z");
    end(a, "2026-10-20T14:00:00Z");
    b = start("B", 1, "2026-10-31T22:00:00Z");
    end(b, "2026-11-01T03:00:00Z");
    top_up(500 * kUnit, "INV-2", "2026-11-05T12:00:00Z");
    c = start("C", 4, "2026-11-10T00:00:00Z");
    end(c, "2026-11-10T02:30:00Z");
    d = start("D", 2, "2026-11-30T20:00:00Z");
  }
  ProjectStatement statement(const char* month) {
    const MonthRange m = *parse_month(month);
    auto st = project_statement(*engine, vision, m.from_ms, m.to_ms);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    return st.ok() ? *st : ProjectStatement{};
  }

  // Adds a posted transfer to stored rows, with the balances it moves, as a store would hold it.
  static void add_posted(ChangeSet& rows, uint64_t id, AccountId from, AccountId to, Minor amount,
                         uint32_t code, const char* when) {
    Transfer t;
    t.id = TransferId(id);
    t.debit = from;
    t.credit = to;
    t.amount = amount;
    t.code = code;
    t.timestamp_ms = at(when);
    rows.transfers.push_back(t);
    for (Account& a : rows.accounts) {
      if (a.id == from) a.debits_posted += amount;
      if (a.id == to) a.credits_posted += amount;
    }
  }

  ClusterConfig cluster;
  std::unique_ptr<Engine> engine;
  ProjectId vision, nlp;
  SchemeId scheme;
  AwardId award;
  JobId a, b, c, d;
};

// opening + credits - debits = closing, and every job line splits exactly.
void expect_balanced(const ProjectStatement& st) {
  EXPECT_EQ(st.opening_minor + st.credits_minor() - st.debits_minor(), st.closing_minor);
  EXPECT_EQ(st.jobs_copay_minor, st.copay_debits_minor);
  for (const JobCharge& j : st.jobs)
    EXPECT_EQ(j.subsidy_minor + j.copay_minor, j.cost_minor) << j.job.value;
}

TEST_F(StatementTest, NovemberListsJobsEndedInItTopUpsAndBalances) {
  play();
  const ProjectStatement st = statement("2026-11");
  EXPECT_EQ(st.project_name, "vision");
  EXPECT_EQ(st.org_name, "hku");
  EXPECT_EQ(st.opening_minor, 928 * kUnit);
  EXPECT_EQ(st.closing_minor, 1293 * kUnit);
  ASSERT_EQ(st.topups.size(), 1u);  // nlp's top-up is not vision's
  EXPECT_EQ(st.topups[0].reference, "INV-2");
  EXPECT_EQ(st.topups[0].amount_minor, 500 * kUnit);
  EXPECT_EQ(st.topups[0].time_ms, at("2026-11-05T12:00:00Z"));
  EXPECT_TRUE(st.other.empty());

  // B started in October and ended in November: charged in November, for all of its 5 hours.
  ASSERT_EQ(st.jobs.size(), 2u);
  const JobCharge& jb = st.jobs[0];
  EXPECT_EQ(jb.job, b);
  EXPECT_EQ(jb.name, "B");
  EXPECT_EQ(jb.user, "alice");
  EXPECT_EQ(jb.state, "COMPLETED");
  EXPECT_EQ(jb.start_ms, at("2026-10-31T22:00:00Z"));
  EXPECT_EQ(jb.end_ms, at("2026-11-01T03:00:00Z"));
  EXPECT_EQ(jb.gpu_ms, 5 * kHour);
  EXPECT_EQ(jb.cost_minor, 150 * kUnit);
  EXPECT_EQ(jb.subsidy_minor, 105 * kUnit);
  EXPECT_EQ(jb.copay_minor, 45 * kUnit);
  EXPECT_EQ(jb.award, award);
  const JobCharge& jc = st.jobs[1];
  EXPECT_EQ(jc.job, c);
  EXPECT_EQ(jc.gpu_ms, 4 * 5 * kHour / 2);
  EXPECT_EQ(jc.cost_minor, 300 * kUnit);
  EXPECT_EQ(jc.subsidy_minor, 210 * kUnit);
  EXPECT_EQ(jc.copay_minor, 90 * kUnit);

  // D is running at the close: its hold is listed, and the closing balance does not count it.
  ASSERT_EQ(st.held_at_close.size(), 1u);
  EXPECT_EQ(st.held_at_close[0].job, d);
  EXPECT_EQ(st.held_at_close[0].copay_held_minor, 180 * kUnit);
  EXPECT_EQ(st.held_at_close[0].subsidy_held_minor, 420 * kUnit);
  EXPECT_EQ(st.held_at_close_minor, 180 * kUnit);

  EXPECT_EQ(st.topups_minor, 500 * kUnit);
  EXPECT_EQ(st.copay_debits_minor, 135 * kUnit);
  EXPECT_EQ(st.jobs_cost_minor, 450 * kUnit);
  EXPECT_EQ(st.jobs_subsidy_minor, 315 * kUnit);
  EXPECT_EQ(st.jobs_gpu_ms, 15 * kHour);
  expect_balanced(st);
}

TEST_F(StatementTest, MonthsChainAndAPastMonthStaysTheSameLater) {
  play();
  const ProjectStatement oct_before = statement("2026-10");
  end(d, "2026-12-01T02:00:00Z");
  const ProjectStatement oct = statement("2026-10");
  const ProjectStatement nov = statement("2026-11");
  const ProjectStatement dec = statement("2026-12");
  EXPECT_EQ(oct.opening_minor, 0);
  EXPECT_EQ(oct.closing_minor, 928 * kUnit);
  ASSERT_EQ(oct.jobs.size(), 1u);
  EXPECT_EQ(oct.jobs[0].job, a);
  EXPECT_EQ(oct.jobs[0].copay_minor, 72 * kUnit);
  ASSERT_EQ(oct.held_at_close.size(), 1u);  // B was running at midnight
  EXPECT_EQ(oct.held_at_close[0].job, b);
  EXPECT_EQ(oct.held_at_close_minor, 90 * kUnit);
  EXPECT_EQ(oct.closing_minor, nov.opening_minor);
  EXPECT_EQ(nov.closing_minor, dec.opening_minor);
  // D ended after November closed: November still shows it held, December charges it.
  ASSERT_EQ(nov.held_at_close.size(), 1u);
  EXPECT_EQ(nov.held_at_close[0].job, d);
  ASSERT_EQ(dec.jobs.size(), 1u);
  EXPECT_EQ(dec.jobs[0].job, d);
  EXPECT_EQ(dec.jobs[0].cost_minor, 360 * kUnit);
  EXPECT_EQ(dec.jobs[0].copay_minor, 108 * kUnit);
  EXPECT_EQ(dec.closing_minor, 1185 * kUnit);
  EXPECT_TRUE(dec.held_at_close.empty());
  EXPECT_EQ(oct_before.closing_minor, oct.closing_minor);
  EXPECT_EQ(oct_before.jobs.size(), oct.jobs.size());
  for (const ProjectStatement* st : {&oct, &nov, &dec}) expect_balanced(*st);
  // The job lines add up to what each job record says it cost.
  for (JobId id : {a, b, c, d}) {
    Minor lines = 0;
    for (const ProjectStatement* st : {&oct, &nov, &dec})
      for (const JobCharge& j : st->jobs)
        if (j.job == id) lines += j.cost_minor;
    EXPECT_EQ(lines, engine->job(id)->cost_minor) << id.value;
  }
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(StatementTest, ARequeuedJobShowsEachRun) {
  top_up(1000 * kUnit, "INV-1", "2026-10-10T09:00:00Z");
  JobRequest r;
  r.name = "R";
  r.user = "bob";
  r.project = vision;
  r.gpus = 2;
  r.time_limit_s = 10 * 3600;
  r.requeue = true;
  const int64_t t1 = at("2026-11-03T00:00:00Z");
  const JobId id = *engine->submit(r, t1);
  ASSERT_EQ(engine->schedule(t1).size(), 1u);
  // The node is lost after an hour: run 0 is charged for that hour and the job is requeued.
  const int64_t t2 = t1 + kHour;
  ASSERT_TRUE(engine->set_node_state(NodeId(1), NodeState::kDown, t2).ok());
  ASSERT_TRUE(engine->set_node_state(NodeId(1), NodeState::kUp, t2).ok());
  const int64_t t3 = t2 + kHour;
  ASSERT_EQ(engine->schedule(t3).size(), 1u);
  ASSERT_TRUE(engine->job_ended(id, JobEnd{}, t3 + 3 * kHour, t3 + 3 * kHour).ok());
  const ProjectStatement st = statement("2026-11");
  ASSERT_EQ(st.jobs.size(), 2u);
  EXPECT_EQ(st.jobs[0].run, 0);
  EXPECT_EQ(st.jobs[0].state, "REQUEUED");
  EXPECT_EQ(st.jobs[0].gpu_ms, 2 * kHour);
  EXPECT_EQ(st.jobs[0].cost_minor, 60 * kUnit);
  EXPECT_EQ(st.jobs[1].run, 1);
  EXPECT_EQ(st.jobs[1].state, "COMPLETED");
  EXPECT_EQ(st.jobs[1].start_ms, t3);
  EXPECT_EQ(st.jobs[1].gpu_ms, 6 * kHour);
  EXPECT_EQ(st.jobs[0].cost_minor + st.jobs[1].cost_minor, engine->job(id)->cost_minor);
  expect_balanced(st);
}

// No command makes refunds or adjustments yet, but the books may hold them (a later version, or
// an operator's correction): here they are added to the stored rows and the engine restored.
TEST_F(StatementTest, OtherWalletMovementsAreListedByCodeWithTheirSign) {
  play();
  ChangeSet rows = engine->snapshot();
  const AccountId wallet = engine->funding().project(vision)->wallet;
  auto transfer = [&](uint64_t id, AccountId from, AccountId to, Minor amount, uint32_t code,
                      const char* when) { add_posted(rows, id, from, to, amount, code, when); };
  transfer(900'001, kRevenueAccount, wallet, 12 * kUnit, kCodeRefund, "2026-11-20T00:00:00Z");
  transfer(900'002, wallet, kRevenueAccount, 2 * kUnit, kCodeAdjustment, "2026-11-21T00:00:00Z");
  transfer(900'003, kRevenueAccount, wallet, 1 * kUnit, 99,
           "2026-11-22T00:00:00Z");  // a code not known here
  auto restored = Engine::Restore(cluster, rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const MonthRange nov = *parse_month("2026-11");
  auto st = project_statement(**restored, vision, nov.from_ms, nov.to_ms);
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->other.size(), 3u);
  EXPECT_EQ(st->other[0].code, kCodeRefund);
  EXPECT_EQ(st->other[0].amount_minor, 12 * kUnit);
  EXPECT_EQ(st->other[1].code, kCodeAdjustment);
  EXPECT_EQ(st->other[1].amount_minor, -2 * kUnit);
  EXPECT_EQ(st->other[2].code, 99u);
  EXPECT_EQ(st->other_credits_minor, 13 * kUnit);
  EXPECT_EQ(st->other_debits_minor, 2 * kUnit);
  EXPECT_EQ(st->closing_minor, (1293 + 12 - 2 + 1) * kUnit);
  EXPECT_EQ(st->jobs.size(), 2u);  // the job lines are unchanged
  expect_balanced(*st);
}

TEST_F(StatementTest, ARefundNamesItsJobAndReasonAndAJobLineItsAwardsScheme) {
  play();
  // A reason that itself looks like a split keeps all of it.
  ASSERT_TRUE(
      engine
          ->refund_job(c, 30 * kUnit, "slow node (1.0000 to the wallet", at("2026-11-20T08:00:00Z"))
          .ok());
  ASSERT_TRUE(
      engine->adjust_wallet(vision, -2 * kUnit, "late fee", at("2026-11-21T08:00:00Z")).ok());
  const ProjectStatement st = statement("2026-11");
  ASSERT_EQ(st.other.size(), 2u);
  EXPECT_EQ(st.other[0].job, c);
  EXPECT_EQ(st.other[0].reason, "slow node (1.0000 to the wallet");
  EXPECT_EQ(st.other[1].job, JobId());
  EXPECT_EQ(st.other[1].reason, "debit from the wallet: late fee");
  ASSERT_FALSE(st.jobs.empty());
  for (const JobCharge& j : st.jobs) {
    EXPECT_EQ(j.award, award);
    EXPECT_EQ(j.award_scheme, "ai-subsidy");
  }
  ASSERT_EQ(st.held_at_close.size(), 1u);
  EXPECT_EQ(st.held_at_close[0].award_scheme, "ai-subsidy");
}

TEST(RefundReason, ReadsTheReasonBackFromTheAuditNote) {
  EXPECT_EQ(Engine::refund_reason(Engine::refund_note("GPU fault", "2.0000 to the wallet")),
            "GPU fault");
  EXPECT_EQ(Engine::refund_reason(Engine::refund_note(
                "a (b) c", "0.0000 to the wallet, 1.0000 to account 7 (award 1 of v)")),
            "a (b) c");
  EXPECT_EQ(Engine::refund_reason("an older note"), "an older note");
}

TEST_F(StatementTest, NodeChangesAskedForAreAuditedAndRestoredOnesAreNot) {
  play();
  engine->set_actor("ops");
  const size_t before = engine->audit().size();
  auto drained =
      engine->change_node_state(NodeId(1), NodeState::kDrain, at("2026-12-01T01:00:00Z"));
  ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  auto down = engine->change_node_state(NodeId(1), NodeState::kDown, at("2026-12-01T01:30:00Z"));
  ASSERT_TRUE(down.ok());
  ASSERT_TRUE(
      engine->change_node_state(NodeId(1), NodeState::kUp, at("2026-12-01T02:00:00Z")).ok());
  ASSERT_TRUE(
      engine->set_node_state(NodeId(1), NodeState::kDrain, at("2026-12-01T03:00:00Z")).ok());
  const auto& audit = engine->audit();
  ASSERT_EQ(audit.size(), before + 3);
  EXPECT_EQ(audit[before].action, "node.drain");
  EXPECT_EQ(audit[before].subject, "node h1");
  EXPECT_EQ(audit[before].user, "ops");
  EXPECT_EQ(audit[before].note, "was up");
  EXPECT_EQ(audit[before + 1].action, "node.down");
  EXPECT_EQ(audit[before + 1].note, "was drained; ended jobs " + std::to_string(d.value));
  EXPECT_EQ(audit[before + 2].action, "node.resume");
  EXPECT_FALSE(
      engine->change_node_state(NodeId(9), NodeState::kUp, at("2026-12-01T04:00:00Z")).ok());
  EXPECT_EQ(audit.size(), before + 3);
}

TEST_F(StatementTest, RefusesAnUnknownProjectAndAnEmptyPeriod) {
  EXPECT_EQ(project_statement(*engine, ProjectId(99), 0, 1).status().code(), Code::kNotFound);
  EXPECT_EQ(project_statement(*engine, vision, 5, 5).status().code(), Code::kInvalidArgument);
}

// Balance at Dec 1 02:00, when D has just ended. The award started on Oct 1, more than 30 days
// earlier, so the window is [Nov 1 02:00, Dec 1 02:00]: B (105, posted Nov 1 03:00),
// C (210) and D (252, posted at now) are in it, A (168, October 20) is not.
//   spent  = 168 + 105 + 210 + 252 = 735;   left = 2000 - 735 = 1265
//   rate   = 567 per 30 days = 18.9 a day
//   lasts  = floor(1265 x 30 d / 567) = floor(12650000 x 2592000000 / 5670000) ms
//          = 5782857142 ms = 66 d 22:20:57.142
//   runs out at 2026-12-01T02:00 + that = 2027-02-06T00:20:57.142Z, before the award's end
//   (1 April 2027).
TEST_F(StatementTest, BalanceEstimatesWhenTheAwardRunsOut) {
  play();
  end(d, "2026-12-01T02:00:00Z");
  const int64_t now = at("2026-12-01T02:00:00Z");
  auto bal = project_balance(*engine, vision, now);
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal->wallet_balance_minor, 1185 * kUnit);
  EXPECT_EQ(bal->wallet_held_minor, 0);
  EXPECT_EQ(bal->wallet_available_minor, 1185 * kUnit);
  ASSERT_EQ(bal->awards.size(), 1u);
  const AwardBalance& ab = bal->awards[0];
  EXPECT_EQ(ab.award, award);
  EXPECT_EQ(ab.scheme_name, "ai-subsidy");
  EXPECT_TRUE(ab.active);
  EXPECT_EQ(ab.granted_minor, 2000 * kUnit);
  EXPECT_EQ(ab.spent_minor, 735 * kUnit);
  EXPECT_EQ(ab.held_minor, 0);
  EXPECT_EQ(ab.left_minor, 1265 * kUnit);
  EXPECT_EQ(ab.window_from_ms, at("2026-11-01T02:00:00Z"));
  EXPECT_EQ(ab.window_spent_minor, 567 * kUnit);
  EXPECT_EQ(ab.spent_per_day_minor, 189'000);  // 18.9000
  EXPECT_EQ(ab.run_out, RunOut::kRunsOut);
  EXPECT_EQ(ab.run_out_ms, now + 5'782'857'142);
  EXPECT_EQ(format_time_ms(ab.run_out_ms), "2027-02-06T00:20:57Z");
}

TEST_F(StatementTest, BalanceHasNoEstimateWithoutSpendingOrAfterTheEnd) {
  play();
  end(d, "2026-12-01T02:00:00Z");
  const int64_t now = at("2026-12-01T02:00:00Z");
  // nlp never ran a job: its awards have no spending and no date.
  auto idle = project_balance(*engine, nlp, now);
  ASSERT_TRUE(idle.ok());
  ASSERT_EQ(idle->awards.size(), 1u);
  EXPECT_EQ(idle->awards[0].run_out, RunOut::kNoSpending);
  EXPECT_EQ(idle->awards[0].run_out_ms, 0);
  EXPECT_EQ(idle->wallet_balance_minor, 50 * kUnit);
  // Looking from 2027-03-20, the last 30 days saw no spending: no estimate. From its end on,
  // the award is inactive.
  EXPECT_EQ(project_balance(*engine, vision, at("2027-03-20"))->awards[0].run_out,
            RunOut::kNoSpending);
  EXPECT_EQ(project_balance(*engine, vision, at("2027-04-01"))->awards[0].run_out,
            RunOut::kInactive);
  EXPECT_FALSE(project_balance(*engine, vision, at("2027-04-01"))->awards[0].active);
  EXPECT_EQ(project_balance(*engine, ProjectId(99), now).status().code(), Code::kNotFound);
}

TEST_F(StatementTest, BalanceSaysEndsFirstWhenTheAwardEndsBeforeItsMoneyDoes) {
  play();
  end(d, "2026-12-01T02:00:00Z");
  // A one-hour 1-GPU job in March: 30 = 21 subsidy + 9. On 20 March the window
  // [18 Feb, 20 Mar] holds only it: at 21 per 30 days, 1265 - 21 = 1244 left lasts
  // 1244 x 30 / 21 = 1777 days, long after the award ends on 1 April.
  const JobId e = start("E", 1, "2027-03-10T00:00:00Z");
  end(e, "2027-03-10T01:00:00Z");
  const int64_t now = at("2027-03-20");
  auto bal = project_balance(*engine, vision, now);
  ASSERT_TRUE(bal.ok());
  const AwardBalance& ab = bal->awards[0];
  EXPECT_EQ(ab.window_spent_minor, 21 * kUnit);
  EXPECT_EQ(ab.left_minor, 1244 * kUnit);
  EXPECT_EQ(ab.run_out, RunOut::kEndsFirst);
  EXPECT_GT(ab.run_out_ms, ab.end_ms);
}

// The scheme at Dec 1 02:00: fund 1,000,000; granted 2000 + 500; spent 735 (all vision's);
// subsidised work 8 + 5 + 10 + 12 = 35 GPU-hours of 8 GPUs x 1466 hours since the scheme was
// created (61 days and 2 hours): floor(35 x 10000 / 11728) = 29 basis points.
TEST_F(StatementTest, SchemeReportForTheFunder) {
  play();
  end(d, "2026-12-01T02:00:00Z");
  const int64_t now = at("2026-12-01T02:00:00Z");
  auto r = scheme_report(*engine, scheme, now);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "ai-subsidy");
  EXPECT_EQ(r->funded_minor, 1'000'000 * kUnit);
  EXPECT_EQ(r->granted_minor, 2500 * kUnit);
  EXPECT_EQ(r->returned_minor, 0);
  EXPECT_EQ(r->committed_minor, 2500 * kUnit);
  EXPECT_EQ(r->spent_minor, 735 * kUnit);
  EXPECT_EQ(r->held_minor, 0);
  EXPECT_EQ(r->remaining_minor, (1'000'000 - 2500) * kUnit);
  EXPECT_EQ(r->unspent_minor, (2500 - 735) * kUnit);
  EXPECT_EQ(r->committed_minor, r->spent_minor + r->held_minor + r->unspent_minor);
  EXPECT_EQ(r->awards, 2);
  EXPECT_EQ(r->awards_active, 2);
  EXPECT_EQ(r->orgs_awarded, 1);
  EXPECT_EQ(r->projects_awarded, 2);
  EXPECT_EQ(r->orgs_subsidised, 1);
  EXPECT_EQ(r->projects_subsidised, 1);
  EXPECT_EQ(r->subsidised_runs, 4);
  EXPECT_EQ(r->subsidised_gpu_ms, 35 * kHour);
  EXPECT_EQ(r->period_from_ms, at("2026-10-01"));
  EXPECT_EQ(r->capacity_gpu_ms, 8 * 1466 * kHour);
  EXPECT_EQ(r->capacity_share_bps, 29);

  // Over November alone (a period given by the caller), only the parts of runs inside it count:
  // B's 3 hours after midnight, C's 10 GPU-hours and all of D's 12 (the period runs to now,
  // Dec 1 02:00): 25 GPU-hours of 8 GPUs x 722 hours.
  auto nov = scheme_report(*engine, scheme, now, at("2026-11-01"));
  ASSERT_TRUE(nov.ok());
  EXPECT_EQ(nov->period_subsidised_gpu_ms, 25 * kHour);
  EXPECT_EQ(nov->capacity_gpu_ms, 8 * (30 * 24 + 2) * kHour);
  EXPECT_EQ(scheme_report(*engine, scheme, now, now).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(scheme_report(*engine, SchemeId(9), now).status().code(), Code::kNotFound);
}

TEST_F(StatementTest, SchemeReportTakesReturnsOffWhatIsCommitted) {
  play();
  end(d, "2026-12-01T02:00:00Z");
  ChangeSet rows = engine->snapshot();
  const AccountId fund = engine->funding().scheme(scheme)->fund;
  add_posted(rows, 900'001, engine->funding().award(award)->account, fund, 265 * kUnit,
             kCodeAwardReturn, "2026-12-01T03:00:00Z");
  // As the engine records a return: the transfer, and the amount on the award's row.
  rows.awards[award.value - 1].returned_minor = 265 * kUnit;
  rows.awards[award.value - 1].returned_ms = at("2026-12-01T03:00:00Z");
  auto restored = Engine::Restore(cluster, rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  auto r = scheme_report(**restored, scheme, at("2026-12-01T04:00:00Z"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->funded_minor, 1'000'000 * kUnit);  // a return is not new funding
  EXPECT_EQ(r->returned_minor, 265 * kUnit);
  EXPECT_EQ(r->committed_minor, (2500 - 265) * kUnit);
  EXPECT_EQ(r->remaining_minor, (1'000'000 - 2500 + 265) * kUnit);
  EXPECT_EQ(r->committed_minor, r->spent_minor + r->held_minor + r->unspent_minor);
  // The award's balance: 2000 - 735 spent - 265 returned = 1000 left.
  auto bal = project_balance(**restored, vision, at("2026-12-01T04:00:00Z"));
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal->awards[0].spent_minor, 735 * kUnit);
  EXPECT_EQ(bal->awards[0].left_minor, 1000 * kUnit);
}

TEST_F(StatementTest, SchemeReportCountsHeldAndExpiredAwards) {
  play();  // D is running: its subsidy share is held
  auto r = scheme_report(*engine, scheme, at("2026-11-30T21:00:00Z"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->held_minor, 420 * kUnit);
  EXPECT_EQ(r->subsidised_runs, 3);
  EXPECT_EQ(r->committed_minor, r->spent_minor + r->held_minor + r->unspent_minor);
  auto later = scheme_report(*engine, scheme, at("2027-05-01"));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->awards_expired, 2);
  EXPECT_EQ(later->awards_active, 0);
}

TEST(RunOutNames, NameEveryEnumerator) {
  enum_testing::expect_every_enumerator_named(kRunOutNames);
  EXPECT_STREQ(run_out_name(RunOut::kNoSpending), "no_spending");
}

}  // namespace
}  // namespace berth::core
