#include "core/progress.h"

#include "common/civil.h"
#include "common/timefmt.h"

namespace berth::core {

namespace {

std::string num(int64_t v) { return std::to_string(v); }
std::string report_name(AwardId award, int period) {
  return "award " + num(static_cast<int64_t>(award.value)) + "'s report for period " + num(period);
}

}  // namespace

const char* report_state_name(ReportState s) { return kReportStateNames.name(s); }
bool parse_report_state(const std::string& text, ReportState* out) {
  return kReportStateNames.parse_into(text, out);
}
const char* report_action_name(ReportAction a) { return kReportActionNames.name(a); }
bool parse_report_action(const std::string& text, ReportAction* out) {
  return kReportActionNames.parse_into(text, out);
}

ReportTerms ReportTerms::of(const Award& award, OrgId org) {
  return ReportTerms{award.id,
                     org,
                     award.start_ms,
                     award.end_ms,
                     award.report_every_months,
                     award.report_grace_days};
}

Status check_report_rule(int every_months, int grace_days) {
  if (every_months < 0 || every_months > kMaxReportEveryMonths)
    return Status::Invalid("reports are required every 0 (none) to " + num(kMaxReportEveryMonths) +
                           " months, got " + num(every_months));
  if (grace_days < 0 || grace_days > kMaxReportGraceDays)
    return Status::Invalid("a report's grace period is 0 to " + num(kMaxReportGraceDays) +
                           " days, got " + num(grace_days));
  if (grace_days > 0 && every_months == 0)
    return Status::Invalid("a grace period for reports needs reports to be required");
  return Status::Ok();
}

std::vector<int64_t> report_due_dates(int64_t start_ms, int64_t end_ms, int every_months) {
  std::vector<int64_t> due;
  if (every_months <= 0) return due;
  for (int k = 1; k <= kMaxReportPeriods; ++k) {
    // Each date from the start, not from the previous date, so a clamped day does not drift
    // (Jan 31, Feb 28, Mar 31 rather than Mar 28).
    const int64_t at = add_months_ms(start_ms, k * every_months);
    if (at >= end_ms) break;
    due.push_back(at);
  }
  return due;
}

int64_t report_due_ms(const ReportTerms& t, int period) {
  if (t.every_months <= 0 || period < 1 || period > kMaxReportPeriods) return 0;
  const int64_t at = add_months_ms(t.start_ms, period * t.every_months);
  return at < t.end_ms ? at : 0;
}

Status ProgressReports::submit(const Actor& actor, const ReportTerms& terms, int period,
                               const std::string& text, int64_t now_ms) {
  BERTH_RETURN_IF_ERROR(check_acting_user(actor));
  const std::string name = report_name(terms.award, period);
  if (actor.role != FundingRole::kMember || actor.org != terms.org)
    return Status::Denied("only a member of the project's organisation may submit " + name);
  if (terms.every_months <= 0)
    return Status::Conflict("award " + num(static_cast<int64_t>(terms.award.value)) +
                            " requires no progress reports");
  const int64_t due_ms = report_due_ms(terms, period);
  if (due_ms == 0)
    return Status::Invalid(
        "award " + num(static_cast<int64_t>(terms.award.value)) + " has no report period " +
        num(period) + " (it has " +
        num(static_cast<int64_t>(
            report_due_dates(terms.start_ms, terms.end_ms, terms.every_months).size())) +
        ")");
  const int64_t begins_ms = period == 1 ? terms.start_ms : report_due_ms(terms, period - 1);
  if (now_ms < begins_ms)
    return Status::Conflict(name + " cannot be submitted before the period begins at " +
                            format_time_ms(begins_ms));
  BERTH_RETURN_IF_ERROR(check_free_text("report text", text, kMaxReportTextBytes, true));
  auto it = reports_.find({terms.award.value, period});
  if (it != reports_.end()) {
    const ProgressReport& r = it->second;
    if (r.state == ReportState::kSubmitted)
      return Status::Conflict(name + " was submitted by " + r.submitted_by + " at " +
                              format_time_ms(r.submitted_ms) + " and awaits review");
    if (r.state == ReportState::kAccepted)
      return Status::Conflict(name + " was accepted by " + r.decided_by + " at " +
                              format_time_ms(r.decided_ms));
    if (r.submissions >= kMaxSubmissionsPerReport)
      return Status::Conflict(name + " has been submitted " + num(r.submissions) +
                              " times, the most allowed");
  }
  ProgressReport& r = reports_[{terms.award.value, period}];
  r.award = terms.award;
  r.period = period;
  r.due_ms = due_ms;
  r.state = ReportState::kSubmitted;
  r.text = text;
  r.submitted_ms = now_ms;
  r.submitted_by = actor.user;
  r.decided_ms = 0;
  r.decided_by.clear();
  r.submissions += 1;
  record(r, actor.user, ReportAction::kSubmitted, now_ms,
         num(static_cast<int64_t>(text.size())) + " bytes");
  return Status::Ok();
}

Status ProgressReports::decide(const Actor& actor, AwardId award, int period, ReportState to,
                               const std::string& reason, int64_t now_ms) {
  BERTH_RETURN_IF_ERROR(check_acting_user(actor));
  const bool accepting = to == ReportState::kAccepted;
  const std::string what = accepting ? "accept" : "return";
  const std::string name = report_name(award, period);
  if (actor.role != FundingRole::kReviewer)
    return Status::Denied("only a reviewer may " + what + " " + name);
  if (!accepting)
    BERTH_RETURN_IF_ERROR(
        check_free_text("the reason for returning a report", reason, kMaxReasonBytes, true));
  auto it = reports_.find({award.value, period});
  if (it == reports_.end()) return Status::NotFound(name + " has not been submitted");
  ProgressReport& r = it->second;
  if (r.state != ReportState::kSubmitted)
    return Status::Conflict(name + " is " + report_state_name(r.state) + " (by " + r.decided_by +
                            " at " + format_time_ms(r.decided_ms) +
                            "); only a submitted report can be " + what + "ed");
  r.state = to;
  r.decided_ms = now_ms;
  r.decided_by = actor.user;
  if (!accepting) r.return_reason = reason;
  record(r, actor.user, accepting ? ReportAction::kAccepted : ReportAction::kReturned, now_ms,
         reason);
  return Status::Ok();
}

Status ProgressReports::accept(const Actor& actor, AwardId award, int period, int64_t now_ms) {
  return decide(actor, award, period, ReportState::kAccepted, "", now_ms);
}

Status ProgressReports::return_report(const Actor& actor, AwardId award, int period,
                                      const std::string& reason, int64_t now_ms) {
  return decide(actor, award, period, ReportState::kReturned, reason, now_ms);
}

ReportStanding ProgressReports::standing(const ReportTerms& terms, int64_t now_ms) const {
  ReportStanding s;
  if (terms.every_months <= 0) return s;
  const int64_t grace_ms = static_cast<int64_t>(terms.grace_days) * kMsPerDay;
  const std::vector<int64_t> due =
      report_due_dates(terms.start_ms, terms.end_ms, terms.every_months);
  for (size_t i = 0; i < due.size(); ++i) {
    const int period = static_cast<int>(i) + 1;
    const ProgressReport* r = get(terms.award, period);
    if (r && r->state == ReportState::kAccepted) continue;
    if (s.next_period == 0) {
      s.next_period = period;
      s.next_due_ms = due[i];
    }
    if (now_ms >= due[i] + grace_ms) {
      s.overdue_period = period;
      s.overdue_since_ms = due[i] + grace_ms;
    }
    // Due dates increase: the first period not accepted decides both answers.
    break;
  }
  return s;
}

int64_t ProgressReports::next_overdue_ms(const ReportTerms& terms, int64_t after_ms) const {
  if (terms.every_months <= 0) return 0;
  const int64_t grace_ms = static_cast<int64_t>(terms.grace_days) * kMsPerDay;
  const std::vector<int64_t> due =
      report_due_dates(terms.start_ms, terms.end_ms, terms.every_months);
  for (size_t i = 0; i < due.size(); ++i) {
    const ProgressReport* r = get(terms.award, static_cast<int>(i) + 1);
    if (r && r->state == ReportState::kAccepted) continue;
    if (due[i] + grace_ms > after_ms) return due[i] + grace_ms;
  }
  return 0;
}

const ProgressReport* ProgressReports::get(AwardId award, int period) const {
  auto it = reports_.find({award.value, period});
  return it == reports_.end() ? nullptr : &it->second;
}

std::vector<const ProgressReport*> ProgressReports::of_award(AwardId award) const {
  std::vector<const ProgressReport*> out;
  for (auto it = reports_.lower_bound({award.value, 0});
       it != reports_.end() && it->first.first == award.value; ++it)
    out.push_back(&it->second);
  return out;
}

std::vector<ProgressReport> ProgressReports::all() const {
  std::vector<ProgressReport> out;
  out.reserve(reports_.size());
  for (const auto& [key, r] : reports_) out.push_back(r);
  return out;
}

std::vector<ReportEvent> ProgressReports::events_since(size_t n) const {
  if (n >= events_.size()) return {};
  return std::vector<ReportEvent>(events_.begin() + static_cast<long>(n), events_.end());
}

std::vector<ProgressReport> ProgressReports::changed_since(size_t n) const {
  std::map<std::pair<uint64_t, int>, const ProgressReport*> touched;
  for (size_t i = n; i < events_.size(); ++i) {
    const auto key = std::make_pair(events_[i].award.value, events_[i].period);
    touched[key] = &reports_.at(key);
  }
  std::vector<ProgressReport> out;
  for (const auto& [key, r] : touched) out.push_back(*r);
  return out;
}

Status ProgressReports::restore(std::vector<ProgressReport> reports,
                                std::vector<ReportEvent> events) {
  reports_.clear();
  events_.clear();
  std::map<std::pair<uint64_t, int>, ProgressReport> rows;
  for (ProgressReport& r : reports) {
    const auto key = std::make_pair(r.award.value, r.period);
    if (!r.award.valid() || r.period < 1 || rows.count(key))
      return Status::Internal("progress report rows are malformed or repeated at " +
                              report_name(r.award, r.period));
    rows.emplace(key, std::move(r));
  }
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq != i + 1)
      return Status::Internal("progress report events are not in sequence at " +
                              num(static_cast<int64_t>(i) + 1));
    if (!rows.count({events[i].award.value, events[i].period}))
      return Status::Internal("progress report event " + num(static_cast<int64_t>(i) + 1) +
                              " names " + report_name(events[i].award, events[i].period) +
                              ", which does not exist");
  }
  reports_ = std::move(rows);
  events_ = std::move(events);
  return Status::Ok();
}

void ProgressReports::record(const ProgressReport& r, const std::string& user, ReportAction action,
                             int64_t now_ms, std::string note) {
  ReportEvent e;
  e.seq = events_.size() + 1;
  e.award = r.award;
  e.period = r.period;
  e.at_ms = now_ms;
  e.user = user;
  e.action = action;
  e.note = std::move(note);
  events_.push_back(std::move(e));
}

}  // namespace berth::core
