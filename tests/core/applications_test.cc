// Funding applications: the lifecycle, who may do what, approvals against the fund, exact
// weighted scores, the history, and that a refused command changes nothing.
#include "core/applications.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common/enum_names_testing.h"
#include "common/timefmt.h"

namespace berth::core {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'800'000'000'000;  // a fixed virtual "now"
constexpr Minor kUnit = kMinorPerUnit;

const SchemeId kScheme{1};
const SchemeId kOtherScheme{2};
const OrgId kHku{1};
const OrgId kRival{2};
const ProjectId kVision{1};
const ProjectId kSpeech{2};
const ProjectId kRivalProject{3};

Actor member(const std::string& user, OrgId org = kHku) {
  return Actor{user, FundingRole::kMember, org};
}
Actor reviewer(const std::string& user) { return Actor{user, FundingRole::kReviewer, OrgId()}; }

const Actor kAlice = member("alice");
const Actor kBob = member("bob");
const Actor kMallory = member("mallory", kRival);
const Actor kRita = reviewer("rita");
const Actor kRob = reviewer("rob");

const Applicant kHkuApplicant{kHku, OrgKind::kUniversity};
const Applicant kRivalApplicant{kRival, OrgKind::kStartup};

SchemeRules open_rules() {
  SchemeRules r;
  r.eligible_kinds =
      (1u << static_cast<int>(OrgKind::kUniversity)) | (1u << static_cast<int>(OrgKind::kStartup));
  r.window_open_ms = kT0 - kDay;
  r.window_close_ms = kT0 + 30 * kDay;
  return r;
}

ApplicationTerms terms(Minor amount = 1'000'000 * kUnit, int gpus = 8, int days = 90) {
  ApplicationTerms t;
  t.amount_minor = amount;
  t.gpu_level = gpus;
  t.gpu_model = "H100";
  t.duration_days = days;
  t.justification = "Train a Cantonese speech model for public services.";
  t.planned_work = "Months 1-2: data; 3: training; ongoing: evaluation.";
  return t;
}

std::vector<Criterion> three_criteria() {
  return {{"merit", 5000}, {"impact", 3000}, {"feasibility", 2000}};
}

std::vector<CriterionScore> scores(int merit, int impact, int feasibility) {
  return {{"merit", merit}, {"impact", impact}, {"feasibility", feasibility}};
}

// Everything a caller can observe, to compare before and after a refused command.
struct Snapshot {
  std::vector<Application> all;
  std::vector<ApplicationEvent> events;
  std::vector<std::vector<Criterion>> criteria;
  std::vector<ApplicationCounts> counts;
  std::vector<std::vector<ApplicationId>> lists;
  bool operator==(const Snapshot&) const = default;
  const std::vector<ApplicationId>& in_state_approved() const {
    return lists[lists.size() - kApplicationStateCount +
                 static_cast<int>(ApplicationState::kApproved)];
  }
};

Snapshot snapshot(const Applications& apps) {
  Snapshot s;
  s.all = apps.all();
  s.events = apps.events();
  for (SchemeId sc : {kScheme, kOtherScheme}) {
    s.criteria.push_back(apps.criteria(sc));
    s.counts.push_back(apps.counts(sc));
    s.lists.push_back(apps.of_scheme(sc));
  }
  for (ProjectId p : {kVision, kSpeech, kRivalProject}) s.lists.push_back(apps.of_project(p));
  for (int st = 0; st < kApplicationStateCount; ++st)
    s.lists.push_back(apps.in_state(static_cast<ApplicationState>(st)));
  return s;
}

class ApplicationTest : public ::testing::Test {
 protected:
  ApplicationId draft(ProjectId project = kVision, ApplicationTerms t = terms(),
                      int64_t now = kT0) {
    auto id = apps.draft(kAlice, kScheme, project, kHkuApplicant, open_rules(), t, now);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : ApplicationId();
  }
  ApplicationId submitted(ApplicationTerms t = terms()) {
    ApplicationId id = draft(kVision, t);
    EXPECT_TRUE(apps.submit(kAlice, id, kHkuApplicant, open_rules(), kT0 + 1).ok());
    return id;
  }
  ApplicationId reviewed(ApplicationTerms t = terms()) {
    ApplicationId id = submitted(t);
    Status st = apps.review(kRita, id, scores(80, 70, 90), "", kT0 + 2);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return id;
  }
  void set_criteria(SchemeId scheme = kScheme) {
    Status st = apps.set_criteria(kRita, scheme, three_criteria(), kT0 - 2 * kDay);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  ApprovalTerms grant(Minor amount) {
    ApprovalTerms a;
    a.amount_minor = amount;
    return a;
  }

  Applications apps;
};

// Runs `command`, expects it refused with `code`, and that nothing observable changed.
#define EXPECT_REFUSED(code_, command_)                                      \
  do {                                                                       \
    const Snapshot before_ = snapshot(apps);                                 \
    const Status st_ = (command_);                                           \
    EXPECT_EQ(st_.code(), (code_)) << #command_ << " -> " << st_.ToString(); \
    EXPECT_FALSE(st_.message().empty()) << #command_;                        \
    EXPECT_TRUE(snapshot(apps) == before_) << #command_ << " changed state"; \
  } while (0)

// ---- the story ----

TEST_F(ApplicationTest, ApplicationHappyPathFromDraftToAward) {
  set_criteria();
  const ApplicationId id = draft(kVision, terms(2'000'000 * kUnit, 16, 180), kT0);
  ASSERT_EQ(id, ApplicationId(1));
  ASSERT_TRUE(apps.update(kBob, id, open_rules(), terms(1'500'000 * kUnit, 8, 120), kT0 + 10).ok());
  ASSERT_TRUE(apps.submit(kBob, id, kHkuApplicant, open_rules(), kT0 + 20).ok());
  ASSERT_TRUE(apps.review(kRita, id, scores(90, 80, 70), "strong team", kT0 + 30).ok());
  ASSERT_TRUE(apps.review(kRob, id, scores(70, 60, 100), "", kT0 + 40).ok());

  const Minor fund_left = 10'000'000 * kUnit;
  ApprovalTerms grant;
  grant.amount_minor = 1'200'000 * kUnit;
  grant.gpu_level = 4;
  grant.note = "reduced: phase 1 only";
  ASSERT_TRUE(apps.check_approve(kRob, id, grant, fund_left).ok());
  ASSERT_TRUE(apps.approve(kRob, id, grant, fund_left, kT0 + 50).ok());
  ASSERT_TRUE(apps.record_award(id, AwardId(7), kT0 + 50).ok());

  const Application* a = apps.get(id);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->scheme, kScheme);
  EXPECT_EQ(a->project, kVision);
  EXPECT_EQ(a->org, kHku);
  EXPECT_EQ(a->terms, terms(1'500'000 * kUnit, 8, 120));
  EXPECT_EQ(a->state, ApplicationState::kApproved);
  EXPECT_EQ(a->created_by, "alice");
  EXPECT_EQ(a->created_ms, kT0);
  EXPECT_EQ(a->submitted_by, "bob");
  EXPECT_EQ(a->submitted_ms, kT0 + 20);
  EXPECT_EQ(a->decided_by, "rob");
  EXPECT_EQ(a->decided_ms, kT0 + 50);
  ASSERT_EQ(a->reviews.size(), 2u);
  // rita: 90*5000 + 80*3000 + 70*2000 = 830000; rob: 70*5000 + 60*3000 + 100*2000 = 730000.
  EXPECT_EQ(a->reviews[0].weighted_score_e4, 830'000);
  EXPECT_EQ(a->reviews[1].weighted_score_e4, 730'000);
  EXPECT_EQ(a->weighted_score_e4, 780'000);
  EXPECT_EQ(format_score(a->weighted_score_e4), "78.0000");
  EXPECT_EQ(a->approved_minor, 1'200'000 * kUnit);
  EXPECT_EQ(a->approved_gpu_level, 4);
  EXPECT_EQ(a->approved_duration_days, 120);  // 0 in the grant: as asked
  EXPECT_EQ(a->award, AwardId(7));

  const ApplicationCounts c = apps.counts(kScheme);
  EXPECT_EQ(c.of(ApplicationState::kApproved), 1);
  EXPECT_EQ(c.total(), 1);

  std::vector<ApplicationAction> actions;
  for (const ApplicationEvent& e : apps.events()) actions.push_back(e.action);
  EXPECT_EQ(actions, (std::vector<ApplicationAction>{
                         ApplicationAction::kCriteriaSet, ApplicationAction::kDrafted,
                         ApplicationAction::kUpdated, ApplicationAction::kSubmitted,
                         ApplicationAction::kReviewed, ApplicationAction::kReviewed,
                         ApplicationAction::kApproved, ApplicationAction::kAwarded}));
  EXPECT_NE(apps.events()[6].note.find("granted 1200000.0000 of 1500000.0000"), std::string::npos)
      << apps.events()[6].note;
  EXPECT_NE(apps.events()[6].note.find("reduced: phase 1 only"), std::string::npos);
}

TEST_F(ApplicationTest, ApplicationRejectedWithReason) {
  set_criteria();
  const ApplicationId id = submitted();
  EXPECT_REFUSED(Code::kInvalidArgument, apps.reject(kRita, id, "", kT0 + 5));
  ASSERT_TRUE(apps.reject(kRita, id, "outside the scheme's scope", kT0 + 5).ok());
  EXPECT_EQ(apps.get(id)->state, ApplicationState::kRejected);
  EXPECT_EQ(apps.get(id)->rejection_reason, "outside the scheme's scope");
  EXPECT_EQ(apps.events().back().note, "outside the scheme's scope");
  EXPECT_REFUSED(Code::kConflict, apps.approve(kRob, id, grant(1), 1'000'000 * kUnit, kT0 + 6));
}

// ---- roles ----

TEST_F(ApplicationTest, ApplicationRolesMemberCannotReviewOrDecide) {
  set_criteria();
  const ApplicationId id = reviewed();
  EXPECT_REFUSED(Code::kPermissionDenied,
                 apps.approve(kBob, id, grant(kUnit), 1'000'000 * kUnit, kT0 + 9));
  EXPECT_REFUSED(Code::kPermissionDenied,
                 apps.check_approve(kBob, id, grant(kUnit), 1'000'000 * kUnit));
  EXPECT_REFUSED(Code::kPermissionDenied, apps.reject(kBob, id, "no", kT0 + 9));
  EXPECT_REFUSED(Code::kPermissionDenied,
                 apps.review(kBob, id, scores(100, 100, 100), "", kT0 + 9));
  EXPECT_REFUSED(Code::kPermissionDenied,
                 apps.set_criteria(kBob, kScheme, three_criteria(), kT0 + 9));
}

TEST_F(ApplicationTest, ApplicationRolesReviewerCannotActForAnOrganisation) {
  set_criteria();
  const ApplicationId d = draft();
  const ApplicationId s = submitted();
  EXPECT_REFUSED(
      Code::kPermissionDenied,
      apps.draft(kRita, kScheme, kVision, kHkuApplicant, open_rules(), terms(), kT0).status());
  EXPECT_REFUSED(Code::kPermissionDenied, apps.update(kRita, d, open_rules(), terms(kUnit), kT0));
  EXPECT_REFUSED(Code::kPermissionDenied, apps.submit(kRita, d, kHkuApplicant, open_rules(), kT0));
  EXPECT_REFUSED(Code::kPermissionDenied, apps.withdraw(kRita, s, "", kT0));
}

// The centre's administrator reviews as a reviewer does, but a refusal names them as what they
// are: "admin is a reviewer" would send them looking for the wrong token.
TEST_F(ApplicationTest, ApplicationRolesAdministratorIsNamedAsSuchWhenRefused) {
  Actor admin = reviewer("admin");
  admin.admin = true;
  const ApplicationId d = draft();
  const std::string expected =
      "only a member of the applying organisation may submit application " +
      std::to_string(d.value) +
      "; admin is the centre's administrator, not a member of an organisation";
  EXPECT_REFUSED(Code::kPermissionDenied, apps.submit(admin, d, kHkuApplicant, open_rules(), kT0));
  EXPECT_EQ(apps.submit(admin, d, kHkuApplicant, open_rules(), kT0).message(), expected);
  EXPECT_EQ(apps.submit(kRita, d, kHkuApplicant, open_rules(), kT0).message(),
            "only a member of the applying organisation may submit application " +
                std::to_string(d.value) + "; rita is a reviewer");
}

TEST_F(ApplicationTest, ApplicationRolesOtherOrganisationCannotTouchIt) {
  set_criteria();
  const ApplicationId d = draft();
  const ApplicationId s = submitted();
  // Applying for another organisation's project.
  EXPECT_REFUSED(
      Code::kPermissionDenied,
      apps.draft(kMallory, kScheme, kVision, kHkuApplicant, open_rules(), terms(), kT0).status());
  EXPECT_REFUSED(Code::kPermissionDenied,
                 apps.update(kMallory, d, open_rules(), terms(kUnit), kT0));
  EXPECT_REFUSED(Code::kPermissionDenied,
                 apps.submit(kMallory, d, kHkuApplicant, open_rules(), kT0));
  EXPECT_REFUSED(Code::kPermissionDenied, apps.withdraw(kMallory, d, "", kT0));
  EXPECT_REFUSED(Code::kPermissionDenied, apps.withdraw(kMallory, s, "", kT0));
  const Status st = apps.withdraw(kMallory, s, "", kT0);
  EXPECT_NE(st.message().find("belongs to organisation 1"), std::string::npos) << st.ToString();
  // Its own project is fine.
  EXPECT_TRUE(
      apps.draft(kMallory, kScheme, kRivalProject, kRivalApplicant, open_rules(), terms(), kT0)
          .ok());
}

TEST_F(ApplicationTest, ApplicationRolesNobodyJudgesTheirOwnApplication) {
  set_criteria();
  const ApplicationId id = reviewed();
  // A reviewer token for the user who drafted it (alice) may not score or decide it.
  const Actor alice_reviewer = reviewer("alice");
  EXPECT_REFUSED(Code::kPermissionDenied,
                 apps.review(alice_reviewer, id, scores(100, 100, 100), "", kT0 + 9));
  EXPECT_REFUSED(Code::kPermissionDenied,
                 apps.approve(alice_reviewer, id, grant(kUnit), 1'000'000 * kUnit, kT0 + 9));
  EXPECT_REFUSED(Code::kPermissionDenied, apps.reject(alice_reviewer, id, "no", kT0 + 9));
}

TEST_F(ApplicationTest, ApplicationRolesActorMustBeNamed) {
  set_criteria();
  const ApplicationId id = reviewed();
  EXPECT_REFUSED(Code::kInvalidArgument,
                 apps.approve(reviewer(""), id, grant(kUnit), 1'000'000 * kUnit, kT0 + 9));
  EXPECT_REFUSED(
      Code::kInvalidArgument,
      apps.draft(member(""), kScheme, kVision, kHkuApplicant, open_rules(), terms(), kT0).status());
}

// ---- approval against what was asked and what the fund has ----

TEST_F(ApplicationTest, ApplicationApproveNoMoreThanRequested) {
  set_criteria();
  const ApplicationId id = reviewed(terms(100 * kUnit, 8, 90));
  const Minor fund = 1'000'000 * kUnit;
  EXPECT_REFUSED(Code::kInvalidArgument,
                 apps.approve(kRob, id, grant(100 * kUnit + 1), fund, kT0 + 9));
  EXPECT_REFUSED(Code::kInvalidArgument, apps.approve(kRob, id, grant(0), fund, kT0 + 9));
  EXPECT_REFUSED(Code::kInvalidArgument, apps.approve(kRob, id, grant(-5), fund, kT0 + 9));
  ApprovalTerms more_gpus = grant(kUnit);
  more_gpus.gpu_level = 9;
  EXPECT_REFUSED(Code::kInvalidArgument, apps.approve(kRob, id, more_gpus, fund, kT0 + 9));
  ApprovalTerms longer = grant(kUnit);
  longer.duration_days = 91;
  EXPECT_REFUSED(Code::kInvalidArgument, apps.approve(kRob, id, longer, fund, kT0 + 9));
  const Status st = apps.approve(kRob, id, grant(100 * kUnit + 1), fund, kT0 + 9);
  EXPECT_NE(st.message().find("exceeds the 100.0000 requested"), std::string::npos)
      << st.ToString();
  EXPECT_TRUE(apps.approve(kRob, id, grant(100 * kUnit), fund, kT0 + 9).ok());  // exactly as asked
}

TEST_F(ApplicationTest, ApplicationApproveNoMoreThanTheFundHasLeft) {
  set_criteria();
  const ApplicationId id = reviewed(terms(100 * kUnit));
  EXPECT_REFUSED(Code::kInsufficientFunds,
                 apps.approve(kRob, id, grant(100 * kUnit), 100 * kUnit - 1, kT0 + 9));
  EXPECT_REFUSED(Code::kInsufficientFunds, apps.check_approve(kRob, id, grant(100 * kUnit), 0));
  EXPECT_REFUSED(Code::kInsufficientFunds, apps.approve(kRob, id, grant(1), -3, kT0 + 9));
  const Status st = apps.approve(kRob, id, grant(100 * kUnit), 60 * kUnit, kT0 + 9);
  EXPECT_NE(st.message().find("has 60.0000 left"), std::string::npos) << st.ToString();
  // Less than asked, and what is left is exactly enough.
  EXPECT_TRUE(apps.approve(kRob, id, grant(60 * kUnit), 60 * kUnit, kT0 + 9).ok());
  EXPECT_EQ(apps.get(id)->approved_minor, 60 * kUnit);
}

TEST_F(ApplicationTest, ApplicationApproveTwiceIsAConflict) {
  set_criteria();
  const ApplicationId id = submitted();
  ASSERT_TRUE(apps.review(kRita, id, scores(50, 50, 50), "", kT0 + 2).ok());
  ASSERT_TRUE(apps.review(kRob, id, scores(60, 60, 60), "", kT0 + 3).ok());
  ASSERT_TRUE(apps.approve(kRita, id, grant(10 * kUnit), 1'000'000 * kUnit, kT0 + 4).ok());
  // The second reviewer's approval arrives after the first: refused, naming who decided.
  EXPECT_REFUSED(Code::kConflict,
                 apps.approve(kRob, id, grant(20 * kUnit), 1'000'000 * kUnit, kT0 + 4));
  EXPECT_REFUSED(Code::kConflict,
                 apps.approve(kRita, id, grant(10 * kUnit), 1'000'000 * kUnit, kT0 + 5));
  EXPECT_REFUSED(Code::kConflict, apps.reject(kRob, id, "too late", kT0 + 5));
  EXPECT_REFUSED(Code::kConflict, apps.review(kRob, id, scores(1, 1, 1), "", kT0 + 5));
  const Status st = apps.approve(kRob, id, grant(20 * kUnit), 1'000'000 * kUnit, kT0 + 4);
  EXPECT_NE(st.message().find("is approved (by rita at " + format_time_ms(kT0 + 4) + ")"),
            std::string::npos)
      << st.ToString();
  EXPECT_EQ(apps.get(id)->approved_minor, 10 * kUnit);
}

TEST_F(ApplicationTest, ApplicationApproveNeedsAReviewAndASubmission) {
  set_criteria();
  const ApplicationId d = draft();
  EXPECT_REFUSED(Code::kConflict, apps.approve(kRob, d, grant(kUnit), 1'000'000 * kUnit, kT0 + 9));
  const ApplicationId s = submitted();
  EXPECT_REFUSED(Code::kConflict, apps.approve(kRob, s, grant(kUnit), 1'000'000 * kUnit, kT0 + 9));
  EXPECT_REFUSED(Code::kNotFound,
                 apps.approve(kRob, ApplicationId(99), grant(kUnit), 1'000'000 * kUnit, kT0 + 9));
  EXPECT_REFUSED(Code::kNotFound,
                 apps.approve(kRob, ApplicationId(), grant(kUnit), 1'000'000 * kUnit, kT0 + 9));
}

TEST_F(ApplicationTest, ApplicationRecordAwardOnceAfterApproval) {
  set_criteria();
  const ApplicationId id = reviewed();
  EXPECT_REFUSED(Code::kConflict, apps.record_award(id, AwardId(1), kT0 + 9));  // not approved yet
  ASSERT_TRUE(apps.approve(kRob, id, grant(kUnit), 1'000'000 * kUnit, kT0 + 9).ok());
  EXPECT_REFUSED(Code::kInvalidArgument, apps.record_award(id, AwardId(), kT0 + 9));
  EXPECT_REFUSED(Code::kNotFound, apps.record_award(ApplicationId(42), AwardId(1), kT0 + 9));
  ASSERT_TRUE(apps.record_award(id, AwardId(3), kT0 + 10).ok());
  const size_t events = apps.events().size();
  EXPECT_TRUE(apps.record_award(id, AwardId(3), kT0 + 11).ok());  // a replay: nothing new
  EXPECT_EQ(apps.events().size(), events);
  EXPECT_REFUSED(Code::kConflict, apps.record_award(id, AwardId(4), kT0 + 11));
  EXPECT_EQ(apps.events().back().user, "berth");
  EXPECT_EQ(apps.events().back().action, ApplicationAction::kAwarded);
}

// ---- withdrawal ----

TEST_F(ApplicationTest, ApplicationWithdrawBeforeDecisionOnly) {
  set_criteria();
  const ApplicationId d = draft();
  const ApplicationId s = submitted();
  const ApplicationId approved = reviewed();
  const ApplicationId rejected = submitted();
  ASSERT_TRUE(apps.approve(kRob, approved, grant(kUnit), 1'000'000 * kUnit, kT0 + 5).ok());
  ASSERT_TRUE(apps.reject(kRob, rejected, "duplicate", kT0 + 5).ok());

  ASSERT_TRUE(apps.withdraw(kBob, d, "", kT0 + 6).ok());
  ASSERT_TRUE(apps.withdraw(kAlice, s, "found other funding", kT0 + 6).ok());
  EXPECT_EQ(apps.get(s)->state, ApplicationState::kWithdrawn);
  EXPECT_EQ(apps.get(s)->decided_by, "alice");
  EXPECT_EQ(apps.get(s)->withdrawal_note, "found other funding");
  EXPECT_EQ(apps.events().back().note, "withdrawn while submitted: found other funding");

  EXPECT_REFUSED(Code::kConflict, apps.withdraw(kAlice, approved, "", kT0 + 7));
  EXPECT_REFUSED(Code::kConflict, apps.withdraw(kAlice, rejected, "", kT0 + 7));
  EXPECT_REFUSED(Code::kConflict, apps.withdraw(kAlice, d, "", kT0 + 7));
  EXPECT_REFUSED(Code::kConflict, apps.update(kAlice, d, open_rules(), terms(kUnit), kT0 + 7));
  EXPECT_REFUSED(Code::kConflict, apps.submit(kAlice, d, kHkuApplicant, open_rules(), kT0 + 7));
  EXPECT_REFUSED(Code::kConflict, apps.review(kRob, s, scores(1, 1, 1), "", kT0 + 7));
}

TEST_F(ApplicationTest, ApplicationSubmittedCannotBeEdited) {
  set_criteria();
  const ApplicationId s = submitted();
  EXPECT_REFUSED(Code::kConflict, apps.update(kAlice, s, open_rules(), terms(kUnit), kT0 + 7));
  EXPECT_REFUSED(Code::kConflict, apps.submit(kAlice, s, kHkuApplicant, open_rules(), kT0 + 7));
}

// ---- window, eligibility, cap ----

TEST_F(ApplicationTest, ApplicationWindowAndEligibility) {
  SchemeRules rules = open_rules();
  rules.window_open_ms = kT0 + kDay;  // opens tomorrow: a draft may be prepared, not submitted
  auto id = apps.draft(kAlice, kScheme, kVision, kHkuApplicant, rules, terms(), kT0);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_REFUSED(Code::kConflict, apps.submit(kAlice, *id, kHkuApplicant, rules, kT0));
  EXPECT_TRUE(apps.submit(kAlice, *id, kHkuApplicant, rules, kT0 + kDay).ok());

  SchemeRules closed = open_rules();
  closed.window_close_ms = kT0;
  EXPECT_REFUSED(
      Code::kConflict,
      apps.draft(kAlice, kScheme, kVision, kHkuApplicant, closed, terms(), kT0).status());
  const ApplicationId late = draft(kSpeech);
  EXPECT_REFUSED(Code::kConflict, apps.submit(kAlice, late, kHkuApplicant, closed, kT0 + 1));
  const Status st = apps.submit(kAlice, late, kHkuApplicant, closed, kT0 + 1);
  EXPECT_NE(st.message().find("window closed"), std::string::npos) << st.ToString();
  // Times in messages are dates, not milliseconds since the epoch.
  EXPECT_NE(st.message().find("closed at " + format_time_ms(kT0)), std::string::npos)
      << st.ToString();
  EXPECT_EQ(st.message().find(" ms"), std::string::npos) << st.ToString();

  SchemeRules startups_only = open_rules();
  startups_only.eligible_kinds = 1u << static_cast<int>(OrgKind::kStartup);
  EXPECT_REFUSED(
      Code::kPermissionDenied,
      apps.draft(kAlice, kScheme, kVision, kHkuApplicant, startups_only, terms(), kT0).status());
  EXPECT_REFUSED(Code::kPermissionDenied,
                 apps.submit(kAlice, late, kHkuApplicant, startups_only, kT0 + 1));
  const Status el = apps.submit(kAlice, late, kHkuApplicant, startups_only, kT0 + 1);
  EXPECT_NE(el.message().find("(university) is not eligible"), std::string::npos) << el.ToString();

  SchemeRules backwards = open_rules();
  backwards.window_close_ms = backwards.window_open_ms;
  EXPECT_REFUSED(
      Code::kInvalidArgument,
      apps.draft(kAlice, kScheme, kVision, kHkuApplicant, backwards, terms(), kT0).status());
  // The applicant passed at submit must be the application's organisation.
  EXPECT_REFUSED(Code::kInvalidArgument,
                 apps.submit(kAlice, late, kRivalApplicant, open_rules(), kT0 + 1));
}

TEST_F(ApplicationTest, ApplicationCapPerProject) {
  SchemeRules capped = open_rules();
  capped.cap_per_project_minor = 500 * kUnit;
  EXPECT_REFUSED(Code::kInvalidArgument, apps.draft(kAlice, kScheme, kVision, kHkuApplicant, capped,
                                                    terms(500 * kUnit + 1), kT0)
                                             .status());
  const ApplicationId id = draft(kVision, terms(800 * kUnit));  // drafted before the cap was set
  EXPECT_REFUSED(Code::kInvalidArgument, apps.submit(kAlice, id, kHkuApplicant, capped, kT0 + 1));
  ASSERT_TRUE(apps.update(kAlice, id, capped, terms(500 * kUnit), kT0 + 2).ok());
  EXPECT_TRUE(apps.submit(kAlice, id, kHkuApplicant, capped, kT0 + 3).ok());
}

// ---- field validation ----

TEST_F(ApplicationTest, ApplicationTermsAreValidated) {
  auto refused = [&](ApplicationTerms t, const std::string& names) {
    const Snapshot before = snapshot(apps);
    auto r = apps.draft(kAlice, kScheme, kVision, kHkuApplicant, open_rules(), t, kT0);
    ASSERT_FALSE(r.ok()) << names;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << names;
    EXPECT_NE(r.status().message().find(names), std::string::npos) << r.status().ToString();
    EXPECT_TRUE(snapshot(apps) == before);
  };
  ApplicationTerms t = terms();
  t.amount_minor = 0;
  refused(t, "requested amount");
  t.amount_minor = -1;
  refused(t, "requested amount");
  t = terms();
  t.gpu_level = 0;
  refused(t, "GPU level");
  t.gpu_level = kMaxGpuLevel + 1;
  refused(t, "GPU level");
  t = terms();
  t.duration_days = 0;
  refused(t, "duration");
  t.duration_days = 3651;
  refused(t, "duration");
  t = terms();
  t.justification = "";
  refused(t, "justification");
  t.justification = std::string(kMaxJustificationBytes + 1, 'x');
  refused(t, "justification");
  t.justification = "bell\x07";
  refused(t, "justification");
  t = terms();
  t.planned_work = std::string(kMaxPlannedWorkBytes + 1, 'x');
  refused(t, "planned work");
  t = terms();
  t.gpu_model = "H 100";
  refused(t, "GPU model");
  t.gpu_model = std::string(kMaxGpuModelBytes + 1, 'A');
  refused(t, "GPU model");

  // The edges that are allowed.
  t = terms(1, 1, 3650);
  t.gpu_model = "";
  t.planned_work = "";
  t.justification = std::string(kMaxJustificationBytes, 'x');
  EXPECT_TRUE(apps.draft(kAlice, kScheme, kVision, kHkuApplicant, open_rules(), t, kT0).ok());
  t.justification = "line one\nline two\ttabbed";
  EXPECT_TRUE(apps.draft(kAlice, kScheme, kVision, kHkuApplicant, open_rules(), t, kT0).ok());

  EXPECT_REFUSED(
      Code::kInvalidArgument,
      apps.draft(kAlice, SchemeId(), kVision, kHkuApplicant, open_rules(), terms(), kT0).status());
  EXPECT_REFUSED(
      Code::kInvalidArgument,
      apps.draft(kAlice, kScheme, ProjectId(), kHkuApplicant, open_rules(), terms(), kT0).status());
}

TEST_F(ApplicationTest, ApplicationOpenApplicationsPerProjectAreBounded) {
  for (int i = 0; i < kMaxOpenApplicationsPerProject; ++i) draft();
  EXPECT_REFUSED(
      Code::kConflict,
      apps.draft(kAlice, kScheme, kVision, kHkuApplicant, open_rules(), terms(), kT0).status());
  EXPECT_TRUE(apps.draft(kAlice, kScheme, kSpeech, kHkuApplicant, open_rules(), terms(), kT0).ok());
  ASSERT_TRUE(apps.withdraw(kAlice, ApplicationId(1), "", kT0).ok());
  EXPECT_TRUE(apps.draft(kAlice, kScheme, kVision, kHkuApplicant, open_rules(), terms(), kT0).ok());
}

TEST_F(ApplicationTest, ApplicationStepsPerApplicationAreBounded) {
  const ApplicationId id = draft();
  for (int i = 1; i < kMaxEventsPerApplication; ++i)
    ASSERT_TRUE(apps.update(kAlice, id, open_rules(), terms(kUnit + i), kT0 + i).ok()) << i;
  EXPECT_REFUSED(Code::kConflict, apps.update(kAlice, id, open_rules(), terms(kUnit), kT0 + 999));
  // A decision is never blocked by the bound.
  EXPECT_TRUE(apps.withdraw(kAlice, id, "", kT0 + 999).ok());
}

// ---- criteria and scores ----

TEST_F(ApplicationTest, ApplicationCriteriaAreValidated) {
  EXPECT_REFUSED(Code::kInvalidArgument, apps.set_criteria(kRita, kScheme, {}, kT0));
  EXPECT_REFUSED(Code::kInvalidArgument,
                 apps.set_criteria(kRita, kScheme, {{"merit", 5000}, {"impact", 4999}}, kT0));
  EXPECT_REFUSED(Code::kInvalidArgument,
                 apps.set_criteria(kRita, kScheme, {{"merit", 10001}, {"impact", -1}}, kT0));
  EXPECT_REFUSED(Code::kInvalidArgument,
                 apps.set_criteria(kRita, kScheme, {{"merit", 10000}, {"impact", 0}}, kT0));
  EXPECT_REFUSED(Code::kInvalidArgument,
                 apps.set_criteria(kRita, kScheme, {{"merit", 5000}, {"merit", 5000}}, kT0));
  EXPECT_REFUSED(Code::kInvalidArgument, apps.set_criteria(kRita, kScheme, {{"", 10000}}, kT0));
  EXPECT_REFUSED(Code::kInvalidArgument,
                 apps.set_criteria(kRita, SchemeId(), three_criteria(), kT0));
  std::vector<Criterion> many;
  for (int i = 0; i <= kMaxCriteria; ++i)
    many.push_back({"c" + std::to_string(i), i == 0 ? 10000 - kMaxCriteria : 1});
  EXPECT_REFUSED(Code::kInvalidArgument, apps.set_criteria(kRita, kScheme, many, kT0));
  many.pop_back();
  many[0].weight_bps += 1;
  EXPECT_TRUE(apps.set_criteria(kRita, kScheme, many, kT0).ok());
  EXPECT_EQ(apps.criteria(kScheme).size(), static_cast<size_t>(kMaxCriteria));
  EXPECT_TRUE(apps.criteria(kOtherScheme).empty());
}

TEST_F(ApplicationTest, ApplicationCriteriaFixedOnceReviewed) {
  const ApplicationId id = submitted();
  EXPECT_REFUSED(Code::kConflict,
                 apps.review(kRita, id, scores(1, 2, 3), "", kT0 + 2));  // no criteria yet
  set_criteria();
  ASSERT_TRUE(apps.set_criteria(kRob, kScheme, {{"merit", 10000}}, kT0)
                  .ok());  // not reviewed yet: may change
  ASSERT_TRUE(apps.set_criteria(kRob, kScheme, three_criteria(), kT0).ok());
  ASSERT_TRUE(apps.review(kRita, id, scores(1, 2, 3), "", kT0 + 2).ok());
  EXPECT_REFUSED(Code::kConflict, apps.set_criteria(kRob, kScheme, {{"merit", 10000}}, kT0 + 3));
  EXPECT_TRUE(
      apps.set_criteria(kRob, kOtherScheme, {{"merit", 10000}}, kT0 + 3).ok());  // another scheme
}

TEST_F(ApplicationTest, ApplicationScoresAreValidated) {
  set_criteria();
  const ApplicationId id = submitted();
  EXPECT_REFUSED(Code::kInvalidArgument,
                 apps.review(kRita, id, {{"merit", 1}, {"impact", 2}}, "", kT0 + 2));
  EXPECT_REFUSED(
      Code::kInvalidArgument,
      apps.review(kRita, id, {{"merit", 1}, {"impact", 2}, {"feasibility", 3}, {"charm", 4}}, "",
                  kT0 + 2));
  EXPECT_REFUSED(
      Code::kInvalidArgument,
      apps.review(kRita, id, {{"merit", 1}, {"merit", 2}, {"feasibility", 3}}, "", kT0 + 2));
  EXPECT_REFUSED(Code::kInvalidArgument, apps.review(kRita, id, scores(101, 2, 3), "", kT0 + 2));
  EXPECT_REFUSED(Code::kInvalidArgument, apps.review(kRita, id, scores(1, -1, 3), "", kT0 + 2));
  EXPECT_REFUSED(
      Code::kInvalidArgument,
      apps.review(kRita, id, scores(1, 2, 3), std::string(kMaxReasonBytes + 1, 'x'), kT0 + 2));
  const Status st = apps.review(kRita, id, {{"merit", 1}, {"impact", 2}}, "", kT0 + 2);
  EXPECT_NE(st.message().find("'feasibility' is not scored"), std::string::npos) << st.ToString();
  // Any order is fine; scores are kept in the criteria's order.
  ASSERT_TRUE(
      apps.review(kRita, id, {{"feasibility", 3}, {"merit", 1}, {"impact", 2}}, "", kT0 + 2).ok());
  EXPECT_EQ(apps.get(id)->reviews[0].scores, (std::vector<int>{1, 2, 3}));
}

TEST_F(ApplicationTest, ApplicationWeightedScoreIsExactIntegerArithmetic) {
  ASSERT_TRUE(apps.set_criteria(kRita, kScheme, {{"a", 3333}, {"b", 3333}, {"c", 3334}}, kT0).ok());
  const ApplicationId id = submitted();
  // 100*3333 + 0*3333 + 51*3334 = 333300 + 170034 = 503334: 50.3334 points, no rounding.
  ASSERT_TRUE(apps.review(kRita, id, {{"a", 100}, {"b", 0}, {"c", 51}}, "", kT0 + 2).ok());
  EXPECT_EQ(apps.get(id)->weighted_score_e4, 503'334);
  EXPECT_EQ(format_score(apps.get(id)->weighted_score_e4), "50.3334");
  // A second reviewer: 1*3333 = 3333; mean (503334 + 3333) / 2 = 253333.5, floored.
  ASSERT_TRUE(apps.review(kRob, id, {{"a", 1}, {"b", 0}, {"c", 0}}, "", kT0 + 3).ok());
  EXPECT_EQ(apps.get(id)->reviews[1].weighted_score_e4, 3'333);
  EXPECT_EQ(apps.get(id)->weighted_score_e4, 253'333);
  // Rita revises: her review is replaced, not added; the history keeps both.
  ASSERT_TRUE(
      apps.review(kRita, id, {{"a", 100}, {"b", 100}, {"c", 100}}, "on reflection", kT0 + 4).ok());
  ASSERT_EQ(apps.get(id)->reviews.size(), 2u);
  EXPECT_EQ(apps.get(id)->reviews[0].reviewer, "rita");
  EXPECT_EQ(apps.get(id)->reviews[0].weighted_score_e4, 1'000'000);
  EXPECT_EQ(apps.get(id)->weighted_score_e4, (1'000'000 + 3'333) / 2);
  EXPECT_EQ(apps.events().back().note,
            "revised: weighted score 100.0000 (a 100, b 100, c 100): on reflection");
  EXPECT_EQ(format_score(0), "0.0000");
  EXPECT_EQ(format_score(1'000'000), "100.0000");
  EXPECT_EQ(format_score(5), "0.0005");
}

// ---- history ----

TEST_F(ApplicationTest, ApplicationEventsAreRecordedInOrderWithWhoAndWhen) {
  set_criteria();
  const ApplicationId a = draft(kVision, terms(), kT0 + 100);
  const ApplicationId b = draft(kSpeech, terms(), kT0 + 200);
  ASSERT_TRUE(apps.submit(kBob, a, kHkuApplicant, open_rules(), kT0 + 300).ok());
  const size_t mark = apps.events().size();
  ASSERT_TRUE(apps.review(kRob, a, scores(10, 20, 30), "thin", kT0 + 400).ok());
  ASSERT_TRUE(apps.withdraw(kAlice, b, "merged into vision", kT0 + 500).ok());
  ASSERT_TRUE(apps.reject(kRita, a, "insufficient detail", kT0 + 600).ok());

  struct Want {
    ApplicationId app;
    int64_t at;
    const char* user;
    ApplicationAction action;
  };
  const std::vector<Want> want = {
      {ApplicationId(), kT0 - 2 * kDay, "rita", ApplicationAction::kCriteriaSet},
      {a, kT0 + 100, "alice", ApplicationAction::kDrafted},
      {b, kT0 + 200, "alice", ApplicationAction::kDrafted},
      {a, kT0 + 300, "bob", ApplicationAction::kSubmitted},
      {a, kT0 + 400, "rob", ApplicationAction::kReviewed},
      {b, kT0 + 500, "alice", ApplicationAction::kWithdrawn},
      {a, kT0 + 600, "rita", ApplicationAction::kRejected},
  };
  const auto& events = apps.events();
  ASSERT_EQ(events.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i].seq, i + 1);
    EXPECT_EQ(events[i].application, want[i].app);
    EXPECT_EQ(events[i].scheme, kScheme);
    EXPECT_EQ(events[i].at_ms, want[i].at);
    EXPECT_EQ(events[i].user, want[i].user);
    EXPECT_EQ(events[i].action, want[i].action);
  }
  EXPECT_EQ(events[0].note, "merit 5000 bps, impact 3000 bps, feasibility 2000 bps");
  EXPECT_EQ(events[1].note, "asks 1000000.0000 for 8 GPUs (H100) over 90 days");
  EXPECT_EQ(events[4].note, "weighted score 17.0000 (merit 10, impact 20, feasibility 30): thin");
  EXPECT_EQ(std::string(application_action_name(events[6].action)), "rejected");

  // Drain-style access for persistence.
  const auto since = apps.events_since(mark);
  ASSERT_EQ(since.size(), 3u);
  EXPECT_EQ(since[0], events[mark]);
  EXPECT_TRUE(apps.events_since(events.size()).empty());
  EXPECT_TRUE(apps.events_since(events.size() + 10).empty());
  EXPECT_EQ(apps.events_since(0), events);
  EXPECT_EQ(apps.changed_since(mark), (std::vector<ApplicationId>{a, b}));
  EXPECT_EQ(apps.changed_since(events.size() - 1), (std::vector<ApplicationId>{a}));
  EXPECT_TRUE(apps.changed_since(events.size()).empty());
}

// ---- queries ----

TEST_F(ApplicationTest, ApplicationQueriesByProjectSchemeAndState) {
  set_criteria();
  const ApplicationId a = draft(kVision);
  const ApplicationId b = submitted();  // kVision
  auto c = apps.draft(kAlice, kOtherScheme, kSpeech, kHkuApplicant, open_rules(), terms(), kT0);
  ASSERT_TRUE(c.ok());
  auto d =
      apps.draft(kMallory, kScheme, kRivalProject, kRivalApplicant, open_rules(), terms(), kT0);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(apps.withdraw(kMallory, *d, "", kT0 + 1).ok());

  EXPECT_EQ(apps.of_project(kVision), (std::vector<ApplicationId>{a, b}));
  EXPECT_EQ(apps.of_project(kSpeech), (std::vector<ApplicationId>{*c}));
  EXPECT_TRUE(apps.of_project(ProjectId(77)).empty());
  EXPECT_EQ(apps.of_scheme(kScheme), (std::vector<ApplicationId>{a, b, *d}));
  EXPECT_EQ(apps.of_scheme(kOtherScheme), (std::vector<ApplicationId>{*c}));
  EXPECT_EQ(apps.in_state(ApplicationState::kDraft), (std::vector<ApplicationId>{a, *c}));
  EXPECT_EQ(apps.in_state(ApplicationState::kSubmitted), (std::vector<ApplicationId>{b}));
  EXPECT_EQ(apps.in_state(ApplicationState::kWithdrawn), (std::vector<ApplicationId>{*d}));
  EXPECT_TRUE(apps.in_state(ApplicationState::kApproved).empty());

  const ApplicationCounts s1 = apps.counts(kScheme);
  EXPECT_EQ(s1.of(ApplicationState::kDraft), 1);
  EXPECT_EQ(s1.of(ApplicationState::kSubmitted), 1);
  EXPECT_EQ(s1.of(ApplicationState::kWithdrawn), 1);
  EXPECT_EQ(s1.total(), 3);
  EXPECT_EQ(apps.counts(kOtherScheme).total(), 1);
  EXPECT_EQ(apps.counts(SchemeId(9)).total(), 0);
  EXPECT_EQ(apps.get(ApplicationId(99)), nullptr);
  EXPECT_EQ(apps.get(ApplicationId()), nullptr);
}

TEST(ApplicationNames, StatesRoundTrip) {
  for (int i = 0; i < kApplicationStateCount; ++i) {
    const auto s = static_cast<ApplicationState>(i);
    ApplicationState back = ApplicationState::kDraft;
    ASSERT_TRUE(parse_application_state(application_state_name(s), &back));
    EXPECT_EQ(back, s);
  }
  ApplicationState out;
  EXPECT_FALSE(parse_application_state("under_review", &out));
  EXPECT_STREQ(funding_role_name(FundingRole::kReviewer), "reviewer");
}

// ---- determinism and the fund, under many mixed commands ----

// A tiny deterministic generator (the core draws no randomness of its own; tests choose theirs).
struct Lcg {
  uint64_t s;
  uint32_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(s >> 33);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint32_t>(n)); }
};

ApprovalTerms grant_of(Minor amount) {
  ApprovalTerms a;
  a.amount_minor = amount;
  return a;
}

struct RunResult {
  Snapshot snap;
  std::vector<Code> codes;
  Minor fund_left = 0;
};

// Drives mixed commands (many of them refused) by every kind of actor; checks after each that a
// refusal changed nothing and that approvals never exceed the fund.
RunResult drive(uint64_t seed, int steps) {
  Applications apps;
  Lcg rng{seed};
  RunResult out;
  const Minor fund = 1'500 * kUnit;
  out.fund_left = fund;
  const Actor actors[] = {kAlice, kBob, kMallory, kRita, kRob, reviewer("alice")};
  const ProjectId projects[] = {kVision, kSpeech, kRivalProject};
  const Applicant applicants[] = {kHkuApplicant, kHkuApplicant, kRivalApplicant};
  EXPECT_TRUE(apps.set_criteria(kRita, kScheme, three_criteria(), kT0).ok());
  for (int i = 0; i < steps; ++i) {
    const int64_t now = kT0 + i * 1000;
    // draft 2, update 1, submit 2, review 2, approve 2, reject 1, withdraw 1, record_award 1.
    static constexpr int kCommands[12] = {0, 0, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7};
    const int command = kCommands[rng.below(12)];
    // Mostly the role that may run the command, sometimes anyone (to be refused).
    const bool by_reviewer = command >= 3 && command <= 5;
    const Actor& who = rng.below(4) == 0 ? actors[rng.below(6)]
                       : by_reviewer     ? actors[3 + rng.below(2)]
                                         : actors[rng.below(2)];
    const int n = static_cast<int>(apps.all().size());
    // Mostly a recent application, sometimes one that does not exist.
    const ApplicationId id(static_cast<uint64_t>(
        rng.below(10) == 0 || n == 0 ? n + rng.below(2) : n - rng.below(std::min(n, 6))));
    const Snapshot before = snapshot(apps);
    Status st;
    switch (command) {
      case 0: {
        const int p = rng.below(4) == 0 ? rng.below(3) : who.org == kRival ? 2 : rng.below(2);
        st = apps.draft(who, kScheme, projects[p], applicants[p], open_rules(),
                        terms((rng.below(1000) + 1) * kUnit, rng.below(9), 30), now)
                 .status();
        break;
      }
      case 1:
        st = apps.update(who, id, open_rules(), terms((rng.below(1000) - 10) * kUnit), now);
        break;
      case 2:
        st =
            apps.submit(who, id, rng.below(8) ? kHkuApplicant : kRivalApplicant, open_rules(), now);
        break;
      case 3:
        st = apps.review(who, id, scores(rng.below(102), rng.below(101), rng.below(101)), "", now);
        break;
      case 4: {
        const Minor amount = (rng.below(1200) + 1) * kUnit;
        st = apps.approve(who, id, grant_of(amount), out.fund_left, now);
        if (st.ok()) {
          out.fund_left -= amount;  // what the Engine would move to the award
          EXPECT_TRUE(apps.record_award(id, AwardId(id.value), now).ok());
        }
        break;
      }
      case 5:
        st = apps.reject(who, id, rng.below(4) ? "not enough detail" : "", now);
        break;
      case 6:
        st = apps.withdraw(who, id, "", now);
        break;
      case 7:
        st = apps.record_award(id, AwardId(id.value + 1000), now);
        break;
    }
    out.codes.push_back(st.code());
    if (!st.ok()) {
      EXPECT_TRUE(snapshot(apps) == before) << "step " << i << ": " << st.ToString();
    }
    EXPECT_GE(out.fund_left, 0);
  }
  Minor approved = 0;
  for (const Application& a : apps.all()) {
    if (a.state == ApplicationState::kApproved) {
      approved += a.approved_minor;
      EXPECT_LE(a.approved_minor, a.terms.amount_minor);
      EXPECT_TRUE(a.award.valid());
    } else {
      EXPECT_EQ(a.approved_minor, 0);
    }
  }
  EXPECT_EQ(approved, fund - out.fund_left);
  out.snap = snapshot(apps);
  return out;
}

TEST(ApplicationDeterminism, SameCommandsSameStateAndRefusalsChangeNothing) {
  const RunResult a = drive(42, 3000);
  const RunResult b = drive(42, 3000);
  EXPECT_TRUE(a.snap == b.snap);
  EXPECT_EQ(a.codes, b.codes);
  EXPECT_EQ(a.fund_left, b.fund_left);
  // The run exercised both outcomes of most commands.
  int ok = 0, refused = 0, funds = 0;
  for (Code c : a.codes) {
    (c == Code::kOk ? ok : refused)++;
    if (c == Code::kInsufficientFunds) ++funds;
  }
  EXPECT_GT(ok, 100);
  EXPECT_GT(refused, 100);
  EXPECT_GT(funds, 0);                    // the fund ran low and approvals were refused for it
  EXPECT_LT(a.fund_left, 1'500 * kUnit);  // and some were granted
  EXPECT_FALSE(a.snap.in_state_approved().empty());
  EXPECT_FALSE(a.snap.lists.empty());
  const RunResult c = drive(7, 3000);
  EXPECT_FALSE(c.snap == a.snap);
}

TEST(ApplicationNames, NameEveryEnumerator) {
  enum_testing::expect_every_enumerator_named(kApplicationStateNames);
  enum_testing::expect_every_enumerator_named(kFundingRoleNames);
  enum_testing::expect_every_enumerator_named(kApplicationActionNames);
  EXPECT_STREQ(funding_role_name(FundingRole::kReviewer), "reviewer");
  EXPECT_STREQ(application_action_name(ApplicationAction::kCriteriaSet), "criteria_set");
}

}  // namespace
}  // namespace berth::core
