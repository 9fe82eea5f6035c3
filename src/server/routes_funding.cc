// The routes of subsidy schemes, their awards, the awards' progress reports and the audit
// record (docs/funding.md, docs/api.md).
#include <httplib.h>

#include <algorithm>
#include <charconv>

#include "common/timefmt.h"
#include "core/statements.h"
#include "server/lookups.h"
#include "server/query_fields.h"
#include "server/request_fields.h"
#include "server/routes.h"
#include "server/statement_views.h"
#include "server/views.h"

namespace berth::server {

namespace {

using json = nlohmann::json;

Reply create_scheme(Call& call) {
  BERTH_ASSIGN_OR_REPLY(name, name_field(call.body, "name", true));
  BERTH_ASSIGN_OR_REPLY(rate, int_field(call.body, "rate_bps", true));
  uint32_t kinds = 0;
  if (!call.body.contains("eligible_kinds") || !call.body["eligible_kinds"].is_array())
    return fail(Status::Invalid("field 'eligible_kinds' must be a list such as [\"university\"]"));
  for (const auto& k : call.body["eligible_kinds"]) {
    core::OrgKind kind;
    if (!k.is_string() || !core::parse_org_kind(k.get<std::string>(), &kind))
      return fail(
          Status::Invalid("unknown organisation kind " + k.dump() + " in 'eligible_kinds'"));
    kinds |= 1u << static_cast<int>(kind);
  }
  BERTH_ASSIGN_OR_REPLY(shortfall_text, str_field(call.body, "shortfall", false, "wallet"));
  core::Shortfall shortfall;
  if (!core::parse_shortfall(shortfall_text, &shortfall))
    return fail(Status::Invalid("shortfall must be " + core::kShortfallNames.choices() + ", got '" +
                                shortfall_text + "'"));
  Minor fund = 0;
  if (call.body.contains("fund")) {
    BERTH_ASSIGN_OR_REPLY(f, amount_field(call.body, "fund"));
    fund = f;
  }
  core::SchemeSpec spec;
  spec.name = name;
  spec.rate_bps = rate;
  spec.eligible_kinds = kinds;
  spec.shortfall = shortfall;
  BERTH_ASSIGN_OR_REPLY(exceptional, int_field(call.body, "exceptional_rate_bps", false));
  spec.exceptional_rate_bps = exceptional;
  if (call.body.contains("cap_per_project") && !call.body["cap_per_project"].is_null()) {
    BERTH_ASSIGN_OR_REPLY(cap, amount_field(call.body, "cap_per_project"));
    spec.cap_per_project_minor = cap;
  }
  if (call.body.contains("window_open") && !call.body["window_open"].is_null()) {
    BERTH_ASSIGN_OR_REPLY(open, date_field(call.body, "window_open"));
    spec.window_open_ms = open;
  }
  if (call.body.contains("window_close") && !call.body["window_close"].is_null()) {
    BERTH_ASSIGN_OR_REPLY(close, date_field(call.body, "window_close"));
    spec.window_close_ms = close;
  }
  BERTH_ASSIGN_OR_REPLY(validity, int_field(call.body, "award_validity_days", false));
  if (validity < 0 || validity > 3650)
    return fail(Status::Invalid("field 'award_validity_days' must be 0 to 3650"));
  spec.award_validity_days = static_cast<int>(validity);
  BERTH_ASSIGN_OR_REPLY(s, call.engine.create_scheme(spec, fund, call.now_ms));
  return ok(scheme_json(call.engine, s), 201);
}

Reply fund_scheme(Call& call) {
  BERTH_ASSIGN_OR_REPLY(s, find_scheme(call.engine, json(call.param(1))));
  BERTH_ASSIGN_OR_REPLY(amount, amount_field(call.body, "amount"));
  if (auto st = call.engine.fund_scheme(s->id, amount, call.now_ms); !st.ok()) return fail(st);
  return ok(scheme_json(call.engine, *s), 201);
}

Reply list_schemes(Call& call) {
  json list = json::array();
  for (const core::Scheme& s : call.engine.funding().schemes())
    list.push_back(scheme_json(call.engine, s));
  return ok({{"schemes", list}});
}

// Aggregate, public figures: any authenticated caller may read them.
Reply scheme_report(Call& call) {
  BERTH_ASSIGN_OR_REPLY(s, find_scheme(call.engine, json(call.param(1))));
  int64_t from_ms = 0;
  if (call.req.has_param("from")) {
    auto from = parse_time_ms(call.req.get_param_value("from"));
    if (!from.ok())
      return fail(Status::Invalid("query parameter 'from': " + from.status().message()));
    from_ms = *from;
  }
  BERTH_ASSIGN_OR_REPLY(r, core::scheme_report(call.engine, s->id, call.now_ms, from_ms));
  json out = scheme_report_json(r);
  out["currency"] = call.daemon.config().currency;
  return ok(out);
}

Reply create_award(Call& call) {
  if (!call.body.contains("scheme") || !call.body.contains("project"))
    return fail(Status::Invalid("fields 'scheme' and 'project' are required"));
  BERTH_ASSIGN_OR_REPLY(s, find_scheme(call.engine, call.body["scheme"]));
  BERTH_ASSIGN_OR_REPLY(p, find_project(call.engine, call.body["project"], call.who));
  BERTH_ASSIGN_OR_REPLY(amount, amount_field(call.body, "amount"));
  BERTH_ASSIGN_OR_REPLY(level, int_field(call.body, "gpu_level", true));
  if (level < 1 || level > 1'000'000)
    return fail(Status::Invalid("field 'gpu_level' must be at least 1"));
  BERTH_ASSIGN_OR_REPLY(start, date_field(call.body, "start"));
  BERTH_ASSIGN_OR_REPLY(end, date_field(call.body, "end"));
  BERTH_ASSIGN_OR_REPLY(every, int_field(call.body, "report_every_months", false));
  BERTH_ASSIGN_OR_REPLY(grace, int_field(call.body, "report_grace_days", false));
  BERTH_ASSIGN_OR_REPLY(rule, report_rule(every, grace));
  BERTH_ASSIGN_OR_REPLY(
      a, call.engine.create_award(s->id, p->id, amount, static_cast<int>(level), start, end,
                                  call.now_ms, rule.first, rule.second));
  return ok(award_json(call.engine, a, call.now_ms), 201);
}

Reply list_awards(Call& call) {
  json list = json::array();
  for (const core::Award& a : call.engine.funding().awards())
    if (sees_award(call.engine, a, call.who))
      list.push_back(award_json(call.engine, a, call.now_ms));
  return ok({{"awards", list}});
}

Reply supplement_award(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_award(call.engine, call.param(1)));
  Minor amount = 0;
  if (call.body.contains("amount") && !call.body["amount"].is_null()) {
    BERTH_ASSIGN_OR_REPLY(m, amount_field(call.body, "amount"));
    amount = m;
  }
  int64_t end_ms = 0;
  if (call.body.contains("end") && !call.body["end"].is_null()) {
    BERTH_ASSIGN_OR_REPLY(e, date_field(call.body, "end"));
    end_ms = e;
  }
  BERTH_ASSIGN_OR_REPLY(note, str_field(call.body, "note", false));
  BERTH_ASSIGN_OR_REPLY(award,
                        call.engine.supplement_award(a->id, amount, end_ms, note, call.now_ms));
  return ok(award_json(call.engine, award, call.now_ms), 201);
}

Reply close_award(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_award(call.engine, call.param(1)));
  BERTH_ASSIGN_OR_REPLY(reason, str_field(call.body, "reason", true));
  BERTH_ASSIGN_OR_REPLY(award, call.engine.close_award(a->id, reason, call.now_ms));
  return ok(award_json(call.engine, award, call.now_ms));
}

Reply list_reports(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_visible_award(call.engine, call.param(1), call.who));
  return ok(reports_json(call.engine, *a, call.now_ms));
}

Reply submit_report(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_visible_award(call.engine, call.param(1), call.who));
  BERTH_ASSIGN_OR_REPLY(period, int_field(call.body, "period", true));
  if (period < 1 || period > core::kMaxReportPeriods)
    return fail(Status::Invalid("field 'period' is out of range"));
  BERTH_ASSIGN_OR_REPLY(text, str_field(call.body, "text", true));
  if (auto st = call.engine.submit_report(actor_of(call.who), a->id, static_cast<int>(period), text,
                                          call.now_ms);
      !st.ok())
    return fail(st);
  return ok(report_json(*call.engine.reports().get(a->id, static_cast<int>(period))), 201);
}

Reply decide_report(Call& call) {
  BERTH_ASSIGN_OR_REPLY(a, find_visible_award(call.engine, call.param(1), call.who));
  const std::string period_text = call.param(2);
  if (period_text.size() > 6)
    return fail(Status::Invalid("period '" + period_text + "' is out of range"));
  int period = 0;
  std::from_chars(period_text.data(), period_text.data() + period_text.size(),
                  period);  // [0-9]{1,6}
  Status st;
  if (call.param(3) == "accept") {
    st = call.engine.accept_report(actor_of(call.who), a->id, period, call.now_ms);
  } else {
    BERTH_ASSIGN_OR_REPLY(reason, str_field(call.body, "reason", true));
    st = call.engine.return_report(actor_of(call.who), a->id, period, reason, call.now_ms);
  }
  if (!st.ok()) return fail(st);
  return ok(report_json(*call.engine.reports().get(a->id, period)));
}

Reply read_audit(Call& call) {
  BERTH_ASSIGN_OR_REPLY(after, query_int(call.req, "after", 0));
  BERTH_ASSIGN_OR_REPLY(limit, query_int(call.req, "limit", 1000));
  if (limit < 1 || limit > 10'000)
    return fail(Status::Invalid("query parameter 'limit' must be 1 to 10000"));
  json list = json::array();
  const auto& audit = call.engine.audit();
  size_t i = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(after), audit.size()));
  for (; i < audit.size() && list.size() < static_cast<size_t>(limit); ++i)
    list.push_back(audit_json(audit[i]));
  return ok({{"audit", list}, {"next", i < audit.size() ? json(i) : json(nullptr)}});
}

}  // namespace

std::vector<Route> funding_routes() {
  return {
      {Method::kPost, "/v1/schemes", Access::kAdmin, create_scheme},
      {Method::kPost, "/v1/schemes/([^/]+)/fund", Access::kAdmin, fund_scheme},
      {Method::kGet, "/v1/schemes", Access::kAuthenticated, list_schemes},
      {Method::kGet, "/v1/schemes/([^/]+)/report", Access::kAuthenticated, scheme_report},
      {Method::kPost, "/v1/awards", Access::kAdmin, create_award},
      // Members list their own organisation's awards; reviewers and admins every one.
      {Method::kGet, "/v1/awards", Access::kAuthenticated, list_awards},
      {Method::kPost, "/v1/awards/([^/]+)/supplement", Access::kFundingReader, supplement_award,
       "only a reviewer or an admin may supplement an award"},
      {Method::kPost, "/v1/awards/([^/]+)/close", Access::kFundingReader, close_award,
       "only a reviewer or an admin may close an award"},
      // Progress reports: the project's members submit, reviewers (and the admin) decide; the
      // core checks those roles (core/progress.h) once the award is found as the caller sees it.
      {Method::kGet, "/v1/awards/([^/]+)/reports", Access::kAuthenticated, list_reports},
      {Method::kPost, "/v1/awards/([^/]+)/reports", Access::kAuthenticated, submit_report},
      {Method::kPost, "/v1/awards/([^/]+)/reports/([0-9]+)/(accept|return)", Access::kAuthenticated,
       decide_report},
      {Method::kGet, "/v1/audit", Access::kFundingReader, read_audit,
       "only a reviewer or an admin may read the audit record"},
  };
}

}  // namespace berth::server
