// Progress reports (progress.cc): their schedule, who may do what, when one is overdue. What an
// overdue report does to money through the Engine is in paperwork_test.cc.
#include "core/progress.h"

#include <gtest/gtest.h>

#include "common/enum_names_testing.h"
#include "common/timefmt.h"

namespace berth::core {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

int64_t at(const char* text) { return *parse_time_ms(text); }

Actor member(OrgId org, const std::string& user = "mia") {
  return Actor{user, FundingRole::kMember, org};
}
Actor reviewer(const std::string& user = "rita") {
  return Actor{user, FundingRole::kReviewer, OrgId()};
}

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
  EXPECT_EQ(reports.submit(member(OrgId(8)), terms, 1, "done", now).code(),
            Code::kPermissionDenied);
  EXPECT_TRUE(reports.events().empty());
  ASSERT_TRUE(reports.submit(member(terms.org), terms, 1, "trained the model", now).ok());
  EXPECT_EQ(reports.accept(member(terms.org), terms.award, 1, now).code(), Code::kPermissionDenied);
  EXPECT_EQ(reports.return_report(member(terms.org), terms.award, 1, "no", now).code(),
            Code::kPermissionDenied);
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
  EXPECT_EQ(reports.submit(member(terms.org), terms, 12, "x", now).code(),
            Code::kInvalidArgument);  // past the end
  EXPECT_EQ(reports.submit(member(terms.org), terms, 2, "x", now).code(),
            Code::kConflict);  // not begun
  EXPECT_EQ(reports.submit(member(terms.org), terms, 1, "", now).code(), Code::kInvalidArgument);
  EXPECT_EQ(
      reports.submit(member(terms.org), terms, 1, std::string(kMaxReportTextBytes + 1, 'a'), now)
          .code(),
      Code::kInvalidArgument);
  EXPECT_EQ(reports.accept(reviewer(), terms.award, 1, now).code(), Code::kNotFound);
  ReportTerms none = terms;
  none.every_months = 0;
  EXPECT_EQ(reports.submit(member(terms.org), none, 1, "x", now).code(), Code::kConflict);
  EXPECT_TRUE(reports.events().empty());
  EXPECT_TRUE(reports.all().empty());
  ASSERT_TRUE(reports.submit(member(terms.org), terms, 1, "x", now).ok());
  EXPECT_EQ(reports.submit(member(terms.org), terms, 1, "again", now).code(), Code::kConflict);
  EXPECT_EQ(reports.return_report(reviewer(), terms.award, 1, "", now).code(),
            Code::kInvalidArgument);
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

TEST(ReportNames, NameEveryEnumerator) {
  enum_testing::expect_every_enumerator_named(kReportStateNames);
  enum_testing::expect_every_enumerator_named(kReportActionNames);
  ReportAction action = ReportAction::kSubmitted;
  EXPECT_TRUE(parse_report_action("returned", &action));
  EXPECT_EQ(action, ReportAction::kReturned);
  ReportState state = ReportState::kSubmitted;
  EXPECT_FALSE(parse_report_state("Returned", &state));
  EXPECT_EQ(state, ReportState::kSubmitted);
}

}  // namespace
}  // namespace berth::core
