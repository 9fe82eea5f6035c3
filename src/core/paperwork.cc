// The Engine's side of funding paperwork: progress reports and applications. Applications and
// ProgressReports keep the paperwork; the Engine supplies what they cannot know (the project's
// organisation and kind, the scheme's rules) and moves the money on approval (awards.cc).
#include <algorithm>

#include "common/civil.h"
#include "core/check.h"
#include "core/engine.h"

namespace berth::core {

Result<ReportTerms> Engine::report_terms(AwardId id) const {
  const Award* a = funding_.award(id);
  if (!a) return Status::NotFound("award " + std::to_string(id.value) + " not found");
  return ReportTerms::of(*a, funding_.project(a->project)->org);
}

Status Engine::submit_report(const Actor& actor, AwardId award, int period, const std::string& text,
                             int64_t now_ms) {
  BERTH_ASSIGN_OR_RETURN(auto terms, report_terms(award));
  return reports_.submit(actor, terms, period, text, now_ms);
}

Status Engine::accept_report(const Actor& actor, AwardId award, int period, int64_t now_ms) {
  if (!funding_.award(award))
    return Status::NotFound("award " + std::to_string(award.value) + " not found");
  return reports_.accept(actor, award, period, now_ms);
}

Status Engine::return_report(const Actor& actor, AwardId award, int period,
                             const std::string& reason, int64_t now_ms) {
  if (!funding_.award(award))
    return Status::NotFound("award " + std::to_string(award.value) + " not found");
  return reports_.return_report(actor, award, period, reason, now_ms);
}

ReportStanding Engine::report_standing(AwardId award, int64_t now_ms) const {
  auto terms = report_terms(award);
  return terms.ok() ? reports_.standing(*terms, now_ms) : ReportStanding{};
}

int64_t Engine::next_report_overdue_ms(int64_t after_ms) const {
  int64_t next = 0;
  for (const Award& a : funding_.awards()) {
    if (a.report_every_months == 0 || a.end_ms <= after_ms) continue;
    const int64_t at =
        reports_.next_overdue_ms(ReportTerms::of(a, funding_.project(a.project)->org), after_ms);
    if (at != 0 && (next == 0 || at < next)) next = at;
  }
  return next;
}

Result<Applicant> Engine::applicant(ProjectId project) const {
  const Project* p = funding_.project(project);
  if (!p) return Status::NotFound("project " + std::to_string(project.value) + " not found");
  return Applicant{p->org, funding_.org(p->org)->kind};
}

SchemeRules Engine::rules(SchemeId scheme) const {
  SchemeRules r;
  const Scheme* s = funding_.scheme(scheme);
  if (!s) return r;
  r.eligible_kinds = s->eligible_kinds;
  r.window_open_ms = s->window_open_ms;
  if (s->window_close_ms != 0) r.window_close_ms = s->window_close_ms;
  r.cap_per_project_minor = s->cap_per_project_minor;
  return r;
}

Status Engine::set_criteria(const Actor& actor, SchemeId scheme,
                            const std::vector<Criterion>& criteria, int64_t now_ms) {
  if (!funding_.scheme(scheme))
    return Status::NotFound("scheme " + std::to_string(scheme.value) + " not found");
  BERTH_RETURN_IF_ERROR(applications_.set_criteria(actor, scheme, criteria, now_ms));
  touch_criteria(scheme);
  return Status::Ok();
}

Result<ApplicationId> Engine::draft_application(const Actor& actor, SchemeId scheme,
                                                ProjectId project, const ApplicationTerms& terms,
                                                int64_t now_ms) {
  if (!funding_.scheme(scheme))
    return Status::NotFound("scheme " + std::to_string(scheme.value) + " not found");
  BERTH_ASSIGN_OR_RETURN(auto who, applicant(project));
  return applications_.draft(actor, scheme, project, who, rules(scheme), terms, now_ms);
}

Status Engine::update_application(const Actor& actor, ApplicationId id,
                                  const ApplicationTerms& terms, int64_t now_ms) {
  const Application* app = applications_.get(id);
  if (!app) return Status::NotFound("application " + std::to_string(id.value) + " not found");
  return applications_.update(actor, id, rules(app->scheme), terms, now_ms);
}

Status Engine::submit_application(const Actor& actor, ApplicationId id, int64_t now_ms) {
  const Application* app = applications_.get(id);
  if (!app) return Status::NotFound("application " + std::to_string(id.value) + " not found");
  BERTH_ASSIGN_OR_RETURN(auto who, applicant(app->project));
  // The cap counts what the project has been awarded already, not only this application.
  if (actor.role == FundingRole::kMember && actor.org == app->org)
    BERTH_RETURN_IF_ERROR(
        check_cap(*funding_.scheme(app->scheme), app->project, app->terms.amount_minor));
  return applications_.submit(actor, id, who, rules(app->scheme), now_ms);
}

Status Engine::review_application(const Actor& actor, ApplicationId id,
                                  const std::vector<CriterionScore>& scores,
                                  const std::string& comment, int64_t now_ms) {
  return applications_.review(actor, id, scores, comment, now_ms);
}

Status Engine::reject_application(const Actor& actor, ApplicationId id, const std::string& reason,
                                  int64_t now_ms) {
  return applications_.reject(actor, id, reason, now_ms);
}

Status Engine::withdraw_application(const Actor& actor, ApplicationId id, const std::string& note,
                                    int64_t now_ms) {
  return applications_.withdraw(actor, id, note, now_ms);
}

Result<Award> Engine::approve_application(const Actor& actor, ApplicationId id,
                                          const Approval& approval, int64_t now_ms) {
  const Application* app = applications_.get(id);
  if (!app) return Status::NotFound("application " + std::to_string(id.value) + " not found");
  const Scheme& s = *funding_.scheme(app->scheme);
  ApprovalTerms terms;
  terms.amount_minor = approval.amount_minor > 0 ? approval.amount_minor : app->terms.amount_minor;
  terms.gpu_level = approval.gpu_level;
  terms.duration_days = approval.duration_days;
  terms.note = approval.note;
  if (approval.amount_minor < 0) return Status::Invalid("approved amount must be positive");
  BERTH_RETURN_IF_ERROR(
      check_report_rule(approval.report_every_months, approval.report_grace_days));
  if (approval.exceptional_rate && s.exceptional_rate_bps == 0)
    return Status::Invalid("scheme '" + s.name + "' has no exceptional rate to grant");
  terms.rate_bps = approval.exceptional_rate ? s.exceptional_rate_bps : s.rate_bps;
  const Minor fund_left = ledger_.account(s.fund)->available();
  BERTH_RETURN_IF_ERROR(applications_.check_approve(actor, id, terms, fund_left));
  BERTH_RETURN_IF_ERROR(check_cap(s, app->project, terms.amount_minor));
  int days = terms.duration_days > 0 ? terms.duration_days : app->terms.duration_days;
  if (s.award_validity_days > 0) days = std::min(days, s.award_validity_days);
  terms.duration_days = days;
  const int level = terms.gpu_level > 0 ? terms.gpu_level : app->terms.gpu_level;
  const int64_t end_ms = now_ms + static_cast<int64_t>(days) * kMsPerDay;
  // Everything that could refuse has been checked: the award is granted, then recorded.
  auto award =
      grant_award(s, app->project, terms.amount_minor, level, now_ms, end_ms, terms.rate_bps, id,
                  approval.report_every_months, approval.report_grace_days, now_ms);
  BERTH_CHECK(award.ok(), "grant a checked approval");
  BERTH_CHECK(applications_.approve(actor, id, terms, fund_left, now_ms).ok(),
              "approve a checked application");
  BERTH_CHECK(applications_.record_award(id, award->id, now_ms).ok(), "record a new award");
  return award;
}

}  // namespace berth::core
