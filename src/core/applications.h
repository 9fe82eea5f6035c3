// Applications: how an organisation asks a funding scheme for money and how a reviewer decides.
//
// The lifecycle (docs/funding.md):
//   draft -> submitted -> approved | rejected;   draft or submitted -> withdrawn.
// A member of the project's organisation drafts, updates, submits and withdraws; a reviewer
// scores against the scheme's weighted criteria and approves (possibly less than asked) or
// rejects with a reason. A member cannot review or decide; a reviewer cannot draft, submit or
// withdraw, and cannot review or decide an application they drafted or submitted themselves.
//
// This module holds the paperwork only; money moves elsewhere. On approval the Engine moves the
// approved amount from the scheme's fund to a new award and then calls record_award(). The fund
// balance is passed in to approve(), which refuses more than is left, so the sum of awards never
// exceeds the fund. Anything this module cannot know (the project's organisation and its kind,
// the scheme's window, eligibility and cap) is passed in by the caller, too.
//
// Contract: no I/O, no clock, no randomness. Every command takes the acting user and now_ms and
// returns a Status or Result; a refused command changes nothing (not even the history). Every
// accepted command appends one event to an append-only history (who, what, when, why), which
// the owner persists with events_since(). Each command has a const check_ twin where a caller
// must know the outcome before it acts elsewhere (approve: before moving money).
// Not thread-safe: the Engine's one thread owns it.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/enum_names.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/money.h"
#include "common/status.h"
#include "core/model.h"

namespace berth::core {

// Bounds on what a caller can make this module hold.
inline constexpr size_t kMaxJustificationBytes = 8'000;
inline constexpr size_t kMaxPlannedWorkBytes = 8'000;
inline constexpr size_t kMaxGpuModelBytes = 64;
inline constexpr int kMaxGpuLevel = 100'000;
inline constexpr int kMaxDurationDays = 3'650;
inline constexpr int kMaxCriteria = 16;
inline constexpr int kMaxScore = 100;                      // each criterion is scored 0..100
inline constexpr int64_t kWeightTotalBps = 10'000;         // a scheme's weights sum to this
inline constexpr int kMaxReviewsPerApplication = 32;       // distinct reviewers
inline constexpr int kMaxEventsPerApplication = 256;       // updates, re-reviews, ...
inline constexpr int kMaxOpenApplicationsPerProject = 32;  // drafts and submitted, per project

enum class ApplicationState : uint8_t { kDraft = 0, kSubmitted, kApproved, kRejected, kWithdrawn };
inline constexpr int kApplicationStateCount = 5;
inline constexpr auto kApplicationStateNames = enum_names<ApplicationState>(
    "application state", {{ApplicationState::kDraft, "draft"},
                          {ApplicationState::kSubmitted, "submitted"},
                          {ApplicationState::kApproved, "approved"},
                          {ApplicationState::kRejected, "rejected"},
                          {ApplicationState::kWithdrawn, "withdrawn"}});
static_assert(kApplicationStateNames.entries().size() == kApplicationStateCount);
const char* application_state_name(ApplicationState s);  // "draft", "submitted", ...
bool parse_application_state(const std::string& text, ApplicationState* out);
inline bool is_decided(ApplicationState s) {
  return s == ApplicationState::kApproved || s == ApplicationState::kRejected ||
         s == ApplicationState::kWithdrawn;
}

// Who acts. The server maps a token to one of these; the core only checks it.
enum class FundingRole : uint8_t { kMember = 0, kReviewer };
inline constexpr auto kFundingRoleNames = enum_names<FundingRole>(
    "funding role", {{FundingRole::kMember, "member"}, {FundingRole::kReviewer, "reviewer"}});
const char* funding_role_name(FundingRole r);

struct Actor {
  std::string user;  // who, as recorded in the history; must not be empty
  FundingRole role = FundingRole::kMember;
  OrgId org;  // a member's organisation; ignored for reviewers
  bool admin =
      false;  // the centre's administrator, who acts as a reviewer (and is named so in errors)
};

// What the caller knows about the applying project's organisation.
struct Applicant {
  OrgId org;
  OrgKind kind = OrgKind::kOther;
};

// The rules of the scheme applied to, as the caller (the Engine) takes them from its Scheme
// (core/model.h: window, eligibility, cap), so that this file needs no Scheme of its own.
struct SchemeRules {
  uint32_t eligible_kinds = 0;  // bit (1 << OrgKind), as Scheme::eligible_kinds
  // Applications are submitted in [window_open_ms, window_close_ms); drafting is allowed before
  // the window opens (to prepare) but not after it closes.
  int64_t window_open_ms = 0;
  int64_t window_close_ms = std::numeric_limits<int64_t>::max();
  Minor cap_per_project_minor = 0;  // the most one application may ask for; 0: no cap
  bool eligible(OrgKind k) const { return (eligible_kinds >> static_cast<int>(k)) & 1u; }
};

// The parts of an application its organisation writes (and may change while it is a draft).
struct ApplicationTerms {
  Minor amount_minor = 0;  // asked for; > 0 (parsing "12.5" into minor units is the caller's job)
  int gpu_level = 0;       // GPUs held at once, 1..kMaxGpuLevel
  std::string gpu_model;   // "" = any
  int duration_days = 0;   // 1..kMaxDurationDays
  std::string justification;  // non-empty
  std::string planned_work;   // may be empty
  bool operator==(const ApplicationTerms&) const = default;
};

// A scheme's review criterion: a name and its weight; a scheme's weights sum to 10000.
struct Criterion {
  std::string name;
  int64_t weight_bps = 0;
  bool operator==(const Criterion&) const = default;
};

struct CriterionScore {
  std::string criterion;
  int score = 0;  // 0..kMaxScore
  bool operator==(const CriterionScore&) const = default;
};

// One reviewer's scores. A reviewer who reviews again replaces their earlier review (the
// history keeps both).
struct Review {
  std::string reviewer;
  std::vector<int> scores;  // in the order of the scheme's criteria
  // sum(score * weight_bps): the weighted score in ten-thousandths of a point, 0..1,000,000
  // for 0..100 points. Exact: no rounding anywhere.
  int64_t weighted_score_e4 = 0;
  std::string comment;
  int64_t at_ms = 0;
  bool operator==(const Review&) const = default;
};

// What a reviewer grants: at most what was asked for, on each count.
struct ApprovalTerms {
  Minor amount_minor = 0;  // 1..requested, and no more than the fund has left
  int gpu_level = 0;       // 0: as asked; else 1..asked
  int duration_days = 0;   // 0: as asked; else 1..asked
  // The award's subsidy rate, recorded as granted. The Engine checks it against the scheme
  // (its rate, or its exceptional rate); 0 records no rate.
  int64_t rate_bps = 0;
  std::string note;  // optional, recorded in the history
};

struct Application {
  ApplicationId id;
  SchemeId scheme;
  ProjectId project;
  OrgId org;
  ApplicationTerms terms;  // as asked
  ApplicationState state = ApplicationState::kDraft;
  int64_t created_ms = 0;
  std::string created_by;
  int64_t updated_ms = 0;    // last change of any kind
  int64_t submitted_ms = 0;  // 0 until submitted
  std::string submitted_by;
  int64_t decided_ms = 0;  // 0 until approved, rejected or withdrawn
  std::string decided_by;
  std::vector<Review> reviews;  // one per reviewer, in the order they first reviewed
  // floor(mean of the reviews' weighted scores); 0 with no review.
  int64_t weighted_score_e4 = 0;
  // Granted, once approved (0 before).
  Minor approved_minor = 0;
  int approved_gpu_level = 0;
  int approved_duration_days = 0;
  int64_t approved_rate_bps = 0;
  std::string rejection_reason;
  std::string withdrawal_note;
  AwardId award;  // set by record_award() once the Engine has created it
  bool operator==(const Application&) const = default;
};

enum class ApplicationAction : uint8_t {
  kCriteriaSet = 0,  // a scheme's criteria (application id 0)
  kDrafted,
  kUpdated,
  kSubmitted,
  kReviewed,
  kApproved,
  kRejected,
  kWithdrawn,
  kAwarded
};
inline constexpr auto kApplicationActionNames = enum_names<ApplicationAction>(
    "application action", {{ApplicationAction::kCriteriaSet, "criteria_set"},
                           {ApplicationAction::kDrafted, "drafted"},
                           {ApplicationAction::kUpdated, "updated"},
                           {ApplicationAction::kSubmitted, "submitted"},
                           {ApplicationAction::kReviewed, "reviewed"},
                           {ApplicationAction::kApproved, "approved"},
                           {ApplicationAction::kRejected, "rejected"},
                           {ApplicationAction::kWithdrawn, "withdrawn"},
                           {ApplicationAction::kAwarded, "awarded"}});
const char* application_action_name(ApplicationAction a);

// One step of the append-only history.
struct ApplicationEvent {
  uint64_t seq = 0;           // 1, 2, ...: its position in the history plus one
  ApplicationId application;  // 0 for a scheme-level step (criteria)
  SchemeId scheme;
  int64_t at_ms = 0;
  std::string user;
  ApplicationAction action = ApplicationAction::kDrafted;
  std::string note;  // why, and the figures (amounts, scores) in words
  bool operator==(const ApplicationEvent&) const = default;
};

// Applications of one scheme by state, for the funder's report.
struct ApplicationCounts {
  std::array<int64_t, kApplicationStateCount> by_state{};
  int64_t of(ApplicationState s) const { return by_state[static_cast<int>(s)]; }
  int64_t total() const;
  bool operator==(const ApplicationCounts&) const = default;
};

class Applications {
 public:
  Applications() = default;
  Applications(const Applications&) = delete;
  Applications& operator=(const Applications&) = delete;
  Applications(Applications&&) = default;
  Applications& operator=(Applications&&) = default;

  // A reviewer sets the scheme's criteria: 1..kMaxCriteria distinct names, each weight > 0,
  // weights summing to 10000. Refused once any application of the scheme has been reviewed, so
  // every review of a scheme is weighed alike.
  Status set_criteria(const Actor& actor, SchemeId scheme, const std::vector<Criterion>& criteria,
                      int64_t now_ms);
  const std::vector<Criterion>& criteria(SchemeId scheme) const;  // empty when none set

  // A member of the applicant's organisation drafts an application; returns its id (1, 2, ...).
  Result<ApplicationId> draft(const Actor& actor, SchemeId scheme, ProjectId project,
                              const Applicant& applicant, const SchemeRules& rules,
                              const ApplicationTerms& terms, int64_t now_ms);
  // Replaces a draft's terms.
  Status update(const Actor& actor, ApplicationId id, const SchemeRules& rules,
                const ApplicationTerms& terms, int64_t now_ms);
  // Submits a draft for review: the window must be open and the organisation still eligible.
  Status submit(const Actor& actor, ApplicationId id, const Applicant& applicant,
                const SchemeRules& rules, int64_t now_ms);
  // A reviewer scores a submitted application: one score per criterion of its scheme.
  Status review(const Actor& actor, ApplicationId id, const std::vector<CriterionScore>& scores,
                const std::string& comment, int64_t now_ms);
  // A reviewer approves a submitted, reviewed application. fund_left_minor is what the scheme's
  // fund holds now; more is refused (InsufficientFunds). The caller then moves the money and
  // calls record_award(); check_approve() first tells it whether approve() will succeed.
  Status check_approve(const Actor& actor, ApplicationId id, const ApprovalTerms& terms,
                       Minor fund_left_minor) const;
  Status approve(const Actor& actor, ApplicationId id, const ApprovalTerms& terms,
                 Minor fund_left_minor, int64_t now_ms);
  // A reviewer rejects a submitted application, with a reason.
  Status reject(const Actor& actor, ApplicationId id, const std::string& reason, int64_t now_ms);
  // A member of its organisation withdraws a draft or a submitted application.
  Status withdraw(const Actor& actor, ApplicationId id, const std::string& note, int64_t now_ms);
  // The Engine links an approved application to the award it created. Recording the same
  // award again is a no-op (a replay); a different one is a Conflict.
  Status record_award(ApplicationId id, AwardId award, int64_t now_ms);

  // Rebuilds the module from its persisted rows: applications by id (1, 2, ...), each scheme's
  // criteria, and the history in seq order. Checks that ids and seqs run in sequence and that
  // every event names an application that exists; on error the module is left empty.
  Status restore(std::vector<Application> apps, std::map<uint64_t, std::vector<Criterion>> criteria,
                 std::vector<ApplicationEvent> events);
  const std::map<uint64_t, std::vector<Criterion>>& all_criteria() const { return criteria_; }

  // Queries. Lists are in id order.
  const Application* get(ApplicationId id) const;
  const std::vector<Application>& all() const { return apps_; }  // index = id - 1
  std::vector<ApplicationId> of_project(ProjectId project) const;
  std::vector<ApplicationId> of_scheme(SchemeId scheme) const;
  std::vector<ApplicationId> in_state(ApplicationState state) const;
  ApplicationCounts counts(SchemeId scheme) const;

  // History, oldest first. events_since(n) is what was appended after the first n events: the
  // owner persists it and remembers events().size(). changed_since(n) lists the applications
  // those events touched, to write their rows.
  const std::vector<ApplicationEvent>& events() const { return events_; }
  std::vector<ApplicationEvent> events_since(size_t n) const;
  std::vector<ApplicationId> changed_since(size_t n) const;

 private:
  Application* find(ApplicationId id);
  Status find_for(const Actor& actor, ApplicationId id, const char* what,
                  const Application** out) const;
  Status check_member_of(const Actor& actor, const Application& app, const char* what) const;
  Status check_reviewer_of(const Actor& actor, const Application& app, const char* what) const;
  Status check_room(const Application& app) const;
  Status check_review(const Actor& actor, ApplicationId id,
                      const std::vector<CriterionScore>& scores, const std::string& comment,
                      std::vector<int>* ordered) const;
  void record(const Application& app, const Actor& actor, ApplicationAction action, int64_t now_ms,
              std::string note);
  void record(ApplicationId app, SchemeId scheme, const std::string& user, ApplicationAction action,
              int64_t now_ms, std::string note);

  std::vector<Application> apps_;
  std::map<uint64_t, std::vector<Criterion>> criteria_;                  // scheme -> criteria
  std::unordered_map<uint64_t, std::vector<ApplicationId>> by_project_;  // in id order
  std::unordered_map<uint64_t, std::vector<ApplicationId>> by_scheme_;   // in id order
  std::unordered_map<uint64_t, int> events_of_;                          // application -> events
  std::unordered_map<uint64_t, int> reviewed_in_scheme_;  // scheme -> applications reviewed
  std::vector<ApplicationEvent> events_;
};

// Checks shared by the core's paperwork (applications, progress reports): free text bounded to
// max_bytes with no control characters but tab and line breaks (required: not empty), and an
// acting user who is named.
Status check_free_text(const char* field, const std::string& text, size_t max_bytes, bool required);
Status check_acting_user(const Actor& actor);

// "87.2500": a weighted score in points with four decimals.
std::string format_score(int64_t score_e4);

}  // namespace berth::core
