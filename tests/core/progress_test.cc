// Progress reports: their schedule, who may do what, and what an overdue report does to money.
#include "core/progress.h"

#include <gtest/gtest.h>

#include "common/timefmt.h"
#include "core/engine.h"

namespace berth::core {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
constexpr Minor kPrice = 300'000;  // 30.0000 per GPU-hour

int64_t at(const char* text) { return *parse_time_ms(text); }

Actor member(OrgId org, const std::string& user = "mia") { return Actor{user, FundingRole::kMember, org}; }
Actor reviewer(const std::string& user = "rita") { return Actor{user, FundingRole::kReviewer, OrgId()}; }

TEST(ReportScheduleTest, DueDatesClampTheDayAndStopBeforeTheEnd) {
  const std::vector<int64_t> due = report_due_dates(at("2026-01-31"), at("2026-05-31"), 1);
  ASSERT_EQ(due.size(), 3u);  // May 31 is the end itself: no report is due then
  EXPECT_EQ(due[0], at("2026-02-28"));
  EXPECT_EQ(due[1], at("2026-03-31"));  // counted from the start, so the clamp does not drift
  EXPECT_EQ(due[2], at("2026-04-30"));
  EXPECT_EQ(report_due_dates(at("2028-01-31"), at("2028-12-31"), 1)[0], at("2028-02-29"));
  EXPECT_EQ(report_due_dates(at("2026-01-15"), at("2027-01-16"), 6),
            (std::vector<int64_t>{at("2026-07-15"), at("2027-01-15")}));
  EXPECT_TRUE(report_due_dates(at("2026-01-01"), at("2027-01-01"), 0).empty());
  EXPECT_TRUE(report_due_dates(at("2026-01-01"), at("2026-01-20"), 1).empty());
}

TEST(ReportScheduleTest, RuleBounds) {
  EXPECT_TRUE(check_report_rule(0, 0).ok());
  EXPECT_TRUE(check_report_rule(120, 365).ok());
  EXPECT_EQ(check_report_rule(-1, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(check_report_rule(121, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(check_report_rule(1, 366).code(), Code::kInvalidArgument);
  EXPECT_EQ(check_report_rule(0, 5).code(), Code::kInvalidArgument);
}

class ProgressReportsTest : public ::testing::Test {
 protected:
  ProgressReportsTest() {
    terms.award = AwardId(1);
    terms.org = OrgId(7);
    terms.start_ms = at("2026-01-31");
    terms.end_ms = at("2027-01-31");
    terms.every_months = 1;
  }
  ReportTerms terms;
  ProgressReports reports;
};

TEST_F(ProgressReportsTest, OnlyAMemberOfTheOrganisationSubmitsAndOnlyAReviewerDecides) {
  const int64_t now = at("2026-02-10");
  EXPECT_EQ(reports.submit(reviewer(), terms, 1, "done", now).code(), Code::kPermissionDenied);
  EXPECT_EQ(reports.submit(member(OrgId(8)), terms, 1, "done", now).code(), Code::kPermissionDenied);
  EXPECT_TRUE(reports.events().empty());
  ASSERT_TRUE(reports.submit(member(terms.org), terms, 1, "trained the model", now).ok());
  EXPECT_EQ(reports.accept(member(terms.org), terms.award, 1, now).code(), Code::kPermissionDenied);
  EXPECT_EQ(reports.return_report(member(terms.org), terms.award, 1, "no", now).code(), Code::kPermissionDenied);
  ASSERT_TRUE(reports.accept(reviewer(), terms.award, 1, now + 1).ok());
  const ProgressReport* r = reports.get(terms.award, 1);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, ReportState::kAccepted);
  EXPECT_EQ(r->due_ms, at("2026-02-28"));
  EXPECT_EQ(r->submitted_by, "mia");
  EXPECT_EQ(r->decided_by, "rita");
  ASSERT_EQ(reports.events().size(), 2u);
  EXPECT_EQ(reports.events()[1].action, ReportAction::kAccepted);
}

TEST_F(ProgressReportsTest, RefusalsChangeNothing) {
  const int64_t now = at("2026-02-10");
  EXPECT_EQ(reports.submit(member(terms.org), terms, 0, "x", now).code(), Code::kInvalidArgument);
  EXPECT_EQ(reports.submit(member(terms.org), terms, 12, "x", now).code(), Code::kInvalidArgument);  // past the end
  EXPECT_EQ(reports.submit(member(terms.org), terms, 2, "x", now).code(), Code::kConflict);  // not begun
  EXPECT_EQ(reports.submit(member(terms.org), terms, 1, "", now).code(), Code::kInvalidArgument);
  EXPECT_EQ(reports.submit(member(terms.org), terms, 1, std::string(kMaxReportTextBytes + 1, 'a'), now).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(reports.accept(reviewer(), terms.award, 1, now).code(), Code::kNotFound);
  ReportTerms none = terms;
  none.every_months = 0;
  EXPECT_EQ(reports.submit(member(terms.org), none, 1, "x", now).code(), Code::kConflict);
  EXPECT_TRUE(reports.events().empty());
  EXPECT_TRUE(reports.all().empty());
  ASSERT_TRUE(reports.submit(member(terms.org), terms, 1, "x", now).ok());
  EXPECT_EQ(reports.submit(member(terms.org), terms, 1, "again", now).code(), Code::kConflict);
  EXPECT_EQ(reports.return_report(reviewer(), terms.award, 1, "", now).code(), Code::kInvalidArgument);
  EXPECT_EQ(reports.events().size(), 1u);
  EXPECT_EQ(reports.get(terms.award, 1)->text, "x");
}

TEST_F(ProgressReportsTest, AReturnedReportMayBeSubmittedAgain) {
  const int64_t now = at("2026-03-01");
  ASSERT_TRUE(reports.submit(member(terms.org), terms, 1, "short", now).ok());
  ASSERT_TRUE(reports.return_report(reviewer(), terms.award, 1, "say what ran", now + 1).ok());
  EXPECT_EQ(reports.get(terms.award, 1)->state, ReportState::kReturned);
  EXPECT_EQ(reports.get(terms.award, 1)->return_reason, "say what ran");
  ASSERT_TRUE(reports.submit(member(terms.org), terms, 1, "longer", now + 2).ok());
  EXPECT_EQ(reports.get(terms.award, 1)->submissions, 2);
  EXPECT_EQ(reports.get(terms.award, 1)->state, ReportState::kSubmitted);
  EXPECT_EQ(reports.changed_since(1).size(), 1u);
  EXPECT_EQ(reports.events_since(1).size(), 2u);
}

TEST_F(ProgressReportsTest, OverdueFromTheDueDatePlusGraceUntilAccepted) {
  const int64_t due = at("2026-02-28");
  EXPECT_FALSE(reports.standing(terms, due - 1).overdue());
  EXPECT_EQ(reports.standing(terms, due - 1).next_due_ms, due);
  EXPECT_EQ(reports.standing(terms, due).overdue_period, 1);
  EXPECT_EQ(reports.next_overdue_ms(terms, due - 1), due);
  terms.grace_days = 3;
  EXPECT_FALSE(reports.standing(terms, due).overdue());
  EXPECT_TRUE(reports.standing(terms, due + 3 * kDay).overdue());
  terms.grace_days = 0;
  ASSERT_TRUE(reports.submit(member(terms.org), terms, 1, "x", due).ok());
  EXPECT_TRUE(reports.standing(terms, due + 1).overdue());  // submitted is not accepted
  ASSERT_TRUE(reports.accept(reviewer(), terms.award, 1, due + 2).ok());
  EXPECT_FALSE(reports.standing(terms, due + 2).overdue());
  EXPECT_EQ(reports.standing(terms, due + 2).next_period, 2);
  EXPECT_EQ(reports.next_overdue_ms(terms, due + 2), at("2026-03-31"));
}

TEST_F(ProgressReportsTest, RestoreChecksTheHistory) {
  ASSERT_TRUE(reports.submit(member(terms.org), terms, 1, "x", at("2026-02-01")).ok());
  ProgressReports copy;
  ASSERT_TRUE(copy.restore(reports.all(), reports.events()).ok());
  EXPECT_EQ(copy.all(), reports.all());
  std::vector<ReportEvent> events = reports.events();
  events[0].seq = 2;
  EXPECT_FALSE(copy.restore(reports.all(), events).ok());
  EXPECT_TRUE(copy.all().empty());
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
                                   1u << static_cast<int>(OrgKind::kUniversity), rule, 10'000'0000, kStart);
    EXPECT_TRUE(s.ok());
    auto a = engine->create_award(s->id, project, 1'000'0000, 8, kStart, kStart + 365 * kDay, kStart, 1);
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

  ASSERT_TRUE(engine->submit_report(member(org), award, 1, "a month of training", due + kHour).ok());
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
  EXPECT_EQ(engine->submit_report(member(OrgId(99)), award, 1, "x", due).code(), Code::kPermissionDenied);
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
  auto s = engine->create_scheme("apply", 7000, 1u << static_cast<int>(OrgKind::kUniversity), Shortfall::kWallet,
                                 10'000'0000, kStart);
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
  EXPECT_EQ(engine->approve_application(reviewer(), *app, bad, kStart).status().code(), Code::kInvalidArgument);
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
