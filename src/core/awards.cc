// The Engine's awards: granting (directly or on an approved application) within a scheme's cap
// and fund, supplements, early closing, the return of an ended award's remainder to its fund,
// and the order in which a project's awards pay for its jobs.
#include <algorithm>

#include "common/limits.h"
#include "common/timefmt.h"
#include "core/check.h"
#include "core/engine.h"

namespace berth::core {

Minor Engine::awarded_minor(SchemeId scheme, ProjectId project) const {
  Minor total = 0;
  for (AwardId id : funding_.awards_of(project)) {
    const Award* a = funding_.award(id);
    if (a->scheme == scheme) total += a->amount_minor;
  }
  return total;
}

Status Engine::check_cap(const Scheme& s, ProjectId project, Minor more_minor) const {
  if (s.cap_per_project_minor == 0) return Status::Ok();
  const Minor already = awarded_minor(s.id, project);
  if (already + more_minor <= s.cap_per_project_minor) return Status::Ok();
  return Status::Conflict(
      "scheme '" + s.name + "' caps a project at " + format_amount(s.cap_per_project_minor) +
      "; project " + funding_.project(project)->name + " has been awarded " +
      format_amount(already) + " and this would add " + format_amount(more_minor));
}

Result<Award> Engine::grant_award(const Scheme& s, ProjectId project, Minor amount_minor,
                                  int gpu_level, int64_t start_ms, int64_t end_ms, int64_t rate_bps,
                                  ApplicationId application, int report_every_months,
                                  int report_grace_days, int64_t now_ms) {
  Award a{AwardId(funding_.awards().size() + 1),
          s.id,
          project,
          AccountId(next_account_id_),
          amount_minor,
          gpu_level,
          start_ms,
          end_ms,
          now_ms};
  a.rate_bps = rate_bps;
  a.application = application;
  a.report_every_months = report_every_months;
  a.report_grace_days = report_grace_days;
  BERTH_RETURN_IF_ERROR(funding_.check_award(a));
  BERTH_RETURN_IF_ERROR(check_cap(s, project, amount_minor));
  const Minor left = ledger_.account(s.fund)->available();
  if (left < amount_minor)
    return Status::Funds("scheme '" + s.name + "' has " + format_amount(left) +
                         " left in its fund, the award asks " + format_amount(amount_minor));
  const Account acct =
      new_account(AccountKind::kAward, a.id.value,
                  "award " + std::to_string(a.id.value) + " of " + funding_.project(project)->name);
  BERTH_CHECK(ledger_.create_account(acct, now_ms).ok(), "create award account");
  const Transfer t = new_transfer(s.fund, acct.id, amount_minor, kCodeAwardGrant, a.id.value);
  BERTH_CHECK(apply_transfer(t, now_ms).ok(), "grant a checked award");
  BERTH_CHECK(funding_.add_award(a).ok(), "add checked award");
  unreturned_awards_.insert({a.end_ms, a.id.value});
  record_audit("award.grant", "award " + std::to_string(a.id.value), amount_minor, t.id,
               (application.valid() ? "on application " + std::to_string(application.value)
                                    : std::string("directly")) +
                   " to project " + funding_.project(project)->name + " for " +
                   std::to_string(gpu_level) + " GPUs at " + std::to_string(rate_bps) + " bps" +
                   (report_every_months > 0 ? ", a progress report every " +
                                                  std::to_string(report_every_months) + " months"
                                            : std::string()),
               now_ms);
  return a;
}

Result<Award> Engine::create_award(SchemeId scheme, ProjectId project, Minor amount_minor,
                                   int gpu_level, int64_t start_ms, int64_t end_ms, int64_t now_ms,
                                   int report_every_months, int report_grace_days) {
  const Scheme* s = funding_.scheme(scheme);
  if (!s) return Status::NotFound("scheme " + std::to_string(scheme.value) + " not found");
  return grant_award(*s, project, amount_minor, gpu_level, start_ms, end_ms, s->rate_bps,
                     ApplicationId(), report_every_months, report_grace_days, now_ms);
}

Status Engine::set_funding_order(ProjectId project, const std::vector<AwardId>& order,
                                 int64_t now_ms) {
  BERTH_RETURN_IF_ERROR(funding_.set_funding_order(project, order));
  dirty_funding_orders_.insert(project.value);
  std::string text;
  for (AwardId id : order)
    text += (text.empty() ? "award " : ", award ") + std::to_string(id.value);
  record_audit("project.funding_order", "project " + std::to_string(project.value), 0, TransferId(),
               order.empty() ? "back to the order granted"
                             : "pays in the order " + text + ", then the rest as granted",
               now_ms);
  return Status::Ok();
}

Result<Award*> Engine::open_award(AwardId id, const char* what, int64_t now_ms) {
  Award* a = funding_.mutable_award(id);
  if (!a) return Status::NotFound("award " + std::to_string(id.value) + " not found");
  if (a->end_ms <= now_ms)
    return Status::Conflict("award " + std::to_string(id.value) + " ended at " +
                            format_time_ms(a->end_ms) + "; an award that has ended cannot be " +
                            what);
  return a;
}

Result<Award> Engine::supplement_award(AwardId id, Minor amount_minor, int64_t new_end_ms,
                                       const std::string& note, int64_t now_ms) {
  BERTH_ASSIGN_OR_RETURN(auto found, open_award(id, "supplemented", now_ms));
  Award& a = *found;
  if (amount_minor < 0) return Status::Invalid("a supplement's amount must not be negative");
  if (new_end_ms != 0 && new_end_ms <= a.end_ms)
    return Status::Invalid(
        "a supplement may only move the award's end later, not to or before its current end");
  if (amount_minor == 0 && new_end_ms == 0)
    return Status::Invalid("a supplement adds money, time or both");
  if (note.size() > kMaxReasonBytes)
    return Status::Invalid("note is longer than " + std::to_string(kMaxReasonBytes) +
                           " characters");
  const Scheme& s = *funding_.scheme(a.scheme);
  BERTH_RETURN_IF_ERROR(check_cap(s, a.project, amount_minor));
  const Minor left = ledger_.account(s.fund)->available();
  if (left < amount_minor)
    return Status::Funds("scheme '" + s.name + "' has " + format_amount(left) +
                         " left in its fund, the supplement asks " + format_amount(amount_minor));
  TransferId moved;
  if (amount_minor > 0) {
    const Transfer t = new_transfer(s.fund, a.account, amount_minor, kCodeAwardGrant, a.id.value);
    BERTH_CHECK(apply_transfer(t, now_ms).ok(), "supplement a checked award");
    a.amount_minor += amount_minor;
    moved = t.id;
  }
  if (new_end_ms != 0) {
    unreturned_awards_.erase({a.end_ms, a.id.value});
    a.end_ms = new_end_ms;
    unreturned_awards_.insert({a.end_ms, a.id.value});
  }
  touch_award(a.id);
  std::string what =
      amount_minor > 0 ? "added " + format_amount(amount_minor) : std::string("no money");
  if (new_end_ms != 0) what += "; ends at " + format_time_ms(new_end_ms);
  record_audit("award.supplement", "award " + std::to_string(a.id.value), amount_minor, moved,
               note.empty() ? what : what + ": " + note, now_ms);
  return a;
}

Result<Award> Engine::close_award(AwardId id, const std::string& reason, int64_t now_ms) {
  BERTH_ASSIGN_OR_RETURN(auto found, open_award(id, "closed", now_ms));
  if (reason.empty()) return Status::Invalid("closing an award early needs a reason");
  if (reason.size() > kMaxReasonBytes)
    return Status::Invalid("reason is longer than " + std::to_string(kMaxReasonBytes) +
                           " characters");
  Award& a = *found;
  unreturned_awards_.erase({a.end_ms, a.id.value});
  a.end_ms = std::max(now_ms, a.start_ms + 1);
  a.closed_ms = now_ms;
  unreturned_awards_.insert({a.end_ms, a.id.value});
  touch_award(a.id);
  record_audit("award.close", "award " + std::to_string(a.id.value), 0, TransferId(), reason,
               now_ms);
  return_ended_awards(now_ms);
  return *funding_.award(id);
}

void Engine::return_ended_awards(int64_t now_ms) {
  for (auto it = unreturned_awards_.begin();
       it != unreturned_awards_.end() && it->first <= now_ms;) {
    Award& a = *funding_.mutable_award(AwardId(it->second));
    const Account& acct = *ledger_.account(a.account);
    if (acct.debits_pending > 0) {  // a running job still holds on it: wait for its settlement
      ++it;
      continue;
    }
    const Minor left = acct.balance();
    TransferId moved;
    if (left > 0) {
      const AccountId fund = funding_.scheme(a.scheme)->fund;
      const Transfer t = new_transfer(a.account, fund, left, kCodeAwardReturn, a.id.value);
      BERTH_CHECK(apply_transfer(t, now_ms).ok(), "return an award's remainder");
      moved = t.id;
    }
    a.returned_ms = now_ms;
    a.returned_minor = left;
    touch_award(a.id);
    record_audit("award.return", "award " + std::to_string(a.id.value), left, moved,
                 "ended with every hold settled: the unspent remainder returns to the fund",
                 now_ms);
    audit_.back().user = "system";  // berth's own step, whichever request's pass it fell in
    it = unreturned_awards_.erase(it);
  }
}

}  // namespace berth::core
