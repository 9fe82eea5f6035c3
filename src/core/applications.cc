#include "core/applications.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/timefmt.h"
#include "core/check.h"
#include "core/funding.h"

namespace berth::core {

namespace {

constexpr const char* kEngineUser = "berth";  // who record_award() acts as in the history
constexpr size_t kMaxUserBytes = 128;

std::string num(int64_t v) { return std::to_string(v); }
std::string app_name(ApplicationId id) {
  return "application " + num(static_cast<int64_t>(id.value));
}
std::string scheme_name(SchemeId id) { return "scheme " + num(static_cast<int64_t>(id.value)); }

// Free text: bounded, and no control characters other than tab and line breaks, so that it
// prints safely in statements, CSV and the terminal.
Status check_text(const char* field, const std::string& text, size_t max_bytes, bool required) {
  if (required && text.empty()) return Status::Invalid(std::string(field) + " must not be empty");
  if (text.size() > max_bytes)
    return Status::Invalid(std::string(field) + " is " + num(static_cast<int64_t>(text.size())) +
                           " bytes; at most " + num(static_cast<int64_t>(max_bytes)) +
                           " are allowed");
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
      return Status::Invalid(std::string(field) + " must not hold control characters");
  }
  return Status::Ok();
}

Status check_actor(const Actor& actor) {
  if (actor.user.empty()) return Status::Invalid("the acting user must be named");
  return check_text("the acting user's name", actor.user, kMaxUserBytes, true);
}

Status check_terms(const ApplicationTerms& t, const SchemeRules& rules) {
  if (t.amount_minor <= 0)
    return Status::Invalid("requested amount must be positive, got " +
                           format_amount(t.amount_minor));
  if (rules.cap_per_project_minor > 0 && t.amount_minor > rules.cap_per_project_minor)
    return Status::Invalid("requested amount " + format_amount(t.amount_minor) +
                           " exceeds the scheme's cap of " +
                           format_amount(rules.cap_per_project_minor) + " per project");
  if (t.gpu_level < 1 || t.gpu_level > kMaxGpuLevel)
    return Status::Invalid("GPU level must be 1 to " + num(kMaxGpuLevel) + ", got " +
                           num(t.gpu_level));
  BERTH_RETURN_IF_ERROR(check_text("GPU model", t.gpu_model, kMaxGpuModelBytes, false));
  if (t.gpu_model.find_first_of(" \t\r\n") != std::string::npos)
    return Status::Invalid("GPU model '" + t.gpu_model + "' must not hold spaces");
  if (t.duration_days < 1 || t.duration_days > kMaxDurationDays)
    return Status::Invalid("duration must be 1 to " + num(kMaxDurationDays) + " days, got " +
                           num(t.duration_days));
  BERTH_RETURN_IF_ERROR(check_text("justification", t.justification, kMaxJustificationBytes, true));
  return check_text("planned work", t.planned_work, kMaxPlannedWorkBytes, false);
}

Status check_rules(const SchemeRules& rules) {
  if (rules.window_close_ms <= rules.window_open_ms)
    return Status::Invalid("the scheme's application window must close after it opens");
  if (rules.cap_per_project_minor < 0)
    return Status::Invalid("the scheme's cap per project must not be negative");
  return Status::Ok();
}

// Whether the applicant may apply now: eligible, and (to draft) the window not yet closed or
// (to submit) open.
Status check_window(SchemeId scheme, const Applicant& applicant, const SchemeRules& rules,
                    bool submitting, int64_t now_ms) {
  BERTH_RETURN_IF_ERROR(check_rules(rules));
  if (!rules.eligible(applicant.kind))
    return Status::Denied("organisation " + num(static_cast<int64_t>(applicant.org.value)) + " (" +
                          org_kind_name(applicant.kind) + ") is not eligible for " +
                          scheme_name(scheme));
  if (now_ms >= rules.window_close_ms)
    return Status::Conflict(scheme_name(scheme) + "'s application window closed at " +
                            format_time_ms(rules.window_close_ms) + "; it is " +
                            format_time_ms(now_ms));
  if (submitting && now_ms < rules.window_open_ms)
    return Status::Conflict(scheme_name(scheme) + "'s application window opens at " +
                            format_time_ms(rules.window_open_ms) + "; it is " +
                            format_time_ms(now_ms) + " (a draft may be prepared until then)");
  return Status::Ok();
}

std::string describe(const ApplicationTerms& t) {
  return "asks " + format_amount(t.amount_minor) + " for " + num(t.gpu_level) + " GPUs" +
         (t.gpu_model.empty() ? std::string() : " (" + t.gpu_model + ")") + " over " +
         num(t.duration_days) + " days";
}

std::string with_note(std::string what, const std::string& note) {
  return note.empty() ? what : what + ": " + note;
}

}  // namespace

const char* application_state_name(ApplicationState s) { return kApplicationStateNames.name(s); }

bool parse_application_state(const std::string& text, ApplicationState* out) {
  return kApplicationStateNames.parse_into(text, out);
}

const char* funding_role_name(FundingRole r) { return kFundingRoleNames.name(r); }

namespace {
// "rita is a reviewer": who acts, for messages that refuse them.
std::string who_is(const Actor& actor) {
  if (actor.admin)
    return actor.user + " is the centre's administrator, not a member of an organisation";
  return actor.user + " is a " + funding_role_name(actor.role);
}
}  // namespace

const char* application_action_name(ApplicationAction a) { return kApplicationActionNames.name(a); }

int64_t ApplicationCounts::total() const {
  int64_t n = 0;
  for (int64_t c : by_state) n += c;
  return n;
}

Status check_free_text(const char* field, const std::string& text, size_t max_bytes,
                       bool required) {
  return check_text(field, text, max_bytes, required);
}

Status check_acting_user(const Actor& actor) { return check_actor(actor); }

std::string format_score(int64_t score_e4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%04lld", static_cast<long long>(score_e4 / 10'000),
                static_cast<long long>(score_e4 % 10'000));
  return buf;
}

// ---- criteria ----

Status Applications::set_criteria(const Actor& actor, SchemeId scheme,
                                  const std::vector<Criterion>& criteria, int64_t now_ms) {
  BERTH_RETURN_IF_ERROR(check_actor(actor));
  if (actor.role != FundingRole::kReviewer)
    return Status::Denied("only a reviewer may set a scheme's review criteria; " + who_is(actor));
  if (!scheme.valid()) return Status::Invalid("scheme id must be set");
  if (criteria.empty() || criteria.size() > static_cast<size_t>(kMaxCriteria))
    return Status::Invalid("a scheme needs 1 to " + num(kMaxCriteria) + " review criteria, got " +
                           num(static_cast<int64_t>(criteria.size())));
  std::set<std::string> names;
  int64_t total_bps = 0;
  for (const Criterion& c : criteria) {
    BERTH_RETURN_IF_ERROR(validate_name("criterion", c.name));
    if (!names.insert(c.name).second)
      return Status::Invalid("criterion '" + c.name + "' is listed twice");
    if (c.weight_bps <= 0 || c.weight_bps > kWeightTotalBps)
      return Status::Invalid("criterion '" + c.name +
                             "' weight must be 1 to 10000 basis points, got " + num(c.weight_bps));
    total_bps += c.weight_bps;
  }
  if (total_bps != kWeightTotalBps)
    return Status::Invalid("criteria weights must sum to 10000 basis points, got " +
                           num(total_bps));
  auto reviewed = reviewed_in_scheme_.find(scheme.value);
  if (reviewed != reviewed_in_scheme_.end() && reviewed->second > 0)
    return Status::Conflict(scheme_name(scheme) + " has " + num(reviewed->second) +
                            " reviewed applications; its criteria can no longer change");

  criteria_[scheme.value] = criteria;
  std::string note;
  for (const Criterion& c : criteria)
    note += (note.empty() ? "" : ", ") + c.name + " " + num(c.weight_bps) + " bps";
  record(ApplicationId(), scheme, actor.user, ApplicationAction::kCriteriaSet, now_ms,
         std::move(note));
  return Status::Ok();
}

const std::vector<Criterion>& Applications::criteria(SchemeId scheme) const {
  static const std::vector<Criterion> kNone;
  auto it = criteria_.find(scheme.value);
  return it == criteria_.end() ? kNone : it->second;
}

// ---- shared checks ----

Status Applications::find_for(const Actor& actor, ApplicationId id, const char* what,
                              const Application** out) const {
  BERTH_RETURN_IF_ERROR(check_actor(actor));
  const Application* app = get(id);
  if (!app) return Status::NotFound(app_name(id) + " not found; cannot " + what + " it");
  *out = app;
  return Status::Ok();
}

Status Applications::check_member_of(const Actor& actor, const Application& app,
                                     const char* what) const {
  if (actor.role != FundingRole::kMember)
    return Status::Denied("only a member of the applying organisation may " + std::string(what) +
                          " " + app_name(app.id) + "; " + who_is(actor));
  if (actor.org != app.org)
    return Status::Denied(app_name(app.id) + " belongs to organisation " +
                          num(static_cast<int64_t>(app.org.value)) + "; " + actor.user +
                          " of organisation " + num(static_cast<int64_t>(actor.org.value)) +
                          " may not " + what + " it");
  return Status::Ok();
}

Status Applications::check_reviewer_of(const Actor& actor, const Application& app,
                                       const char* what) const {
  if (actor.role != FundingRole::kReviewer)
    return Status::Denied("only a reviewer may " + std::string(what) + " " + app_name(app.id) +
                          "; " + who_is(actor));
  // Nobody judges their own application.
  if (actor.user == app.created_by || actor.user == app.submitted_by)
    return Status::Denied(actor.user + " drafted or submitted " + app_name(app.id) +
                          " and may not " + what + " it");
  return Status::Ok();
}

Status Applications::check_room(const Application& app) const {
  auto it = events_of_.find(app.id.value);
  if (it != events_of_.end() && it->second >= kMaxEventsPerApplication)
    return Status::Conflict(app_name(app.id) + " has reached its limit of " +
                            num(kMaxEventsPerApplication) + " recorded steps");
  return Status::Ok();
}

namespace {
Status wrong_state(const Application& app, const char* what, const char* allowed) {
  std::string m = app_name(app.id) + " is " + application_state_name(app.state);
  if (is_decided(app.state))
    m += " (by " + app.decided_by + " at " + format_time_ms(app.decided_ms) + ")";
  return Status::Conflict(m + "; only " + allowed + " application can be " + what);
}
}  // namespace

// ---- commands ----

Result<ApplicationId> Applications::draft(const Actor& actor, SchemeId scheme, ProjectId project,
                                          const Applicant& applicant, const SchemeRules& rules,
                                          const ApplicationTerms& terms, int64_t now_ms) {
  BERTH_RETURN_IF_ERROR(check_actor(actor));
  if (actor.role != FundingRole::kMember)
    return Status::Denied("only a member of the applying organisation may draft an application; " +
                          who_is(actor));
  if (!scheme.valid()) return Status::Invalid("scheme id must be set");
  if (!project.valid()) return Status::Invalid("project id must be set");
  if (!applicant.org.valid()) return Status::Invalid("the project's organisation must be set");
  if (actor.org != applicant.org)
    return Status::Denied(
        "project " + num(static_cast<int64_t>(project.value)) + " belongs to organisation " +
        num(static_cast<int64_t>(applicant.org.value)) + "; " + actor.user + " of organisation " +
        num(static_cast<int64_t>(actor.org.value)) + " may not apply for it");
  BERTH_RETURN_IF_ERROR(check_window(scheme, applicant, rules, /*submitting=*/false, now_ms));
  BERTH_RETURN_IF_ERROR(check_terms(terms, rules));
  int open = 0;
  for (ApplicationId id : of_project(project))
    if (!is_decided(get(id)->state)) ++open;
  if (open >= kMaxOpenApplicationsPerProject)
    return Status::Conflict("project " + num(static_cast<int64_t>(project.value)) +
                            " already has " + num(open) +
                            " open applications; withdraw or finish some first");

  Application app;
  app.id = ApplicationId(apps_.size() + 1);
  app.scheme = scheme;
  app.project = project;
  app.org = applicant.org;
  app.terms = terms;
  app.created_ms = now_ms;
  app.created_by = actor.user;
  app.updated_ms = now_ms;
  apps_.push_back(std::move(app));
  const Application& added = apps_.back();
  by_project_[project.value].push_back(added.id);
  by_scheme_[scheme.value].push_back(added.id);
  record(added, actor, ApplicationAction::kDrafted, now_ms, describe(terms));
  return added.id;
}

Status Applications::update(const Actor& actor, ApplicationId id, const SchemeRules& rules,
                            const ApplicationTerms& terms, int64_t now_ms) {
  const Application* app = nullptr;
  BERTH_RETURN_IF_ERROR(find_for(actor, id, "update", &app));
  BERTH_RETURN_IF_ERROR(check_member_of(actor, *app, "update"));
  if (app->state != ApplicationState::kDraft) return wrong_state(*app, "updated", "a draft");
  BERTH_RETURN_IF_ERROR(check_room(*app));
  BERTH_RETURN_IF_ERROR(check_rules(rules));
  BERTH_RETURN_IF_ERROR(check_terms(terms, rules));

  Application* a = find(id);
  a->terms = terms;
  a->updated_ms = now_ms;
  record(*a, actor, ApplicationAction::kUpdated, now_ms, describe(terms));
  return Status::Ok();
}

Status Applications::submit(const Actor& actor, ApplicationId id, const Applicant& applicant,
                            const SchemeRules& rules, int64_t now_ms) {
  const Application* app = nullptr;
  BERTH_RETURN_IF_ERROR(find_for(actor, id, "submit", &app));
  BERTH_RETURN_IF_ERROR(check_member_of(actor, *app, "submit"));
  if (app->state != ApplicationState::kDraft) return wrong_state(*app, "submitted", "a draft");
  if (applicant.org != app->org)
    return Status::Invalid("the applicant given is organisation " +
                           num(static_cast<int64_t>(applicant.org.value)) + " but " + app_name(id) +
                           " is organisation " + num(static_cast<int64_t>(app->org.value)) + "'s");
  BERTH_RETURN_IF_ERROR(check_window(app->scheme, applicant, rules, /*submitting=*/true, now_ms));
  BERTH_RETURN_IF_ERROR(check_terms(app->terms, rules));  // the cap may have changed since drafting

  Application* a = find(id);
  a->state = ApplicationState::kSubmitted;
  a->submitted_ms = now_ms;
  a->submitted_by = actor.user;
  a->updated_ms = now_ms;
  record(*a, actor, ApplicationAction::kSubmitted, now_ms, describe(a->terms));
  return Status::Ok();
}

Status Applications::check_review(const Actor& actor, ApplicationId id,
                                  const std::vector<CriterionScore>& scores,
                                  const std::string& comment, std::vector<int>* ordered) const {
  const Application* app = nullptr;
  BERTH_RETURN_IF_ERROR(find_for(actor, id, "review", &app));
  BERTH_RETURN_IF_ERROR(check_reviewer_of(actor, *app, "review"));
  if (app->state != ApplicationState::kSubmitted)
    return wrong_state(*app, "reviewed", "a submitted");
  BERTH_RETURN_IF_ERROR(check_room(*app));
  const std::vector<Criterion>& crit = criteria(app->scheme);
  if (crit.empty())
    return Status::Conflict(scheme_name(app->scheme) +
                            " has no review criteria; a reviewer must set them first");
  ordered->assign(crit.size(), -1);
  for (const CriterionScore& s : scores) {
    size_t i = 0;
    while (i < crit.size() && crit[i].name != s.criterion) ++i;
    if (i == crit.size())
      return Status::Invalid("'" + s.criterion + "' is not a criterion of " +
                             scheme_name(app->scheme));
    if ((*ordered)[i] >= 0)
      return Status::Invalid("criterion '" + s.criterion + "' is scored twice");
    if (s.score < 0 || s.score > kMaxScore)
      return Status::Invalid("score for '" + s.criterion + "' must be 0 to " + num(kMaxScore) +
                             ", got " + num(s.score));
    (*ordered)[i] = s.score;
  }
  for (size_t i = 0; i < crit.size(); ++i)
    if ((*ordered)[i] < 0) return Status::Invalid("criterion '" + crit[i].name + "' is not scored");
  BERTH_RETURN_IF_ERROR(check_text("review comment", comment, kMaxReasonBytes, false));
  const bool again = std::any_of(app->reviews.begin(), app->reviews.end(),
                                 [&](const Review& r) { return r.reviewer == actor.user; });
  if (!again && app->reviews.size() >= static_cast<size_t>(kMaxReviewsPerApplication))
    return Status::Conflict(app_name(id) + " already has " + num(kMaxReviewsPerApplication) +
                            " reviewers");
  return Status::Ok();
}

Status Applications::review(const Actor& actor, ApplicationId id,
                            const std::vector<CriterionScore>& scores, const std::string& comment,
                            int64_t now_ms) {
  std::vector<int> ordered;
  BERTH_RETURN_IF_ERROR(check_review(actor, id, scores, comment, &ordered));

  Application* a = find(id);
  const std::vector<Criterion>& crit = criteria(a->scheme);
  Review r;
  r.reviewer = actor.user;
  r.scores = ordered;
  r.comment = comment;
  r.at_ms = now_ms;
  std::string note;
  for (size_t i = 0; i < crit.size(); ++i) {
    r.weighted_score_e4 += static_cast<int64_t>(ordered[i]) * crit[i].weight_bps;
    note += (i ? ", " : " (") + crit[i].name + " " + num(ordered[i]);
  }
  note = "weighted score " + format_score(r.weighted_score_e4) + note + ")";
  auto same = std::find_if(a->reviews.begin(), a->reviews.end(),
                           [&](const Review& x) { return x.reviewer == actor.user; });
  if (same != a->reviews.end()) {
    *same = std::move(r);
    note = "revised: " + note;
  } else {
    if (a->reviews.empty()) ++reviewed_in_scheme_[a->scheme.value];
    a->reviews.push_back(std::move(r));
  }
  int64_t sum_e4 = 0;
  for (const Review& x : a->reviews) sum_e4 += x.weighted_score_e4;
  a->weighted_score_e4 = sum_e4 / static_cast<int64_t>(a->reviews.size());
  a->updated_ms = now_ms;
  record(*a, actor, ApplicationAction::kReviewed, now_ms, with_note(std::move(note), comment));
  return Status::Ok();
}

Status Applications::check_approve(const Actor& actor, ApplicationId id, const ApprovalTerms& terms,
                                   Minor fund_left_minor) const {
  const Application* app = nullptr;
  BERTH_RETURN_IF_ERROR(find_for(actor, id, "approve", &app));
  BERTH_RETURN_IF_ERROR(check_reviewer_of(actor, *app, "approve"));
  if (app->state != ApplicationState::kSubmitted)
    return wrong_state(*app, "approved", "a submitted");
  if (app->reviews.empty())
    return Status::Conflict(app_name(id) + " has not been reviewed; score it before deciding");
  const ApplicationTerms& asked = app->terms;
  if (terms.amount_minor <= 0)
    return Status::Invalid("approved amount must be positive, got " +
                           format_amount(terms.amount_minor));
  if (terms.amount_minor > asked.amount_minor)
    return Status::Invalid("approved amount " + format_amount(terms.amount_minor) +
                           " exceeds the " + format_amount(asked.amount_minor) + " requested");
  if (terms.gpu_level < 0 || terms.gpu_level > asked.gpu_level)
    return Status::Invalid("approved GPU level must be 1 to the " + num(asked.gpu_level) +
                           " requested (0: as requested), got " + num(terms.gpu_level));
  if (terms.duration_days < 0 || terms.duration_days > asked.duration_days)
    return Status::Invalid("approved duration must be 1 to the " + num(asked.duration_days) +
                           " days requested (0: as requested), got " + num(terms.duration_days));
  BERTH_RETURN_IF_ERROR(check_text("approval note", terms.note, kMaxReasonBytes, false));
  if (terms.amount_minor > fund_left_minor)
    return Status::Funds(scheme_name(app->scheme) + "'s fund has " +
                         format_amount(std::max<Minor>(fund_left_minor, 0)) +
                         " left; cannot approve " + format_amount(terms.amount_minor) + " for " +
                         app_name(id));
  return Status::Ok();
}

Status Applications::approve(const Actor& actor, ApplicationId id, const ApprovalTerms& terms,
                             Minor fund_left_minor, int64_t now_ms) {
  BERTH_RETURN_IF_ERROR(check_approve(actor, id, terms, fund_left_minor));

  Application* a = find(id);
  a->state = ApplicationState::kApproved;
  a->decided_ms = now_ms;
  a->decided_by = actor.user;
  a->updated_ms = now_ms;
  a->approved_minor = terms.amount_minor;
  a->approved_gpu_level = terms.gpu_level > 0 ? terms.gpu_level : a->terms.gpu_level;
  a->approved_duration_days =
      terms.duration_days > 0 ? terms.duration_days : a->terms.duration_days;
  a->approved_rate_bps = terms.rate_bps;
  std::string note = "granted " + format_amount(a->approved_minor) + " of " +
                     format_amount(a->terms.amount_minor) + " for " + num(a->approved_gpu_level) +
                     " GPUs over " + num(a->approved_duration_days) + " days";
  if (terms.rate_bps > 0) note += " at " + num(terms.rate_bps) + " bps";
  note += "; weighted score " + format_score(a->weighted_score_e4);
  record(*a, actor, ApplicationAction::kApproved, now_ms, with_note(std::move(note), terms.note));
  return Status::Ok();
}

Status Applications::reject(const Actor& actor, ApplicationId id, const std::string& reason,
                            int64_t now_ms) {
  const Application* app = nullptr;
  BERTH_RETURN_IF_ERROR(find_for(actor, id, "reject", &app));
  BERTH_RETURN_IF_ERROR(check_reviewer_of(actor, *app, "reject"));
  if (app->state != ApplicationState::kSubmitted)
    return wrong_state(*app, "rejected", "a submitted");
  BERTH_RETURN_IF_ERROR(check_text("rejection reason", reason, kMaxReasonBytes, true));

  Application* a = find(id);
  a->state = ApplicationState::kRejected;
  a->decided_ms = now_ms;
  a->decided_by = actor.user;
  a->updated_ms = now_ms;
  a->rejection_reason = reason;
  record(*a, actor, ApplicationAction::kRejected, now_ms, reason);
  return Status::Ok();
}

Status Applications::withdraw(const Actor& actor, ApplicationId id, const std::string& note,
                              int64_t now_ms) {
  const Application* app = nullptr;
  BERTH_RETURN_IF_ERROR(find_for(actor, id, "withdraw", &app));
  BERTH_RETURN_IF_ERROR(check_member_of(actor, *app, "withdraw"));
  if (is_decided(app->state)) return wrong_state(*app, "withdrawn", "a draft or a submitted");
  BERTH_RETURN_IF_ERROR(check_text("withdrawal note", note, kMaxReasonBytes, false));

  Application* a = find(id);
  const ApplicationState was = a->state;
  a->state = ApplicationState::kWithdrawn;
  a->decided_ms = now_ms;
  a->decided_by = actor.user;
  a->updated_ms = now_ms;
  a->withdrawal_note = note;
  record(*a, actor, ApplicationAction::kWithdrawn, now_ms,
         with_note(std::string("withdrawn while ") + application_state_name(was), note));
  return Status::Ok();
}

Status Applications::record_award(ApplicationId id, AwardId award, int64_t now_ms) {
  const Application* app = get(id);
  if (!app) return Status::NotFound(app_name(id) + " not found; cannot record its award");
  if (!award.valid()) return Status::Invalid("award id must be set");
  if (app->state != ApplicationState::kApproved) return wrong_state(*app, "awarded", "an approved");
  if (app->award == award) return Status::Ok();  // a replay: already recorded
  if (app->award.valid())
    return Status::Conflict(app_name(id) + " already has award " +
                            num(static_cast<int64_t>(app->award.value)) + "; cannot record award " +
                            num(static_cast<int64_t>(award.value)));

  Application* a = find(id);
  a->award = award;
  a->updated_ms = now_ms;
  record(id, a->scheme, kEngineUser, ApplicationAction::kAwarded, now_ms,
         "award " + num(static_cast<int64_t>(award.value)) + " holds " +
             format_amount(a->approved_minor));
  return Status::Ok();
}

// ---- queries ----

Application* Applications::find(ApplicationId id) {
  BERTH_CHECK(id.value >= 1 && id.value <= apps_.size(), "application looked up after its checks");
  return &apps_[id.value - 1];
}

const Application* Applications::get(ApplicationId id) const {
  if (id.value == 0 || id.value > apps_.size()) return nullptr;
  return &apps_[id.value - 1];
}

std::vector<ApplicationId> Applications::of_project(ProjectId project) const {
  auto it = by_project_.find(project.value);
  return it == by_project_.end() ? std::vector<ApplicationId>() : it->second;
}

std::vector<ApplicationId> Applications::of_scheme(SchemeId scheme) const {
  auto it = by_scheme_.find(scheme.value);
  return it == by_scheme_.end() ? std::vector<ApplicationId>() : it->second;
}

std::vector<ApplicationId> Applications::in_state(ApplicationState state) const {
  std::vector<ApplicationId> ids;
  for (const Application& a : apps_)
    if (a.state == state) ids.push_back(a.id);
  return ids;
}

ApplicationCounts Applications::counts(SchemeId scheme) const {
  ApplicationCounts c;
  auto it = by_scheme_.find(scheme.value);
  if (it == by_scheme_.end()) return c;
  for (ApplicationId id : it->second) ++c.by_state[static_cast<int>(get(id)->state)];
  return c;
}

std::vector<ApplicationEvent> Applications::events_since(size_t n) const {
  if (n >= events_.size()) return {};
  return std::vector<ApplicationEvent>(events_.begin() + static_cast<std::ptrdiff_t>(n),
                                       events_.end());
}

std::vector<ApplicationId> Applications::changed_since(size_t n) const {
  std::set<uint64_t> ids;
  for (size_t i = n; i < events_.size(); ++i)
    if (events_[i].application.valid()) ids.insert(events_[i].application.value);
  std::vector<ApplicationId> out;
  out.reserve(ids.size());
  for (uint64_t v : ids) out.emplace_back(v);
  return out;
}

// ---- history ----

void Applications::record(const Application& app, const Actor& actor, ApplicationAction action,
                          int64_t now_ms, std::string note) {
  record(app.id, app.scheme, actor.user, action, now_ms, std::move(note));
}

void Applications::record(ApplicationId app, SchemeId scheme, const std::string& user,
                          ApplicationAction action, int64_t now_ms, std::string note) {
  ApplicationEvent e;
  e.seq = events_.size() + 1;
  e.application = app;
  e.scheme = scheme;
  e.at_ms = now_ms;
  e.user = user;
  e.action = action;
  e.note = std::move(note);
  events_.push_back(std::move(e));
  if (app.valid()) ++events_of_[app.value];
}

Status Applications::restore(std::vector<Application> apps,
                             std::map<uint64_t, std::vector<Criterion>> criteria,
                             std::vector<ApplicationEvent> events) {
  Applications fresh;
  for (size_t i = 0; i < apps.size(); ++i) {
    const Application& a = apps[i];
    if (a.id.value != i + 1)
      return Status::Internal("application ids are not in sequence at " + app_name(a.id));
    fresh.by_project_[a.project.value].push_back(a.id);
    fresh.by_scheme_[a.scheme.value].push_back(a.id);
    if (!a.reviews.empty()) ++fresh.reviewed_in_scheme_[a.scheme.value];
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const ApplicationEvent& e = events[i];
    if (e.seq != i + 1)
      return Status::Internal("application events are not in sequence at " +
                              num(static_cast<int64_t>(e.seq)));
    if (e.application.valid()) {
      if (e.application.value > apps.size())
        return Status::Internal("application event " + num(static_cast<int64_t>(e.seq)) +
                                " names " + app_name(e.application) + ", which does not exist");
      ++fresh.events_of_[e.application.value];
    }
  }
  fresh.apps_ = std::move(apps);
  fresh.criteria_ = std::move(criteria);
  fresh.events_ = std::move(events);
  *this = std::move(fresh);
  return Status::Ok();
}

}  // namespace berth::core
