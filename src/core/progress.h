// Progress reports: what an award asks of its project while it pays, and how a reviewer judges it.
//
// An award may require a report every N calendar months (Award::report_every_months; 0: none).
// Period k (1, 2, ...) is due at the award's start plus k*N months (common/timefmt's
// add_months_ms: UTC, the day clamped to the month's end), for every k whose due date is before
// the award's end. A period's report is overdue from its due date plus the award's grace days
// until a report for it is accepted; while any is overdue the Engine takes no subsidy from the
// award for a new job (docs/funding.md).
//
// The lifecycle of one period's report:
//   (none) -submit (member)-> submitted -accept (reviewer)-> accepted
//                              submitted -return (reviewer, reason)-> returned -submit-> submitted
//                              ...
// A member of the project's organisation submits (once the period has begun, that is from the
// previous due date, or the start for period 1); a reviewer accepts or returns with a reason.
// A member cannot accept or return; a reviewer cannot submit.
//
// Contract: no I/O, no clock, no randomness. Every command takes the acting user and now_ms and
// returns a Status; a refused command changes nothing (not even the history). Every accepted
// command appends one event (who, what, when, why) to an append-only history, which the owner
// persists with events_since(). What this module cannot know (the award's organisation, start,
// end and rule) the caller passes in as ReportTerms.
// Not thread-safe: the Engine's one thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/enum_names.h"
#include "common/ids.h"
#include "common/status.h"
#include "core/applications.h"
#include "core/model.h"

namespace berth::core {

inline constexpr size_t kMaxReportTextBytes = 16'000;
inline constexpr int kMaxReportEveryMonths = 120;
inline constexpr int kMaxReportGraceDays = 365;
inline constexpr int kMaxReportPeriods = 1'200;      // periods considered per award
inline constexpr int kMaxSubmissionsPerReport = 32;  // submit/return rounds per period

// What the caller knows about the award a report is for.
struct ReportTerms {
  AwardId award;
  OrgId org;  // the project's organisation: its members submit
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int every_months = 0;  // 0: no reports required
  int grace_days = 0;
  static ReportTerms of(const Award& award, OrgId org);
};

// An award's report rule: every 0..kMaxReportEveryMonths months, grace 0..kMaxReportGraceDays
// days (and no grace without reports).
Status check_report_rule(int every_months, int grace_days);

// The due dates of an award's reports, period 1 first: start + k*every months while before end
// (at most kMaxReportPeriods). Empty when every_months is 0.
std::vector<int64_t> report_due_dates(int64_t start_ms, int64_t end_ms, int every_months);
// The due date of period k (k >= 1), or 0 when there is no such period.
int64_t report_due_ms(const ReportTerms& terms, int period);

enum class ReportState : uint8_t { kSubmitted = 0, kAccepted, kReturned };
inline constexpr auto kReportStateNames =
    enum_names<ReportState>("report state", {{ReportState::kSubmitted, "submitted"},
                                             {ReportState::kAccepted, "accepted"},
                                             {ReportState::kReturned, "returned"}});
const char* report_state_name(ReportState s);  // "submitted", "accepted", "returned"
bool parse_report_state(const std::string& text, ReportState* out);

// The latest report for one period of one award.
struct ProgressReport {
  AwardId award;
  int period = 0;
  int64_t due_ms = 0;
  ReportState state = ReportState::kSubmitted;
  std::string text;  // as last submitted
  int64_t submitted_ms = 0;
  std::string submitted_by;
  int64_t decided_ms = 0;  // accepted or returned at; 0 while submitted
  std::string decided_by;
  std::string return_reason;  // why it was last returned ("" if never)
  int submissions = 0;        // times submitted
  bool operator==(const ProgressReport&) const = default;
};

enum class ReportAction : uint8_t { kSubmitted = 0, kAccepted, kReturned };
inline constexpr auto kReportActionNames =
    enum_names<ReportAction>("report action", {{ReportAction::kSubmitted, "submitted"},
                                               {ReportAction::kAccepted, "accepted"},
                                               {ReportAction::kReturned, "returned"}});
const char* report_action_name(ReportAction a);
bool parse_report_action(const std::string& text, ReportAction* out);

// One step of the append-only history.
struct ReportEvent {
  uint64_t seq = 0;  // 1, 2, ...
  AwardId award;
  int period = 0;
  int64_t at_ms = 0;
  std::string user;
  ReportAction action = ReportAction::kSubmitted;
  std::string note;  // the return's reason; the text's size for a submission
  bool operator==(const ReportEvent&) const = default;
};

// Where an award stands with its reports at a moment.
struct ReportStanding {
  int overdue_period = 0;        // the first overdue period (0: none overdue)
  int64_t overdue_since_ms = 0;  // when it became overdue (due date plus grace)
  int next_period = 0;           // the first period not yet accepted (0: none left)
  int64_t next_due_ms = 0;       // its due date (0: none)
  bool overdue() const { return overdue_period != 0; }
};

class ProgressReports {
 public:
  ProgressReports() = default;
  ProgressReports(const ProgressReports&) = delete;
  ProgressReports& operator=(const ProgressReports&) = delete;
  ProgressReports(ProgressReports&&) = default;
  ProgressReports& operator=(ProgressReports&&) = default;

  // A member of the award's organisation submits the report for `period`: text 1..16,000
  // bytes; the period must exist and have begun; its report must not be awaiting review or
  // accepted.
  Status submit(const Actor& actor, const ReportTerms& terms, int period, const std::string& text,
                int64_t now_ms);
  // A reviewer accepts a submitted report.
  Status accept(const Actor& actor, AwardId award, int period, int64_t now_ms);
  // A reviewer returns a submitted report with a reason; the member may submit again.
  Status return_report(const Actor& actor, AwardId award, int period, const std::string& reason,
                       int64_t now_ms);

  // The award's standing at now_ms: a period is overdue once now_ms >= due + grace and its
  // report is not accepted.
  ReportStanding standing(const ReportTerms& terms, int64_t now_ms) const;
  // The first moment after after_ms at which one of the award's reports becomes overdue (its
  // due date plus grace, its report not accepted); 0 when none will.
  int64_t next_overdue_ms(const ReportTerms& terms, int64_t after_ms) const;

  const ProgressReport* get(AwardId award, int period) const;
  std::vector<const ProgressReport*> of_award(AwardId award) const;  // by period
  std::vector<ProgressReport> all() const;                           // by award, then period

  // History, oldest first; events_since(n) is what was appended after the first n events, and
  // changed_since(n) the reports those events touched (by award, then period).
  const std::vector<ReportEvent>& events() const { return events_; }
  std::vector<ReportEvent> events_since(size_t n) const;
  std::vector<ProgressReport> changed_since(size_t n) const;

  // Rebuilds the module from persisted rows. Checks the history runs in sequence and that
  // every event names a report that exists; on error the module is left empty.
  Status restore(std::vector<ProgressReport> reports, std::vector<ReportEvent> events);

 private:
  // A reviewer accepts (to = kAccepted) or returns, with a reason, a submitted report.
  Status decide(const Actor& actor, AwardId award, int period, ReportState to,
                const std::string& reason, int64_t now_ms);
  void record(const ProgressReport& r, const std::string& user, ReportAction action, int64_t now_ms,
              std::string note);

  std::map<std::pair<uint64_t, int>, ProgressReport> reports_;  // (award, period) -> report
  std::vector<ReportEvent> events_;
};

}  // namespace berth::core
