// Wallets: credit limits, refunds of a job's charge, adjustments; each refusal changes nothing.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/reconcile.h"
#include "core/statements.h"
#include "core/one_node.h"

namespace berth::core {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kT0 = 1'800'000'000'000;
constexpr Minor kPrice = 300'000;  // 30.0000 per GPU-hour

// Every account's balances, the credit limits and every job's refunded amount: what a refused
// command must leave as it was.
struct Books {
  std::vector<std::tuple<uint64_t, Minor, Minor, Minor, Minor, Minor>> accounts;
  std::vector<Minor> refunded;
  size_t transfers = 0, audit = 0;
  bool operator==(const Books&) const = default;
};

class WalletTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Engine::Create(one_node(), kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    const OrgId org = engine->create_org("hku", OrgKind::kUniversity, kT0)->id;
    project = engine->create_project(org, "vision", kT0)->id;
    auto s = engine->create_scheme("ai-subsidy", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                   Shortfall::kWallet, 1'000'000'0000, kT0);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scheme = s->id;
  }

  AwardId grant(Minor amount, int64_t end_ms = kT0 + 1000 * kHour) {
    auto a = engine->create_award(scheme, project, amount, 8, kT0 - kHour, end_ms, kT0);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? a->id : AwardId();
  }
  void top_up(Minor amount) { ASSERT_TRUE(engine->top_up(project, amount, "", kT0).ok()); }
  JobId submit(int gpus, int64_t now = kT0) {
    JobRequest r;
    r.project = project;
    r.gpus = gpus;
    r.time_limit_s = 3600;
    auto id = engine->submit(r, now);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : JobId();
  }
  // A job of `gpus` GPUs that runs for `ran_ms` from kT0 and completes.
  JobId ran(int gpus, int64_t ran_ms) {
    const JobId id = submit(gpus);
    EXPECT_EQ(engine->schedule(kT0).size(), 1u);
    EXPECT_TRUE(engine->job_ended(id, JobEnd{}, kT0 + ran_ms, kT0 + ran_ms).ok());
    return id;
  }
  // A requeued job of one GPU whose run 0 (an hour: 30, 21 of it subsidy) award 1 paid, which
  // then ended, and whose run 1 (the same) award 2 paid; ends at kT0 + 3h.
  void requeued_over_two_awards(JobId* id, AwardId* first, AwardId* second) {
    *first = grant(100'0000, kT0 + 2 * kHour);
    top_up(100'0000);
    JobRequest r;
    r.project = project;
    r.gpus = 1;
    r.time_limit_s = 3600;
    r.requeue = true;
    *id = *engine->submit(r, kT0);
    ASSERT_EQ(engine->schedule(kT0).size(), 1u);
    JobEnd lost;
    lost.lost = true;
    ASSERT_TRUE(engine->job_ended(*id, lost, kT0 + kHour, kT0 + kHour).ok());
    engine->expire(kT0 + 2 * kHour);
    *second = grant(100'0000);
    ASSERT_EQ(engine->schedule(kT0 + 2 * kHour).size(), 1u);
    ASSERT_TRUE(engine->job_ended(*id, JobEnd{}, kT0 + 3 * kHour, kT0 + 3 * kHour).ok());
  }
  const Account& wallet() {
    return *engine->ledger().account(engine->funding().project(project)->wallet);
  }
  const Account& award_account(AwardId a) {
    return *engine->ledger().account(engine->funding().award(a)->account);
  }
  const Account& fund() {
    return *engine->ledger().account(engine->funding().scheme(scheme)->fund);
  }
  const Account& revenue() { return *engine->ledger().account(kRevenueAccount); }
  const Job& job(JobId id) { return *engine->job(id); }
  Books books() {
    Books b;
    for (const Account* a : engine->ledger().accounts())
      b.accounts.emplace_back(a->id.value, a->debits_pending, a->debits_posted, a->credits_pending,
                              a->credits_posted, a->credit_limit_minor);
    for (const Job& j : engine->jobs()) b.refunded.push_back(j.refunded_minor);
    b.transfers = engine->ledger().transfer_count();
    b.audit = engine->audit().size();
    return b;
  }
  void expect_clean() {
    EXPECT_TRUE(engine->verify().ok()) << engine->verify().ToString();
    const ReconcileReport r = reconcile(engine->snapshot());
    EXPECT_TRUE(r.ok()) << (r.differences.empty() ? "" : r.differences.front().message);
  }

  std::unique_ptr<Engine> engine;
  ProjectId project;
  SchemeId scheme;
};

// ---- credit limits ----

TEST_F(WalletTest, ACreditLimitLetsAJobBeHeldPastZeroAndNoFurther) {
  // No award: the wallet pays all. One GPU-hour is 30.0000; the wallet has 10 and 25 of credit.
  top_up(10'0000);
  const JobId first = submit(1);
  EXPECT_TRUE(engine->schedule(kT0).empty());
  EXPECT_EQ(job(first).reason, PendingReason::kInsufficientFunds);
  ASSERT_TRUE(engine->set_credit_limit(project, 25'0000, "trusted tenant", kT0).ok());
  EXPECT_EQ(engine->schedule(kT0).size(), 1u);
  EXPECT_EQ(job(first).state, JobState::kRunning);
  EXPECT_EQ(wallet().available(), -20'0000);
  EXPECT_EQ(wallet().spendable(), 5'0000);
  // A second one needs 30 more; only 5 of credit is left.
  const JobId second = submit(1);
  EXPECT_TRUE(engine->schedule(kT0).empty());
  EXPECT_EQ(job(second).reason, PendingReason::kInsufficientFunds);
  ASSERT_TRUE(engine->job_ended(first, JobEnd{}, kT0 + kHour, kT0 + kHour).ok());
  EXPECT_EQ(wallet().balance(), -20'0000);
  const AuditRecord& last = engine->audit().back();
  EXPECT_EQ(last.action, "wallet.credit_limit");
  EXPECT_EQ(last.amount_minor, 25'0000);
  expect_clean();
}

TEST_F(WalletTest, ACreditLimitBelowWhatIsUsedIsRefusedAndChangesNothing) {
  ASSERT_TRUE(engine->set_credit_limit(project, 40'0000, "", kT0).ok());
  submit(1);
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);  // holds 30 on credit
  const Books before = books();
  const Status lower = engine->set_credit_limit(project, 20'0000, "", kT0);
  EXPECT_EQ(lower.code(), Code::kConflict) << lower.ToString();
  EXPECT_NE(lower.message().find("30.0000"), std::string::npos) << lower.ToString();
  EXPECT_EQ(engine->set_credit_limit(project, -1, "", kT0).code(), Code::kInvalidArgument);
  EXPECT_EQ(engine->set_credit_limit(project, kMaxCreditLimitMinor + 1, "", kT0).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(engine->set_credit_limit(ProjectId(99), 1, "", kT0).code(), Code::kNotFound);
  EXPECT_EQ(books(), before);
  ASSERT_TRUE(engine->set_credit_limit(project, 30'0000, "", kT0).ok());  // exactly what is used
  expect_clean();
}

// ---- refunds ----

TEST_F(WalletTest, ARefundSplitsAsTheChargeAndTheSubsidyPartReturnsToTheAward) {
  const AwardId a = grant(100'0000);
  top_up(100'0000);
  const JobId id = ran(1, kHour);  // cost 30: subsidy 21, co-pay 9
  ASSERT_EQ(job(id).cost_minor, 30'0000);
  ASSERT_EQ(job(id).subsidy_minor, 21'0000);
  const Minor wallet_before = wallet().balance(), award_before = award_account(a).balance();
  auto r = engine->refund_job(id, 10'0000, "the node was slow", kT0 + 2 * kHour);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(award_account(a).balance() - award_before, 7'0000);  // floor(10 x 21 / 30)
  EXPECT_EQ(wallet().balance() - wallet_before, 3'0000);
  EXPECT_EQ(job(id).refunded_minor, 10'0000);
  EXPECT_EQ(engine->refundable_minor(job(id)), 20'0000);
  const AuditRecord& last = engine->audit().back();
  EXPECT_EQ(last.action, "wallet.refund");
  EXPECT_EQ(last.subject, "job 1");
  EXPECT_NE(last.note.find("the node was slow"), std::string::npos);
  // Two transfers, both kCodeRefund for the job, from the revenue.
  int refunds = 0;
  for (const Transfer& t : engine->ledger().transfers_in_order())
    if (t.code == kCodeRefund) {
      ++refunds;
      EXPECT_EQ(t.ref, id.value);
      EXPECT_EQ(t.debit, kRevenueAccount);
    }
  EXPECT_EQ(refunds, 2);
  expect_clean();
}

TEST_F(WalletTest, RefundsRoundCumulativelySoTheWholeChargeReturnsExactly) {
  const AwardId a = grant(100'0000);
  top_up(100'0000);
  const JobId id = ran(1, 1'234'567);  // an awkward cost
  const Minor cost = job(id).cost_minor, subsidy = job(id).subsidy_minor;
  const Minor award_before = award_account(a).balance(), wallet_before = wallet().balance();
  // A hundred small refunds, each of which would round its subsidy part down on its own, then
  // the rest: the funder and the wallet each get back exactly what they paid.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(engine->refund_job(id, 7, "bit by bit", kT0 + 2 * kHour).ok());
    EXPECT_LE(award_account(a).balance() - award_before, subsidy);
    EXPECT_LE(wallet().balance() - wallet_before, cost - subsidy);
  }
  ASSERT_TRUE(engine->refund_job(id, cost - 700, "the rest", kT0 + 2 * kHour).ok());
  EXPECT_EQ(job(id).refunded_minor, cost);
  EXPECT_EQ(award_account(a).balance() - award_before, subsidy);
  EXPECT_EQ(wallet().balance() - wallet_before, cost - subsidy);
  expect_clean();
}

TEST_F(WalletTest, TheSubsidyPartGoesToTheFundOnceTheAwardHasEndedAndNeverToTheWallet) {
  const AwardId a = grant(100'0000, kT0 + 2 * kHour);
  top_up(100'0000);
  const JobId id = ran(1, kHour);
  engine->expire(kT0 + 3 * kHour);  // the award ended and returned its remainder
  ASSERT_NE(engine->funding().award(a)->returned_ms, 0);
  const Minor award_before = award_account(a).balance(), fund_before = fund().balance();
  const Minor wallet_before = wallet().balance();
  ASSERT_TRUE(engine->refund_job(id, 30'0000, "whole job", kT0 + 3 * kHour).ok());
  EXPECT_EQ(award_account(a).balance(), award_before);  // stays returned: nothing more goes in
  EXPECT_EQ(fund().balance() - fund_before, 21'0000);
  EXPECT_EQ(wallet().balance() - wallet_before, 9'0000);  // the co-payment only
  expect_clean();
}

TEST_F(WalletTest, AClosedAwardsSubsidyRefundGoesToTheFund) {
  const AwardId a = grant(100'0000);
  top_up(100'0000);
  const JobId id = ran(1, kHour);
  ASSERT_TRUE(engine->close_award(a, "project ended", kT0 + 2 * kHour).ok());
  const Minor fund_before = fund().balance(), award_before = award_account(a).balance();
  ASSERT_TRUE(engine->refund_job(id, 10'0000, "goodwill", kT0 + 2 * kHour).ok());
  EXPECT_EQ(fund().balance() - fund_before, 7'0000);
  EXPECT_EQ(award_account(a).balance(), award_before);
  expect_clean();
}

TEST_F(WalletTest, BadRefundsAreRefusedAndChangeNothing) {
  grant(100'0000);
  top_up(100'0000);
  const JobId done = ran(1, kHour);  // charged 30
  const JobId running = submit(1, kT0 + 2 * kHour);
  ASSERT_EQ(engine->schedule(kT0 + 2 * kHour).size(), 1u);
  const JobId never = submit(1, kT0 + 2 * kHour);
  ASSERT_TRUE(engine->cancel(never, kT0 + 2 * kHour).ok());  // cancelled before it ran
  const JobId waiting = submit(8, kT0 + 2 * kHour);          // pending: the node is busy
  const int64_t now = kT0 + 2 * kHour;
  ASSERT_TRUE(engine->refund_job(done, 20'0000, "first", now).ok());
  const Books before = books();

  const struct {
    JobId job;
    Minor amount;
    const char* reason;
    Code code;
  } bad[] = {
      {done, 30'0001, "more than charged", Code::kConflict},
      {done, 10'0001, "twice beyond the total", Code::kConflict},
      {never, 1, "never ran", Code::kConflict},
      {running, 1, "still running", Code::kConflict},
      {waiting, 1, "pending", Code::kConflict},
      {done, 1, "", Code::kInvalidArgument},
      {done, 0, "zero", Code::kInvalidArgument},
      {done, -5, "negative", Code::kInvalidArgument},
      {JobId(99), 1, "no such job", Code::kNotFound},
  };
  for (const auto& b : bad) {
    auto r = engine->refund_job(b.job, b.amount, b.reason, now);
    EXPECT_FALSE(r.ok()) << b.reason;
    EXPECT_EQ(r.status().code(), b.code) << b.reason << ": " << r.status().ToString();
    EXPECT_EQ(books(), before) << b.reason;
  }
  auto over = engine->refund_job(done, 10'0001, "over", now);
  EXPECT_NE(over.status().message().find("at most 10.0000"), std::string::npos)
      << over.status().ToString();
  ASSERT_TRUE(engine->refund_job(done, 10'0000, "the rest", now).ok());  // exactly the rest
  EXPECT_EQ(engine->refundable_minor(job(done)), 0);
  expect_clean();
}

TEST_F(WalletTest, ARequeuedJobsSubsidyReturnsToEachRunsAward) {
  // Run 0 on award 1 (which then ends), run 1 on award 2: each gets back only what it paid.
  JobId id;
  AwardId first, second;
  ASSERT_NO_FATAL_FAILURE(requeued_over_two_awards(&id, &first, &second));
  ASSERT_EQ(job(id).subsidy_minor, 42'0000);
  const Minor fund_before = fund().balance(), second_before = award_account(second).balance();
  ASSERT_TRUE(engine->refund_job(id, 40'0000, "flaky node", kT0 + 3 * kHour).ok());
  // Subsidy part floor(40 x 42 / 60) = 28: 21 for run 0 (award 1 ended: to the fund), 7 to award 2.
  EXPECT_EQ(fund().balance() - fund_before, 21'0000);
  EXPECT_EQ(award_account(second).balance() - second_before, 7'0000);
  EXPECT_EQ(award_account(first).credits_posted, 100'0000);  // nothing into the ended award
  expect_clean();
}

// ---- an award's spent, net of refunds ----

// What billing reads: an award's figures, which must always add up to what was granted.
void expect_adds_up(const AwardMoney& m) {
  EXPECT_EQ(m.granted_minor, m.held_minor + m.spent_minor + m.left_minor + m.returned_minor);
}

TEST_F(WalletTest, AnAwardsSpentIsNetOfTheSubsidyRefundedAndItsFiguresStillAddUp) {
  const AwardId a = grant(100'0000);
  top_up(100'0000);
  const JobId id = ran(1, kHour);  // cost 30: subsidy 21
  AwardMoney m = award_money(*engine, *engine->funding().award(a));
  EXPECT_EQ(m.spent_minor, 21'0000);
  EXPECT_EQ(m.refunded_minor, 0);
  ASSERT_TRUE(engine->refund_job(id, 10'0000, "slow node", kT0 + kHour)
                  .ok());  // subsidy part floor(10 x 21 / 30) = 7
  m = award_money(*engine, *engine->funding().award(a));
  EXPECT_EQ(m.spent_minor, 14'0000);
  EXPECT_EQ(m.refunded_minor, 7'0000);
  EXPECT_EQ(m.left_minor, 86'0000);
  EXPECT_EQ(m.returned_minor, 0);
  expect_adds_up(m);
  // The balance and the scheme's report say the same.
  auto balance = project_balance(*engine, project, kT0 + kHour);
  ASSERT_TRUE(balance.ok());
  EXPECT_EQ(balance->awards[0].spent_minor, 14'0000);
  EXPECT_EQ(balance->awards[0].refunded_minor, 7'0000);
  EXPECT_EQ(balance->awards[0].window_spent_minor,
            21'0000);  // the pace of use is what jobs were charged
  auto report = scheme_report(*engine, scheme, kT0 + kHour);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->spent_minor, 14'0000);
  EXPECT_EQ(report->refunded_minor, 7'0000);
  EXPECT_EQ(report->committed_minor,
            report->spent_minor + report->held_minor + report->unspent_minor);
  // The rest of the charge: nothing of the award is spent any more.
  ASSERT_TRUE(engine->refund_job(id, 20'0000, "the rest", kT0 + kHour).ok());
  m = award_money(*engine, *engine->funding().award(a));
  EXPECT_EQ(m.spent_minor, 0);
  EXPECT_EQ(m.refunded_minor, 21'0000);
  EXPECT_EQ(m.left_minor, 100'0000);
  expect_adds_up(m);
  expect_clean();
}

TEST_F(WalletTest, SubsidyRefundedAfterAnAwardEndedCountsAsReturnedToTheFund) {
  const AwardId a = grant(100'0000, kT0 + 2 * kHour);
  top_up(100'0000);
  const JobId id = ran(1, kHour);   // subsidy 21
  engine->expire(kT0 + 3 * kHour);  // 79 returns to the fund
  const Minor funded = scheme_report(*engine, scheme, kT0 + 3 * kHour)->funded_minor;
  ASSERT_TRUE(
      engine->refund_job(id, 30'0000, "whole job", kT0 + 4 * kHour).ok());  // 21 to the fund
  const AwardMoney m = award_money(*engine, *engine->funding().award(a));
  EXPECT_EQ(m.spent_minor, 0);
  EXPECT_EQ(m.refunded_minor, 21'0000);
  EXPECT_EQ(m.left_minor, 0);
  EXPECT_EQ(m.returned_minor, 100'0000);  // 79 at its end and the 21 refunded after it
  expect_adds_up(m);
  auto report = scheme_report(*engine, scheme, kT0 + 4 * kHour);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->funded_minor, funded);  // a refund to the fund is not new funding
  EXPECT_EQ(report->returned_minor, 100'0000);
  EXPECT_EQ(report->committed_minor, 0);
  EXPECT_EQ(report->committed_minor,
            report->spent_minor + report->held_minor + report->unspent_minor);
  EXPECT_EQ(report->remaining_minor, report->funded_minor - report->committed_minor);
  expect_clean();
}

TEST_F(WalletTest, ARestoredEngineSplitsPastRefundsOverEachRunsAwardAsBefore) {
  // Run 0 paid by award 1 (ended since), run 1 by award 2; a refund splits over both.
  JobId id;
  AwardId first, second;
  ASSERT_NO_FATAL_FAILURE(requeued_over_two_awards(&id, &first, &second));
  ASSERT_TRUE(engine->refund_job(id, 40'0000, "flaky node", kT0 + 3 * kHour)
                  .ok());  // 21 for run 0, 7 for run 1
  EXPECT_EQ(engine->subsidy_refunded(first), 21'0000);
  EXPECT_EQ(engine->subsidy_refunded(second), 7'0000);
  auto restored = Engine::Restore(one_node(), engine->snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  for (AwardId a : {first, second}) {
    const AwardMoney before = award_money(*engine, *engine->funding().award(a));
    const AwardMoney after = award_money(**restored, *(*restored)->funding().award(a));
    EXPECT_EQ(after.spent_minor, before.spent_minor);
    EXPECT_EQ(after.refunded_minor, before.refunded_minor);
    EXPECT_EQ(after.returned_minor, before.returned_minor);
    expect_adds_up(after);
  }
  EXPECT_EQ(award_money(**restored, *(*restored)->funding().award(first)).returned_minor,
            79'0000 + 21'0000);
  EXPECT_EQ(award_money(**restored, *(*restored)->funding().award(second)).spent_minor, 14'0000);
}

// An award's figures are read from its row's granted and returned amounts: reconcile holds
// those to the award's transfers.
TEST_F(WalletTest, ReconcileCatchesAnAwardRowThatDisagreesWithItsTransfers) {
  const AwardId a = grant(100'0000, kT0 + 2 * kHour);
  top_up(100'0000);
  ran(1, kHour);
  engine->expire(kT0 + 3 * kHour);  // returns 79
  ChangeSet rows = engine->snapshot();
  rows.awards[a.value - 1].returned_minor -= 1;  // the row claims one unit less returned
  const ReconcileReport r = reconcile(rows);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.differences.front().kind, DifferenceKind::kAwardTotals);
  EXPECT_EQ(r.differences.front().field, "returned");
  ChangeSet granted = engine->snapshot();
  granted.awards[a.value - 1].amount_minor += 1;
  const ReconcileReport g = reconcile(granted);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.differences.front().field, "amount");
}

TEST_F(WalletTest, RestoreRefusesAnAwardCreditedWithRefundsItsJobsDoNotShow) {
  grant(100'0000);
  top_up(100'0000);
  const JobId id = ran(1, kHour);
  ASSERT_TRUE(
      engine->refund_job(id, 10'0000, "slow node", kT0 + kHour).ok());  // 7 back into the award
  ChangeSet rows = engine->snapshot();
  rows.jobs[id.value - 1].refunded_minor = 0;  // the job's row forgets its refund
  auto restored = Engine::Restore(one_node(), rows);
  ASSERT_FALSE(restored.ok());
  EXPECT_NE(restored.status().message().find("award 1: refunds paid into it (7.0000)"),
            std::string::npos)
      << restored.status().ToString();
}

// ---- adjustments ----

TEST_F(WalletTest, AdjustmentsMoveMoneyBetweenRevenueAndTheWallet) {
  top_up(100'0000);
  ran(1, kHour);  // revenue 30
  const Minor wallet_before = wallet().balance(), revenue_before = revenue().balance();
  auto credit = engine->adjust_wallet(project, 5'0000, "goodwill", kT0 + 2 * kHour);
  ASSERT_TRUE(credit.ok()) << credit.status().ToString();
  EXPECT_EQ(wallet().balance() - wallet_before, 5'0000);
  EXPECT_EQ(revenue().balance() - revenue_before, -5'0000);
  EXPECT_EQ(engine->ledger().transfer(*credit)->code, kCodeAdjustment);
  EXPECT_EQ(engine->ledger().transfer(*credit)->ref, project.value);
  ASSERT_TRUE(
      engine->adjust_wallet(project, -2'5000, "double-counted top-up", kT0 + 2 * kHour).ok());
  EXPECT_EQ(wallet().balance() - wallet_before, 2'5000);
  EXPECT_EQ(engine->audit().back().action, "wallet.adjust");
  EXPECT_EQ(engine->audit().back().amount_minor, -2'5000);
  expect_clean();
}

TEST_F(WalletTest, AnAdjustmentBelowTheFloorIsRefusedAndChangesNothing) {
  top_up(10'0000);
  ASSERT_TRUE(engine->set_credit_limit(project, 5'0000, "", kT0).ok());
  const Books before = books();
  auto below = engine->adjust_wallet(project, -15'0001, "too much", kT0);
  EXPECT_EQ(below.status().code(), Code::kInsufficientFunds) << below.status().ToString();
  EXPECT_EQ(engine->adjust_wallet(project, 0, "nothing", kT0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(engine->adjust_wallet(project, -1, "", kT0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(engine->adjust_wallet(ProjectId(9), -1, "who", kT0).status().code(), Code::kNotFound);
  // Revenue is empty: a goodwill credit has nothing to come from.
  EXPECT_EQ(engine->adjust_wallet(project, 1, "goodwill", kT0).status().code(),
            Code::kInsufficientFunds);
  EXPECT_EQ(books(), before);
  ASSERT_TRUE(engine->adjust_wallet(project, -15'0000, "down to the floor", kT0).ok());
  EXPECT_EQ(wallet().spendable(), 0);
  expect_clean();
}

// ---- restore and reconcile ----

TEST_F(WalletTest, RestoreKeepsLimitsAndRefundsAndReconcileCatchesTampering) {
  const AwardId a = grant(100'0000);
  top_up(100'0000);
  const JobId id = ran(1, kHour);
  ASSERT_TRUE(engine->set_credit_limit(project, 7'0000, "", kT0 + kHour).ok());
  ASSERT_TRUE(engine->refund_job(id, 12'0000, "slow", kT0 + kHour).ok());
  const ChangeSet rows = engine->snapshot();
  auto restored = Engine::Restore(one_node(), rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->job(id)->refunded_minor, 12'0000);
  EXPECT_EQ((*restored)->ledger().account(wallet().id)->credit_limit_minor, 7'0000);
  EXPECT_TRUE(reconcile(rows).ok());

  auto has = [](const ReconcileReport& r, DifferenceKind kind) {
    for (const Difference& d : r.differences)
      if (d.kind == kind) return true;
    return false;
  };
  ChangeSet more = rows;  // the job's row claims more refunded than its transfers
  more.jobs[id.value - 1].refunded_minor += 1;
  EXPECT_TRUE(has(reconcile(more), DifferenceKind::kJobRefund));
  ChangeSet beyond = rows;  // more refunded than charged
  beyond.jobs[id.value - 1].refunded_minor = beyond.jobs[id.value - 1].cost_minor + 1;
  EXPECT_TRUE(has(reconcile(beyond), DifferenceKind::kJobRefund));
  ChangeSet to_wallet = rows;  // the subsidy part redirected to the wallet
  for (Transfer& t : to_wallet.transfers)
    if (t.code == kCodeRefund && t.credit == award_account(a).id) t.credit = wallet().id;
  EXPECT_TRUE(has(reconcile(to_wallet), DifferenceKind::kJobRefund));
  ChangeSet stray = rows;  // a refund of a job that does not exist
  for (Transfer& t : stray.transfers)
    if (t.code == kCodeRefund) t.ref = 77;
  EXPECT_TRUE(has(reconcile(stray), DifferenceKind::kJobRefund));
  ChangeSet credit = rows;  // a credit limit on a fund
  for (Account& acct : credit.accounts)
    if (acct.kind == AccountKind::kFund) acct.credit_limit_minor = 1;
  EXPECT_TRUE(has(reconcile(credit), DifferenceKind::kUnprotectedAccount));
}

}  // namespace
}  // namespace berth::core

namespace berth::core {
namespace {

TEST_F(WalletTest, ARefundOrAdjustmentWithAReferenceIsAppliedOnceEvenAcrossARestart) {
  grant(100'0000);
  top_up(100'0000);
  const JobId id = ran(1, kHour);  // cost 30
  bool replayed = true;
  auto first = engine->refund_job(id, 10'0000, "slow node", "RF-1", kT0 + 2 * kHour, &replayed);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(replayed);
  const Books after_first = books();
  // The same request again: the first result, and nothing changes.
  auto again = engine->refund_job(id, 10'0000, "slow node", "RF-1", kT0 + 3 * kHour, &replayed);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(replayed);
  EXPECT_EQ(*again, 10'0000);
  EXPECT_EQ(books(), after_first);
  // The reference used for something else: refused, nothing changes.
  EXPECT_EQ(engine->refund_job(id, 5'0000, "slow node", "RF-1", kT0, &replayed).status().code(),
            Code::kConflict);
  EXPECT_EQ(
      engine->adjust_wallet(project, 1'0000, "goodwill", "RF-1", kT0, &replayed).status().code(),
      Code::kConflict);
  EXPECT_EQ(books(), after_first);
  // The whole rest (amount 0), then its replay.
  auto rest = engine->refund_job(id, 0, "all of it", "RF-2", kT0 + 3 * kHour, &replayed);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_EQ(*rest, 20'0000);
  EXPECT_EQ(job(id).refunded_minor, 30'0000);
  auto rest_again = engine->refund_job(id, 0, "all of it", "RF-2", kT0 + 4 * kHour, &replayed);
  ASSERT_TRUE(rest_again.ok()) << rest_again.status().ToString();
  EXPECT_TRUE(replayed);
  EXPECT_EQ(*rest_again, 20'0000);
  EXPECT_EQ(engine->refund_job(id, 0, "more", "", kT0 + 4 * kHour, &replayed).status().code(),
            Code::kConflict);
  // An adjustment with a reference, replayed after a restart from the rows.
  auto adj =
      engine->adjust_wallet(project, -2'0000, "correction", "ADJ-1", kT0 + 5 * kHour, &replayed);
  ASSERT_TRUE(adj.ok()) << adj.status().ToString();
  auto restored = Engine::Restore(one_node(), engine->snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  engine = std::move(*restored);
  const Books before_replay = books();
  auto adj_again =
      engine->adjust_wallet(project, -2'0000, "correction", "ADJ-1", kT0 + 6 * kHour, &replayed);
  ASSERT_TRUE(adj_again.ok()) << adj_again.status().ToString();
  EXPECT_TRUE(replayed);
  EXPECT_EQ(*adj_again, *adj);
  EXPECT_EQ(books(), before_replay);
  EXPECT_EQ(engine->money_reference("ADJ-1")->action, "wallet.adjust");
  EXPECT_EQ(engine->refund_job(id, 1, "x", std::string(129, 'r'), kT0, &replayed).status().code(),
            Code::kInvalidArgument);
  expect_clean();
}

}  // namespace
}  // namespace berth::core
