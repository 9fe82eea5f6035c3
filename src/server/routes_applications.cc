// The routes of funding applications and the criteria they are reviewed by (docs/funding.md).
// Who drafts, reviews and decides an application is the core's rule (core/applications.h),
// checked against the caller's actor once the application is found as the caller sees it.
#include <httplib.h>

#include <algorithm>
#include <optional>

#include "server/lookups.h"
#include "server/request_fields.h"
#include "server/routes.h"
#include "server/views.h"

namespace berth::server {

namespace {

using json = nlohmann::json;

Reply set_criteria(Call& call) {
  BERTH_ASSIGN_OR_REPLY(s, find_scheme(call.engine, json(call.param(1))));
  BERTH_ASSIGN_OR_REPLY(criteria, criteria_field(call.body));
  if (auto st = call.engine.set_criteria(actor_of(call.who), s->id, criteria, call.now_ms);
      !st.ok())
    return fail(st);
  return ok(criteria_json(call.engine.applications().criteria(s->id)), 201);
}

Reply get_criteria(Call& call) {
  BERTH_ASSIGN_OR_REPLY(s, find_scheme(call.engine, json(call.param(1))));
  return ok(criteria_json(call.engine.applications().criteria(s->id)));
}

Reply draft_application(Call& call) {
  if (!call.body.contains("scheme") || !call.body.contains("project"))
    return fail(Status::Invalid("fields 'scheme' and 'project' are required"));
  BERTH_ASSIGN_OR_REPLY(s, find_scheme(call.engine, call.body["scheme"]));
  BERTH_ASSIGN_OR_REPLY(p, find_project(call.engine, call.body["project"], call.who));
  BERTH_ASSIGN_OR_REPLY(terms, terms_field(call.body, nullptr));
  BERTH_ASSIGN_OR_REPLY(
      id, call.engine.draft_application(actor_of(call.who), s->id, p->id, terms, call.now_ms));
  return ok(application_json(call.engine, *call.engine.applications().get(id), true), 201);
}

Reply list_applications(Call& call) {
  const core::Scheme* scheme = nullptr;
  if (call.req.has_param("scheme")) {
    BERTH_ASSIGN_OR_REPLY(s, find_scheme(call.engine, json(call.req.get_param_value("scheme"))));
    scheme = s;
  }
  std::optional<core::ApplicationState> state;
  if (call.req.has_param("state")) {
    core::ApplicationState st;
    if (!core::parse_application_state(call.req.get_param_value("state"), &st))
      return fail(Status::Invalid("state must be " + core::kApplicationStateNames.choices() +
                                  ", got '" + call.req.get_param_value("state") + "'"));
    state = st;
  }
  json list = json::array();
  for (const core::Application& a : call.engine.applications().all()) {
    if (!sees_application(a, call.who)) continue;
    if (scheme && a.scheme != scheme->id) continue;
    if (state && a.state != *state) continue;
    list.push_back(application_json(call.engine, a, false));
  }
  return ok({{"applications", list}});
}

Reply get_application(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_application(call.engine, call.param(1), call.who));
  return ok(application_json(call.engine, *a, true));
}

Reply update_application(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_application(call.engine, call.param(1), call.who));
  BERTH_ASSIGN_OR_REPLY(terms, terms_field(call.body, &a->terms));
  if (auto st = call.engine.update_application(actor_of(call.who), a->id, terms, call.now_ms);
      !st.ok())
    return fail(st);
  return ok(application_json(call.engine, *call.engine.applications().get(a->id), true));
}

Reply submit_application(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_application(call.engine, call.param(1), call.who));
  if (auto st = call.engine.submit_application(actor_of(call.who), a->id, call.now_ms); !st.ok())
    return fail(st);
  return ok(application_json(call.engine, *call.engine.applications().get(a->id), true));
}

Reply withdraw_application(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_application(call.engine, call.param(1), call.who));
  BERTH_ASSIGN_OR_REPLY(note, str_field(call.body, "note", false));
  if (auto st = call.engine.withdraw_application(actor_of(call.who), a->id, note, call.now_ms);
      !st.ok())
    return fail(st);
  return ok(application_json(call.engine, *call.engine.applications().get(a->id), true));
}

Reply review_application(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_application(call.engine, call.param(1), call.who));
  if (!call.body.contains("scores") || !call.body["scores"].is_object())
    return fail(
        Status::Invalid("field 'scores' must be an object of criterion name to score 0..100"));
  std::vector<core::CriterionScore> scores;
  for (const auto& [name, v] : call.body["scores"].items()) {
    if (!v.is_number_integer())
      return fail(Status::Invalid("score of '" + name + "' must be an integer 0..100"));
    scores.push_back({name, static_cast<int>(std::clamp<int64_t>(v.get<int64_t>(), -1, 1000))});
  }
  BERTH_ASSIGN_OR_REPLY(comment, str_field(call.body, "comment", false));
  if (auto st =
          call.engine.review_application(actor_of(call.who), a->id, scores, comment, call.now_ms);
      !st.ok())
    return fail(st);
  return ok(application_json(call.engine, *call.engine.applications().get(a->id), true), 201);
}

Reply approve_application(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_application(call.engine, call.param(1), call.who));
  core::Approval approval;
  if (call.body.contains("amount") && !call.body["amount"].is_null()) {
    BERTH_ASSIGN_OR_REPLY(amount, amount_field(call.body, "amount"));
    if (amount <= 0) return fail(Status::Invalid("field 'amount' must be positive"));
    approval.amount_minor = amount;
  }
  BERTH_ASSIGN_OR_REPLY(level, int_field(call.body, "gpu_level", false));
  BERTH_ASSIGN_OR_REPLY(days, int_field(call.body, "duration_days", false));
  if (level < 0 || level > core::kMaxGpuLevel)
    return fail(Status::Invalid("field 'gpu_level' is out of range"));
  if (days < 0 || days > core::kMaxDurationDays)
    return fail(Status::Invalid("field 'duration_days' is out of range"));
  approval.gpu_level = static_cast<int>(level);
  approval.duration_days = static_cast<int>(days);
  if (call.body.contains("exceptional_rate") && !call.body["exceptional_rate"].is_null()) {
    if (!call.body["exceptional_rate"].is_boolean())
      return fail(Status::Invalid("field 'exceptional_rate' must be true or false"));
    approval.exceptional_rate = call.body["exceptional_rate"].get<bool>();
  }
  BERTH_ASSIGN_OR_REPLY(note, str_field(call.body, "note", false));
  approval.note = note;
  BERTH_ASSIGN_OR_REPLY(every, int_field(call.body, "report_every_months", false));
  BERTH_ASSIGN_OR_REPLY(grace, int_field(call.body, "report_grace_days", false));
  BERTH_ASSIGN_OR_REPLY(rule, report_rule(every, grace));
  approval.report_every_months = rule.first;
  approval.report_grace_days = rule.second;
  BERTH_ASSIGN_OR_REPLY(
      award, call.engine.approve_application(actor_of(call.who), a->id, approval, call.now_ms));
  return ok(
      {{"application", application_json(call.engine, *call.engine.applications().get(a->id), true)},
       {"award", award_json(call.engine, award, call.now_ms)}},
      201);
}

Reply reject_application(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_application(call.engine, call.param(1), call.who));
  BERTH_ASSIGN_OR_REPLY(reason, str_field(call.body, "reason", true));
  if (auto st = call.engine.reject_application(actor_of(call.who), a->id, reason, call.now_ms);
      !st.ok())
    return fail(st);
  return ok(application_json(call.engine, *call.engine.applications().get(a->id), true));
}

}  // namespace

std::vector<Route> application_routes() {
  return {
      {Method::kPost, "/v1/schemes/([^/]+)/criteria", Access::kAuthenticated, set_criteria},
      {Method::kGet, "/v1/schemes/([^/]+)/criteria", Access::kAuthenticated, get_criteria},
      {Method::kPost, "/v1/applications", Access::kAuthenticated, draft_application},
      {Method::kGet, "/v1/applications", Access::kAuthenticated, list_applications},
      {Method::kGet, "/v1/applications/([^/]+)", Access::kAuthenticated, get_application},
      {Method::kPost, "/v1/applications/([^/]+)/update", Access::kAuthenticated,
       update_application},
      {Method::kPost, "/v1/applications/([^/]+)/submit", Access::kAuthenticated,
       submit_application},
      {Method::kPost, "/v1/applications/([^/]+)/withdraw", Access::kAuthenticated,
       withdraw_application},
      {Method::kPost, "/v1/applications/([^/]+)/reviews", Access::kAuthenticated,
       review_application},
      {Method::kPost, "/v1/applications/([^/]+)/approve", Access::kAuthenticated,
       approve_application},
      {Method::kPost, "/v1/applications/([^/]+)/reject", Access::kAuthenticated,
       reject_application},
  };
}

}  // namespace berth::server
