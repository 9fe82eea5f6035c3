// The Engine's funding paperwork (paperwork.cc). Applications: the scheme's rules (window,
// eligibility, cap, exceptional rate, award validity) and approval moving money from the fund to
// a new award in one command. Progress reports: an overdue one withholds the award's subsidy.
#include <gtest/gtest.h>

#include "common/timefmt.h"
#include "core/engine.h"
#include "core/statements.h"
#include "core/one_node.h"

namespace berth::core {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'800'000'000'000;
constexpr Minor kUnit = kMinorPerUnit;
constexpr Minor kPrice = 300'000;  // 30.0000 per GPU-hour

int64_t at(const char* text) { return *parse_time_ms(text); }

Actor member(OrgId org, const std::string& user = "mia") {
  return Actor{user, FundingRole::kMember, org};
}
Actor reviewer(const std::string& user = "rita") {
  return Actor{user, FundingRole::kReviewer, OrgId()};
}

class EngineApplicationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Engine::Create(one_node(), kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    org = engine->create_org("hku", OrgKind::kUniversity, kT0)->id;
    project = engine->create_project(org, "vision", kT0)->id;
    startup = engine->create_org("tiny", OrgKind::kStartup, kT0)->id;
    startup_project = engine->create_project(startup, "tiny-llm", kT0)->id;
    SchemeSpec spec;
    spec.name = "ai-subsidy";
    spec.rate_bps = 7000;
    spec.eligible_kinds = 1u << static_cast<int>(OrgKind::kUniversity);
    spec.exceptional_rate_bps = 9000;
    spec.cap_per_project_minor = 500'000 * kUnit;
    spec.window_open_ms = kT0;
    spec.window_close_ms = kT0 + 30 * kDay;
    spec.award_validity_days = 365;
    auto s = engine->create_scheme(spec, 1'000'000 * kUnit, kT0);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scheme = s->id;
    ASSERT_TRUE(engine->set_criteria(rita, scheme, {{"impact", 6000}, {"plan", 4000}}, kT0).ok());
  }

  ApplicationTerms terms(Minor amount, int days = 180) {
    ApplicationTerms t;
    t.amount_minor = amount;
    t.gpu_level = 8;
    t.duration_days = days;
    t.justification = "train a vision model for the harbour";
    return t;
  }
  // Drafts, submits and reviews an application; returns its id.
  ApplicationId ready(Minor amount, int days = 180) {
    auto id = engine->draft_application(alice, scheme, project, terms(amount, days), kT0 + kDay);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_TRUE(engine->submit_application(alice, *id, kT0 + kDay).ok());
    EXPECT_TRUE(
        engine->review_application(rita, *id, {{"impact", 80}, {"plan", 70}}, "", kT0 + 2 * kDay)
            .ok());
    return *id;
  }
  Minor fund_left() const {
    return engine->ledger().account(engine->funding().scheme(scheme)->fund)->available();
  }

  std::unique_ptr<Engine> engine;
  OrgId org, startup;
  ProjectId project, startup_project;
  SchemeId scheme;
  Actor alice{"alice", FundingRole::kMember, OrgId(1)};
  Actor tom{"tom", FundingRole::kMember, OrgId(2)};
  Actor rita{"rita", FundingRole::kReviewer, OrgId()};
};

TEST_F(EngineApplicationsTest, ApprovalMovesTheGrantFromTheFundToANewAwardValidFromTheDecision) {
  const ApplicationId id = ready(300'000 * kUnit);
  Approval approval;
  approval.amount_minor = 200'000 * kUnit;  // less than asked
  approval.note = "reduced: plan is long";
  auto award = engine->approve_application(rita, id, approval, kT0 + 3 * kDay);
  ASSERT_TRUE(award.ok()) << award.status().ToString();
  EXPECT_EQ(award->amount_minor, 200'000 * kUnit);
  EXPECT_EQ(award->rate_bps, 7000);
  EXPECT_EQ(award->gpu_level, 8);
  EXPECT_EQ(award->start_ms, kT0 + 3 * kDay);
  EXPECT_EQ(award->end_ms, kT0 + 3 * kDay + 180 * kDay);
  EXPECT_EQ(award->application, id);
  EXPECT_EQ(fund_left(), 800'000 * kUnit);
  EXPECT_EQ(engine->ledger().account(award->account)->balance(), 200'000 * kUnit);
  const Application* app = engine->applications().get(id);
  EXPECT_EQ(app->state, ApplicationState::kApproved);
  EXPECT_EQ(app->award, award->id);
  EXPECT_EQ(app->approved_rate_bps, 7000);
  EXPECT_EQ(engine->applications().events().back().action, ApplicationAction::kAwarded);
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(EngineApplicationsTest,
       ExceptionalRateIsGrantedOnlyWhereTheSchemeHasOneAndJobsAreSubsidisedAtIt) {
  const ApplicationId id = ready(100'000 * kUnit);
  Approval approval;
  approval.exceptional_rate = true;
  auto award = engine->approve_application(rita, id, approval, kT0 + 3 * kDay);
  ASSERT_TRUE(award.ok()) << award.status().ToString();
  EXPECT_EQ(award->rate_bps, 9000);
  ASSERT_TRUE(engine->top_up(project, 1'000 * kUnit, "", kT0 + 3 * kDay).ok());
  JobRequest r;
  r.project = project;
  r.gpus = 1;
  r.time_limit_s = 3600;
  auto q = engine->quote(r, kT0 + 3 * kDay);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->max_cost_minor, 30 * kUnit);
  EXPECT_EQ(q->subsidy_minor, 27 * kUnit);  // 90 %
  EXPECT_EQ(q->rate_bps, 9000);
}

TEST_F(EngineApplicationsTest, AnAwardLastsNoLongerThanTheSchemesValidity) {
  const ApplicationId id = ready(100'000 * kUnit, 900);
  auto award = engine->approve_application(rita, id, Approval{}, kT0 + 3 * kDay);
  ASSERT_TRUE(award.ok()) << award.status().ToString();
  EXPECT_EQ(award->end_ms - award->start_ms, 365 * kDay);
  EXPECT_EQ(engine->applications().get(id)->approved_duration_days, 365);
}

TEST_F(EngineApplicationsTest, RefusalsChangeNothing) {
  const ApplicationId id = ready(400'000 * kUnit);
  const size_t events = engine->applications().events().size();
  const Minor left = fund_left();
  // A member cannot approve.
  EXPECT_EQ(engine->approve_application(alice, id, Approval{}, kT0 + 3 * kDay).status().code(),
            Code::kPermissionDenied);
  // More than the application asked.
  Approval more;
  more.amount_minor = 400'001 * kUnit;
  EXPECT_EQ(engine->approve_application(rita, id, more, kT0 + 3 * kDay).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(engine->applications().events().size(), events);
  EXPECT_EQ(fund_left(), left);
  EXPECT_EQ(engine->applications().get(id)->state, ApplicationState::kSubmitted);
  EXPECT_TRUE(engine->funding().awards().empty());
}

TEST_F(EngineApplicationsTest, TheCapCountsEveryAwardTheProjectHasFromTheScheme) {
  ASSERT_TRUE(
      engine->approve_application(rita, ready(400'000 * kUnit), Approval{}, kT0 + 3 * kDay).ok());
  // A second application for 200,000 would take the project to 600,000, over the 500,000 cap:
  // refused when submitted...
  auto second =
      engine->draft_application(alice, scheme, project, terms(200'000 * kUnit), kT0 + 4 * kDay);
  ASSERT_TRUE(second.ok());
  const Status st = engine->submit_application(alice, *second, kT0 + 4 * kDay);
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_NE(st.message().find("caps a project"), std::string::npos) << st.message();
  // ...and a direct award over the cap is refused too.
  EXPECT_EQ(engine->create_award(scheme, project, 100'001 * kUnit, 8, kT0, kT0 + kDay, kT0)
                .status()
                .code(),
            Code::kConflict);
  EXPECT_TRUE(engine->create_award(scheme, project, 100'000 * kUnit, 8, kT0, kT0 + kDay, kT0).ok());
}

TEST_F(EngineApplicationsTest, TheFundBoundsApprovalsSoAwardsNeverExceedIt) {
  // Two projects of eligible organisations ask 600,000 each from a fund of 1,000,000.
  const OrgId other = engine->create_org("cuhk", OrgKind::kUniversity, kT0)->id;
  const ProjectId p2 = engine->create_project(other, "speech", kT0)->id;
  const Actor bob{"bob", FundingRole::kMember, other};
  SchemeSpec spec;
  spec.name = "big";
  spec.rate_bps = 5000;
  spec.eligible_kinds = 1u << static_cast<int>(OrgKind::kUniversity);
  const SchemeId big = engine->create_scheme(spec, 1'000'000 * kUnit, kT0)->id;
  ASSERT_TRUE(engine->set_criteria(rita, big, {{"merit", 10000}}, kT0).ok());
  auto a1 = engine->draft_application(alice, big, project, terms(600'000 * kUnit), kT0);
  auto a2 = engine->draft_application(bob, big, p2, terms(600'000 * kUnit), kT0);
  ASSERT_TRUE(a1.ok() && a2.ok());
  for (auto [who, id] : {std::pair{alice, *a1}, std::pair{bob, *a2}}) {
    ASSERT_TRUE(engine->submit_application(who, id, kT0).ok());
    ASSERT_TRUE(engine->review_application(rita, id, {{"merit", 90}}, "", kT0).ok());
  }
  ASSERT_TRUE(engine->approve_application(rita, *a1, Approval{}, kT0).ok());
  auto refused = engine->approve_application(rita, *a2, Approval{}, kT0);
  EXPECT_EQ(refused.status().code(), Code::kInsufficientFunds);
  Approval what_is_left;
  what_is_left.amount_minor = 400'000 * kUnit;
  ASSERT_TRUE(engine->approve_application(rita, *a2, what_is_left, kT0).ok());
  EXPECT_EQ(engine->ledger().account(engine->funding().scheme(big)->fund)->balance(), 0);
}

TEST_F(EngineApplicationsTest, WindowAndEligibilityComeFromTheScheme) {
  // A startup is not eligible.
  auto draft =
      engine->draft_application(tom, scheme, startup_project, terms(1 * kUnit), kT0 + kDay);
  EXPECT_EQ(draft.status().code(), Code::kPermissionDenied);
  // After the window closes, nothing can be submitted.
  auto id = engine->draft_application(alice, scheme, project, terms(1 * kUnit), kT0 + kDay);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(engine->submit_application(alice, *id, kT0 + 31 * kDay).code(), Code::kConflict);
  EXPECT_TRUE(engine->submit_application(alice, *id, kT0 + 29 * kDay).ok());
}

TEST_F(EngineApplicationsTest, ApplicationsSurviveRestoreFromTheirRows) {
  const ApplicationId approved = ready(100'000 * kUnit);
  ASSERT_TRUE(engine->approve_application(rita, approved, Approval{}, kT0 + 3 * kDay).ok());
  const ApplicationId pending = ready(50'000 * kUnit);
  // Rows as drained in two batches, the way berthd commits them.
  ChangeSet rows = engine->drain_changes();
  ASSERT_TRUE(engine->reject_application(rita, pending, "budget is spent", kT0 + 4 * kDay).ok());
  ChangeSet later = engine->drain_changes();
  EXPECT_EQ(later.applications.size(), 1u);
  EXPECT_EQ(later.application_events.size(), 1u);
  EXPECT_TRUE(later.criteria.empty());
  // Merge the two batches as a store would hold them (applications upserted by id).
  for (const Application& a : later.applications) rows.applications[a.id.value - 1] = a;
  for (const ApplicationEvent& e : later.application_events) rows.application_events.push_back(e);
  rows.next_account_id = later.next_account_id;
  rows.next_transfer_seq = later.next_transfer_seq;
  auto restored = Engine::Restore(one_node(), rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const Engine& r = **restored;
  EXPECT_EQ(r.applications().all(), engine->applications().all());
  EXPECT_EQ(r.applications().events(), engine->applications().events());
  EXPECT_EQ(r.applications().criteria(scheme), engine->applications().criteria(scheme));
  EXPECT_EQ(r.funding().awards().size(), 1u);
  EXPECT_EQ(r.funding().awards()[0].application, approved);
  // Criteria stay fixed after reviews, across the restore too.
  auto& mutable_engine = **restored;
  EXPECT_EQ(mutable_engine.set_criteria(rita, scheme, {{"only", 10000}}, kT0 + 5 * kDay).code(),
            Code::kConflict);
}

TEST_F(EngineApplicationsTest, TheSchemeReportCountsApplicationsByStateWithWhatWasAskedAndGranted) {
  const ApplicationId approved = ready(300'000 * kUnit);
  Approval approval;
  approval.amount_minor = 200'000 * kUnit;
  ASSERT_TRUE(engine->approve_application(rita, approved, approval, kT0 + 3 * kDay).ok());
  const ApplicationId rejected = ready(50'000 * kUnit);
  ASSERT_TRUE(engine->reject_application(rita, rejected, "out of scope", kT0 + 3 * kDay).ok());
  ready(10'000 * kUnit);  // submitted
  ASSERT_TRUE(
      engine->draft_application(alice, scheme, project, terms(7 * kUnit), kT0).ok());  // a draft
  auto r = scheme_report(*engine, scheme, kT0 + 4 * kDay);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->applications.total(), 4);
  EXPECT_EQ(r->applications.of(ApplicationState::kApproved), 1);
  EXPECT_EQ(r->applications.of(ApplicationState::kRejected), 1);
  EXPECT_EQ(r->applications.of(ApplicationState::kSubmitted), 1);
  EXPECT_EQ(r->applications.of(ApplicationState::kDraft), 1);
  EXPECT_EQ(r->applied_minor, 360'000 * kUnit);  // drafts are not asked yet
  EXPECT_EQ(r->approved_minor, 200'000 * kUnit);
  EXPECT_EQ(r->granted_minor, 200'000 * kUnit);
}

// The Engine: an overdue report withholds the award's subsidy from new jobs only.
class EngineReportsTest : public ::testing::Test {
 protected:
  static constexpr int64_t kStart = 1'798'761'600'000;  // 2027-01-01T00:00:00Z
  void SetUp() override {
    ClusterConfig c;
    c.nodes = {Node{NodeId(), "h1", "H100", 8, 64, 1000, NodeState::kUp}};
    c.prices = {{"H100", kPrice}};
    c.partitions = {Partition{"gpu", 24 * 3600, 3600, true}};
    auto e = Engine::Create(c, kStart);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    org = engine->create_org("hku", OrgKind::kUniversity, kStart)->id;
    project = engine->create_project(org, "vision", kStart)->id;
    ASSERT_TRUE(engine->top_up(project, 1'000'0000, "", kStart).ok());
  }
  AwardId grant(Shortfall rule) {
    auto s = engine->create_scheme(rule == Shortfall::kWait ? "strict" : "lenient", 7000,
                                   1u << static_cast<int>(OrgKind::kUniversity), rule, 10'000'0000,
                                   kStart);
    EXPECT_TRUE(s.ok());
    auto a =
        engine->create_award(s->id, project, 1'000'0000, 8, kStart, kStart + 365 * kDay, kStart, 1);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a->id;
  }
  JobRequest one_gpu_hour() const {
    JobRequest r;
    r.project = project;
    r.gpus = 1;
    r.time_limit_s = 3600;
    return r;
  }
  JobId submit(int64_t now) {
    auto id = engine->submit(one_gpu_hour(), now);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return *id;
  }
  const Job& job(JobId id) { return *engine->job(id); }
  std::unique_ptr<Engine> engine;
  OrgId org;
  ProjectId project;
  const int64_t due = at("2027-02-01");
};

TEST_F(EngineReportsTest, WalletRuleOverdueMeansTheWalletPaysAllUntilAccepted) {
  const AwardId award = grant(Shortfall::kWallet);
  const JobId before = submit(due - kHour);
  ASSERT_EQ(engine->schedule(due - kHour).size(), 1u);
  EXPECT_EQ(job(before).subsidy_held_minor, 210'000);

  auto q = engine->quote(one_gpu_hour(), due);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->affordable);
  EXPECT_EQ(q->subsidy_minor, 0);
  EXPECT_EQ(q->report_overdue_award, award);
  EXPECT_TRUE(engine->report_standing(award, due).overdue());

  const JobId late = submit(due);
  ASSERT_EQ(engine->schedule(due).size(), 1u);
  EXPECT_FALSE(job(late).award.valid());
  EXPECT_EQ(job(late).copay_held_minor, kPrice);
  // The job that started before the due date keeps its subsidy hold.
  EXPECT_EQ(job(before).subsidy_held_minor, 210'000);
  EXPECT_EQ(job(before).award, award);

  ASSERT_TRUE(
      engine->submit_report(member(org), award, 1, "a month of training", due + kHour).ok());
  ASSERT_TRUE(engine->accept_report(reviewer(), award, 1, due + 2 * kHour).ok());
  const JobId after = submit(due + 2 * kHour);
  ASSERT_EQ(engine->schedule(due + 2 * kHour).size(), 1u);
  EXPECT_EQ(job(after).award, award);
  EXPECT_EQ(job(after).subsidy_held_minor, 210'000);
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(EngineReportsTest, WaitRuleOverdueJobsWaitWithTheReason) {
  const AwardId award = grant(Shortfall::kWait);
  const JobId id = submit(due);
  EXPECT_TRUE(engine->schedule(due).empty());
  EXPECT_EQ(job(id).reason, PendingReason::kProgressReportOverdue);
  auto q = engine->quote(one_gpu_hour(), due);
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->affordable);
  EXPECT_EQ(q->reason, PendingReason::kProgressReportOverdue);

  ASSERT_TRUE(engine->submit_report(member(org), award, 1, "x", due).ok());
  EXPECT_TRUE(engine->schedule(due + 1).empty());  // submitted is not yet accepted
  ASSERT_TRUE(engine->accept_report(reviewer(), award, 1, due + 2).ok());
  ASSERT_EQ(engine->schedule(due + 2).size(), 1u);
  EXPECT_EQ(job(id).award, award);
}

TEST_F(EngineReportsTest, RefusedCommandsChangeNothingAndReportsSurviveARestore) {
  const AwardId award = grant(Shortfall::kWallet);
  engine->drain_changes();
  EXPECT_EQ(engine->submit_report(member(OrgId(99)), award, 1, "x", due).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(engine->submit_report(member(org), AwardId(9), 1, "x", due).code(), Code::kNotFound);
  EXPECT_EQ(engine->accept_report(reviewer(), award, 1, due).code(), Code::kNotFound);
  EXPECT_TRUE(engine->drain_changes().empty());
  ASSERT_TRUE(engine->submit_report(member(org), award, 1, "x", due).ok());
  ChangeSet c = engine->drain_changes();
  ASSERT_EQ(c.reports.size(), 1u);
  ASSERT_EQ(c.report_events.size(), 1u);

  ClusterConfig cfg;
  cfg.nodes = {Node{NodeId(), "h1", "H100", 8, 64, 1000, NodeState::kUp}};
  cfg.prices = {{"H100", kPrice}};
  cfg.partitions = {Partition{"gpu", 24 * 3600, 3600, true}};
  auto restored = Engine::Restore(cfg, engine->snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->reports().all(), engine->reports().all());
  EXPECT_EQ((*restored)->funding().award(award)->report_every_months, 1);
  EXPECT_TRUE((*restored)->accept_report(reviewer(), award, 1, due + 1).ok());
}

TEST_F(EngineReportsTest, ApprovalMayRequireReports) {
  auto s = engine->create_scheme("apply", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                 Shortfall::kWallet, 10'000'0000, kStart);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(engine->set_criteria(reviewer(), s->id, {{"merit", 10'000}}, kStart).ok());
  ApplicationTerms t;
  t.amount_minor = 100'0000;
  t.gpu_level = 4;
  t.duration_days = 90;
  t.justification = "science";
  auto app = engine->draft_application(member(org), s->id, project, t, kStart);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  ASSERT_TRUE(engine->submit_application(member(org), *app, kStart).ok());
  ASSERT_TRUE(engine->review_application(reviewer(), *app, {{"merit", 80}}, "", kStart).ok());
  Approval bad;
  bad.report_every_months = 200;
  EXPECT_EQ(engine->approve_application(reviewer(), *app, bad, kStart).status().code(),
            Code::kInvalidArgument);
  Approval ok;
  ok.report_every_months = 1;
  ok.report_grace_days = 5;
  auto award = engine->approve_application(reviewer(), *app, ok, kStart);
  ASSERT_TRUE(award.ok()) << award.status().ToString();
  EXPECT_EQ(award->report_every_months, 1);
  EXPECT_EQ(award->report_grace_days, 5);
  EXPECT_EQ(engine->report_standing(award->id, kStart).next_due_ms, due);
  EXPECT_FALSE(engine->report_standing(award->id, due + 4 * kDay).overdue());
  EXPECT_TRUE(engine->report_standing(award->id, due + 5 * kDay).overdue());
  EXPECT_EQ(engine->next_report_overdue_ms(kStart), due + 5 * kDay);
}

}  // namespace
}  // namespace berth::core
