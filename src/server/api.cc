// The REST API (docs/api.md): authentication and parsing on the HTTP threads, everything
// that reads or changes state as Work on the core thread.
#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sys/stat.h>

#include "common/money.h"
#include "common/timefmt.h"
#include "core/check.h"
#include "core/statements.h"
#include "server/statement_views.h"
#include "server/daemon.h"
#include "server/launch_spec.h"
#include "server/request_fields.h"
#include "server/views.h"

namespace berth::server {

namespace {

using Handler = std::function<Reply(CoreContext&, const Principal&, const json& body, const httplib::Request&)>;

Reply ok(json body, int status = 200) { return {status, std::move(body)}; }
Reply fail(const Status& st) { return error_reply(st); }

#define TRY_ASSIGN(var, expr)                        \
  auto var##_r = (expr);                             \
  if (!var##_r.ok()) return fail(var##_r.status());  \
  auto var = std::move(*var##_r)

// An optional integer query parameter (?after=10).
Result<int64_t> query_int(const httplib::Request& req, const char* key, int64_t def) {
  if (!req.has_param(key)) return def;
  const std::string v = req.get_param_value(key);
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
    return Status::Invalid(std::string("query parameter '") + key + "' must be a whole number, got '" + v + "'");
  int64_t value = 0;
  std::from_chars(v.data(), v.data() + v.size(), value);  // at most 18 digits: always fits
  return value;
}

// ?job=12, or ?job=12_3 for a task of a job array (which must exist): the job's id, 0 when absent.
Result<int64_t> query_job_id(const core::Engine& e, const httplib::Request& req, const Principal& who) {
  if (!req.has_param("job") || req.get_param_value("job").find('_') == std::string::npos) return query_int(req, "job", 0);
  auto j = find_job(e, req.get_param_value("job"), who);
  if (!j.ok()) return j.status();
  return static_cast<int64_t>((*j)->id.value);
}

// An optional time query parameter (?since=2026-12-01 or ?since=2026-12-01T08:00:00Z), in ms.
Result<int64_t> query_time(const httplib::Request& req, const char* key, int64_t def) {
  if (!req.has_param(key)) return def;
  auto ms = parse_time_ms(req.get_param_value(key));
  if (!ms.ok()) return Status::Invalid(std::string("query parameter '") + key + "': " + ms.status().message());
  return ms;
}

// Whether a job was in the system at some moment of [since_ms, until_ms), as sacct's -S and -E
// select: submitted before `until_ms` and not ended before `since_ms`.
bool in_window(const core::Job& j, int64_t since_ms, int64_t until_ms) {
  return j.submit_ms < until_ms && (!core::is_final(j.state) || j.end_ms >= since_ms);
}

// A listing looks at no more than this many jobs or transfers per request, on the core thread:
// with filters that match little, it answers a partial page and a `next` cursor to continue.
constexpr size_t kScanPerRequest = 5000;

// ?limit= for a page of a listing: 1 to 1000, 100 when absent.
Result<int64_t> page_limit(const httplib::Request& req) {
  auto limit = query_int(req, "limit", 100);
  if (!limit.ok()) return limit;
  if (*limit < 1 || *limit > 1000)
    return Status::Invalid("query parameter 'limit' must be 1 to 1000, got " + std::to_string(*limit));
  return limit;
}

// A reply in another format than JSON (a statement's CSV or HTML page).
Reply text_reply(std::string text, const char* content_type) {
  Reply r;
  r.content_type = content_type;
  r.text = std::move(text);
  return r;
}

// ?month=YYYY-MM, the current UTC month when absent.
Result<MonthRange> month_param(const httplib::Request& req, int64_t now_ms) {
  if (!req.has_param("month")) return month_of_ms(now_ms);
  auto month = parse_month(req.get_param_value("month"));
  if (!month.ok()) return Status::Invalid("query parameter 'month': " + month.status().message());
  return month;
}

// The methods a path is served with ("GET, HEAD, POST"); empty when no route matches it.
std::string allowed_methods(const std::vector<std::pair<std::regex, std::string>>& routes, const std::string& path) {
  bool get = false, post = false;
  for (const auto& [pattern, method] : routes) {
    if (!std::regex_match(path, pattern)) continue;
    (method == "GET" ? get : post) = true;
  }
  std::string out = get ? "GET, HEAD" : "";
  if (post) out += out.empty() ? "POST" : ", POST";
  return out;
}

// Cancels, holds or releases the tasks of a job array (`tasks`, from find_jobs): `act` acts on
// one task and says whether it applied to it. When it applies to none, nothing has changed and
// the reply is 409 saying the array `none_applies`. Otherwise the array's first task, with
// `array_tasks`: every task it applied to, as it is now.
Reply act_on_array(CoreContext& c, const std::vector<const core::Job*>& tasks, const char* none_applies,
                   const std::function<bool(const core::Job&)>& act) {
  json acted = json::array();
  for (const core::Job* task : tasks)
    if (act(*task)) acted.push_back(job_json(c.engine, *task));
  if (acted.empty())
    return fail(Status::Conflict("job array " + std::to_string(tasks.front()->id.value) + " " + none_applies));
  json out = job_json(c.engine, *tasks.front());
  out["array_tasks"] = std::move(acted);
  return ok(out);
}

}  // namespace

void Daemon::install_routes(httplib::Server& srv) {
  srv.set_payload_max_length(config_.http.max_body_bytes);
  // Every route's path and method: a known path asked with another method is 405, with Allow.
  auto known = std::make_shared<std::vector<std::pair<std::regex, std::string>>>();
  auto record = [known](const char* path, const char* method) { known->emplace_back(std::regex(path), method); };
  srv.set_error_handler([known, max_body = config_.http.max_body_bytes](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      const std::string allow = allowed_methods(*known, req.path);
      if (!allow.empty()) {
        res.status = 405;
        res.set_header("Allow", allow);
        const json body = {{"error", {{"code", "method_not_allowed"},
                                      {"message", req.method + " is not allowed on " + req.path + "; allowed: " + allow}}}};
        return res.set_content(body.dump(), "application/json");
      }
    }
    Status st(Code::kNotFound, "no such endpoint");
    if (res.status == 413) st = Status(Code::kPayloadTooLarge, "request body is larger than " + std::to_string(max_body) + " bytes");
    else if (res.status == 400) st = Status::Invalid("malformed HTTP request");
    else if (res.status != 404) st = Status(Code::kInternal, "HTTP error " + std::to_string(res.status));
    res.set_content(error_reply(st).body.dump(), "application/json");
  });
  srv.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(error_reply(Status::Internal("internal error")).body.dump(), "application/json");
  });

  // Wraps a handler: authenticate, parse the body, run on the core thread, reply as JSON.
  // `prepare`, when given, runs on the HTTP thread with the parsed body before the work is
  // queued: file-system work that must not hold up the core thread (storing a job's script).
  using Prepare = std::function<Status(const json& body)>;
  auto route = [this](Handler h, bool needs_body, Prepare prepare = nullptr) {
    return [this, h, needs_body, prepare](const httplib::Request& req, httplib::Response& res) {
      auto send = [&res](const Reply& r) {
        res.status = r.status;
        if (!r.content_type.empty()) return res.set_content(r.text, r.content_type);
        res.set_content(r.render ? r.render() : r.body.dump(), "application/json");
      };
      const std::string auth = req.get_header_value("Authorization");
      if (auth.rfind("Bearer ", 0) != 0) return send(fail(Status::Unauthenticated("missing bearer token")));
      const auto who = tokens_.find_token(auth.substr(7), now_ms());
      if (!who.ok()) return send(fail(who.status()));  // unknown, revoked or expired, and which
      json body = json::object();
      if (needs_body) {
        if (req.body.size() > config_.http.max_body_bytes)
          return send(fail(Status(Code::kPayloadTooLarge,
                                  "request body is larger than " + std::to_string(config_.http.max_body_bytes) + " bytes")));
        body = json::parse(req.body, nullptr, false);
        if (body.is_discarded()) return send(fail(Status::Invalid("request body is not valid JSON")));
        if (!body.is_object()) return send(fail(Status::Invalid("request body must be a JSON object")));
      }
      if (prepare) {
        if (const Status st = prepare(body); !st.ok()) return send(fail(st));
      }
      const Principal principal = *who;
      send(call([&](CoreContext& ctx) {
        ctx.engine.set_actor(principal.user);  // the audit record names who acted
        Reply r = h(ctx, principal, body, req);
        ctx.engine.set_actor("system");
        return r;
      }));
    };
  };
  auto get = [&](const char* path, Handler h) {
    record(path, "GET");
    srv.Get(path, route(std::move(h), false));
  };
  auto post = [&](const char* path, Handler h) {
    record(path, "POST");
    srv.Post(path, route(std::move(h), true));
  };

  record("/v1/health", "GET");
  srv.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
    const json centre = {{"name", config_.centre.name}, {"address", config_.centre.address}};
    res.set_content(json{{"status", "ok"}, {"currency", config_.currency}, {"currency_symbol", currency_shown(config_)},
                         {"centre", centre}, {"version", "0.1.0"}}.dump(),
                    "application/json");
  });

  // A backup is copied on this HTTP thread from a connection of its own, never on the core
  // thread, so berthd goes on committing while it is made (backup.cc).
  record("/v1/admin/backup", "GET");
  srv.Get("/v1/admin/backup", [this](const httplib::Request& req, httplib::Response& res) { serve_backup(req, res); });

  get("/v1/whoami", [](CoreContext& c, const Principal& who, const json&, const httplib::Request&) {
    json out = {{"user", who.user}, {"role", role_name(who.role)}, {"token_id", who.token_id}};
    if (!who.unix_user.empty()) out["unix_user"] = who.unix_user;
    if (const core::Org* o = c.engine.funding().org(who.org)) {
      out["org_id"] = o->id.value;
      out["org"] = o->name;
    }
    return ok(out);
  });

  post("/v1/tokens", [this](CoreContext& c, const Principal& who, const json& b, const httplib::Request&) {
    return create_token(c, who, b);
  });
  get("/v1/tokens", [this](CoreContext& c, const Principal& who, const json&, const httplib::Request&) {
    return list_tokens(c, who);
  });
  post("/v1/tokens/([^/]+)/revoke", [this](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    return revoke_token(c, who, req.matches[1].str());
  });
  post("/v1/tokens/rotate-admin", [this](CoreContext& c, const Principal& who, const json&, const httplib::Request&) {
    return rotate_admin_token(c, who);
  });

  post("/v1/orgs", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request&) {
    if (auto st = need_admin(who); !st.ok()) return fail(st);
    TRY_ASSIGN(name, name_field(b, "name", true));
    TRY_ASSIGN(kind_text, str_field(b, "kind", false, "other"));
    core::OrgKind kind;
    if (!core::parse_org_kind(kind_text, &kind))
      return fail(Status::Invalid("kind must be startup, enterprise, university, institute or other, got '" + kind_text + "'"));
    TRY_ASSIGN(registration, registration_fields(b));
    TRY_ASSIGN(org, c.engine.create_org(name, kind, registration, c.now_ms));
    return ok(org_json(org), 201);
  });
  get("/v1/orgs", [](CoreContext& c, const Principal& who, const json&, const httplib::Request&) {
    json list = json::array();
    for (const core::Org& o : c.engine.funding().orgs())
      if (who.sees(o.id)) list.push_back(org_json(o));
    return ok({{"orgs", list}});
  });
  // A member reads their own organisation only (others are 404, as for projects).
  get("/v1/orgs/([^/]+)", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    TRY_ASSIGN(org, find_org(c.engine, json(req.matches[1].str()), who));
    return ok(org_json(*org));
  });
  post("/v1/orgs/([^/]+)/update", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    if (auto st = need_admin(who); !st.ok()) return fail(st);
    TRY_ASSIGN(org, find_org(c.engine, json(req.matches[1].str()), who));
    TRY_ASSIGN(change, registration_fields(b));
    TRY_ASSIGN(note, str_field(b, "note", false));
    TRY_ASSIGN(updated, c.engine.update_org(org->id, change, note, c.now_ms));
    return ok(org_json(updated));
  });

  post("/v1/projects", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request&) {
    if (auto st = need_admin(who); !st.ok()) return fail(st);
    TRY_ASSIGN(name, name_field(b, "name", true));
    if (!b.contains("org")) return fail(Status::Invalid("field 'org' is required"));
    TRY_ASSIGN(org, find_org(c.engine, b["org"], who));
    TRY_ASSIGN(p, c.engine.create_project(org->id, name, c.now_ms));
    return ok(project_json(c.engine, p), 201);
  });
  get("/v1/projects", [](CoreContext& c, const Principal& who, const json&, const httplib::Request&) {
    json list = json::array();
    for (const core::Project& p : c.engine.funding().projects())
      if (who.sees(p.org)) list.push_back(project_json(c.engine, p));
    return ok({{"projects", list}});
  });
  post("/v1/projects/([^/]+)/topups", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    if (who.reviewer()) return fail(Status::Denied("a reviewer cannot move wallet money"));
    TRY_ASSIGN(p, find_project(c.engine, json(req.matches[1].str()), who));
    TRY_ASSIGN(amount, amount_field(b, "amount"));
    TRY_ASSIGN(reference, str_field(b, "reference", false));
    // An Idempotency-Key header serves as the payment reference when the body gives none.
    const std::string key = req.get_header_value("Idempotency-Key");
    if (!key.empty() && !reference.empty() && key != reference)
      return fail(Status::Invalid("the Idempotency-Key header and field 'reference' differ; give one or make them equal"));
    if (reference.empty()) reference = key;
    bool replayed = false;
    TRY_ASSIGN(t, c.engine.top_up(p->id, amount, reference, c.now_ms, &replayed));
    const core::Account* w = c.engine.ledger().account(p->wallet);
    return ok({{"transfer_id", t.transfer.value}, {"project_id", p->id.value}, {"amount", format_amount(t.amount_minor)},
               {"reference", t.reference}, {"wallet_balance", format_amount(w->balance())}, {"replayed", replayed}},
              replayed ? 200 : 201);
  });
  post("/v1/projects/([^/]+)/funding-order", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    if (who.reviewer()) return fail(Status::Denied("a reviewer does not choose how a project pays"));
    TRY_ASSIGN(p, find_project(c.engine, json(req.matches[1].str()), who));
    if (!b.contains("awards") || !b["awards"].is_array())
      return fail(Status::Invalid("field 'awards' must be a list of award ids, the first paying first"));
    std::vector<AwardId> order;
    for (const json& id : b["awards"]) {
      if (!id.is_number_unsigned()) return fail(Status::Invalid("field 'awards' must hold award ids, got " + id.dump()));
      order.emplace_back(id.get<uint64_t>());
    }
    if (order.size() > 64) return fail(Status::Invalid("field 'awards' names at most 64 awards"));
    if (auto st = c.engine.set_funding_order(p->id, order, c.now_ms); !st.ok()) return fail(st);
    return ok(balance_json(c.engine, *p, c.now_ms));
  });
  get("/v1/projects/([^/]+)/balance", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    TRY_ASSIGN(p, find_project(c.engine, json(req.matches[1].str()), who));
    return ok(balance_json(c.engine, *p, c.now_ms));
  });
  get("/v1/projects/([^/]+)/statement", [this](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    TRY_ASSIGN(p, find_project(c.engine, json(req.matches[1].str()), who));
    TRY_ASSIGN(month, month_param(req, c.now_ms));
    const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
    if (format != "json" && format != "csv" && format != "html")
      return fail(Status::Invalid("query parameter 'format' must be json, csv or html, got '" + format + "'"));
    TRY_ASSIGN(st, core::project_statement(c.engine, p->id, month.from_ms, month.to_ms));
    if (format == "csv") return text_reply(statement_csv(st), "text/csv; charset=utf-8");
    if (format == "html") return text_reply(statement_html(st, config_), "text/html; charset=utf-8");
    json out = statement_json(st);
    out["month"] = format_month(month.from_ms);
    out["currency"] = config_.currency;
    return ok(out);
  });

  post("/v1/schemes", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request&) {
    if (auto st = need_admin(who); !st.ok()) return fail(st);
    TRY_ASSIGN(name, name_field(b, "name", true));
    TRY_ASSIGN(rate, int_field(b, "rate_bps", true));
    uint32_t kinds = 0;
    if (!b.contains("eligible_kinds") || !b["eligible_kinds"].is_array())
      return fail(Status::Invalid("field 'eligible_kinds' must be a list such as [\"university\"]"));
    for (const auto& k : b["eligible_kinds"]) {
      core::OrgKind kind;
      if (!k.is_string() || !core::parse_org_kind(k.get<std::string>(), &kind))
        return fail(Status::Invalid("unknown organisation kind " + k.dump() + " in 'eligible_kinds'"));
      kinds |= 1u << static_cast<int>(kind);
    }
    TRY_ASSIGN(shortfall_text, str_field(b, "shortfall", false, "wallet"));
    core::Shortfall shortfall;
    if (!core::parse_shortfall(shortfall_text, &shortfall))
      return fail(Status::Invalid("shortfall must be wallet or wait, got '" + shortfall_text + "'"));
    Minor fund = 0;
    if (b.contains("fund")) {
      TRY_ASSIGN(f, amount_field(b, "fund"));
      fund = f;
    }
    core::SchemeSpec spec;
    spec.name = name;
    spec.rate_bps = rate;
    spec.eligible_kinds = kinds;
    spec.shortfall = shortfall;
    TRY_ASSIGN(exceptional, int_field(b, "exceptional_rate_bps", false));
    spec.exceptional_rate_bps = exceptional;
    if (b.contains("cap_per_project") && !b["cap_per_project"].is_null()) {
      TRY_ASSIGN(cap, amount_field(b, "cap_per_project"));
      spec.cap_per_project_minor = cap;
    }
    if (b.contains("window_open") && !b["window_open"].is_null()) {
      TRY_ASSIGN(open, date_field(b, "window_open"));
      spec.window_open_ms = open;
    }
    if (b.contains("window_close") && !b["window_close"].is_null()) {
      TRY_ASSIGN(close, date_field(b, "window_close"));
      spec.window_close_ms = close;
    }
    TRY_ASSIGN(validity, int_field(b, "award_validity_days", false));
    if (validity < 0 || validity > 3650) return fail(Status::Invalid("field 'award_validity_days' must be 0 to 3650"));
    spec.award_validity_days = static_cast<int>(validity);
    TRY_ASSIGN(s, c.engine.create_scheme(spec, fund, c.now_ms));
    return ok(scheme_json(c.engine, s), 201);
  });
  post("/v1/schemes/([^/]+)/fund", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    if (auto st = need_admin(who); !st.ok()) return fail(st);
    TRY_ASSIGN(s, find_scheme(c.engine, json(req.matches[1].str())));
    TRY_ASSIGN(amount, amount_field(b, "amount"));
    if (auto st = c.engine.fund_scheme(s->id, amount, c.now_ms); !st.ok()) return fail(st);
    return ok(scheme_json(c.engine, *s), 201);
  });
  get("/v1/schemes", [](CoreContext& c, const Principal&, const json&, const httplib::Request&) {
    json list = json::array();
    for (const core::Scheme& s : c.engine.funding().schemes()) list.push_back(scheme_json(c.engine, s));
    return ok({{"schemes", list}});
  });

  // Aggregate, public figures: any authenticated caller may read them.
  get("/v1/schemes/([^/]+)/report", [this](CoreContext& c, const Principal&, const json&, const httplib::Request& req) {
    TRY_ASSIGN(s, find_scheme(c.engine, json(req.matches[1].str())));
    int64_t from_ms = 0;
    if (req.has_param("from")) {
      auto from = parse_time_ms(req.get_param_value("from"));
      if (!from.ok()) return fail(Status::Invalid("query parameter 'from': " + from.status().message()));
      from_ms = *from;
    }
    TRY_ASSIGN(r, core::scheme_report(c.engine, s->id, c.now_ms, from_ms));
    json out = scheme_report_json(r);
    out["currency"] = config_.currency;
    return ok(out);
  });

  post("/v1/awards", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request&) {
    if (auto st = need_admin(who); !st.ok()) return fail(st);
    if (!b.contains("scheme") || !b.contains("project"))
      return fail(Status::Invalid("fields 'scheme' and 'project' are required"));
    TRY_ASSIGN(s, find_scheme(c.engine, b["scheme"]));
    TRY_ASSIGN(p, find_project(c.engine, b["project"], who));
    TRY_ASSIGN(amount, amount_field(b, "amount"));
    TRY_ASSIGN(level, int_field(b, "gpu_level", true));
    if (level < 1 || level > 1'000'000) return fail(Status::Invalid("field 'gpu_level' must be at least 1"));
    TRY_ASSIGN(start, date_field(b, "start"));
    TRY_ASSIGN(end, date_field(b, "end"));
    TRY_ASSIGN(every, int_field(b, "report_every_months", false));
    TRY_ASSIGN(grace, int_field(b, "report_grace_days", false));
    TRY_ASSIGN(rule, report_rule(every, grace));
    TRY_ASSIGN(a, c.engine.create_award(s->id, p->id, amount, static_cast<int>(level), start, end, c.now_ms,
                                        rule.first, rule.second));
    return ok(award_json(c.engine, a, c.now_ms), 201);
  });
  get("/v1/awards", [](CoreContext& c, const Principal& who, const json&, const httplib::Request&) {
    json list = json::array();
    for (const core::Award& a : c.engine.funding().awards())
      if (who.reads_funding() || who.sees(c.engine.funding().project(a.project)->org))
        list.push_back(award_json(c.engine, a, c.now_ms));
    return ok({{"awards", list}});
  });

  post("/v1/awards/([^/]+)/supplement", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    if (!who.reads_funding()) return fail(Status::Denied("only a reviewer or an admin may supplement an award"));
    TRY_ASSIGN(a, find_award(c.engine, req.matches[1].str()));
    Minor amount = 0;
    if (b.contains("amount") && !b["amount"].is_null()) {
      TRY_ASSIGN(m, amount_field(b, "amount"));
      amount = m;
    }
    int64_t end_ms = 0;
    if (b.contains("end") && !b["end"].is_null()) {
      TRY_ASSIGN(e, date_field(b, "end"));
      end_ms = e;
    }
    TRY_ASSIGN(note, str_field(b, "note", false));
    TRY_ASSIGN(award, c.engine.supplement_award(a->id, amount, end_ms, note, c.now_ms));
    return ok(award_json(c.engine, award, c.now_ms), 201);
  });
  post("/v1/awards/([^/]+)/close", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    if (!who.reads_funding()) return fail(Status::Denied("only a reviewer or an admin may close an award"));
    TRY_ASSIGN(a, find_award(c.engine, req.matches[1].str()));
    TRY_ASSIGN(reason, str_field(b, "reason", true));
    TRY_ASSIGN(award, c.engine.close_award(a->id, reason, c.now_ms));
    return ok(award_json(c.engine, award, c.now_ms));
  });
  // ---- progress reports (docs/funding.md) ----
  get("/v1/awards/([^/]+)/reports", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    TRY_ASSIGN(a, find_visible_award(c.engine, req.matches[1].str(), who));
    return ok(reports_json(c.engine, *a, c.now_ms));
  });
  post("/v1/awards/([^/]+)/reports", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    TRY_ASSIGN(a, find_visible_award(c.engine, req.matches[1].str(), who));
    TRY_ASSIGN(period, int_field(b, "period", true));
    if (period < 1 || period > core::kMaxReportPeriods) return fail(Status::Invalid("field 'period' is out of range"));
    TRY_ASSIGN(text, str_field(b, "text", true));
    if (auto st = c.engine.submit_report(actor_of(who), a->id, static_cast<int>(period), text, c.now_ms); !st.ok())
      return fail(st);
    return ok(report_json(*c.engine.reports().get(a->id, static_cast<int>(period))), 201);
  });
  post("/v1/awards/([^/]+)/reports/([0-9]+)/(accept|return)",
       [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
         TRY_ASSIGN(a, find_visible_award(c.engine, req.matches[1].str(), who));
         const std::string period_text = req.matches[2].str();
         if (period_text.size() > 6) return fail(Status::Invalid("period '" + period_text + "' is out of range"));
         int period = 0;
         std::from_chars(period_text.data(), period_text.data() + period_text.size(), period);  // [0-9]{1,6}
         Status st;
         if (req.matches[3].str() == "accept") {
           st = c.engine.accept_report(actor_of(who), a->id, period, c.now_ms);
         } else {
           TRY_ASSIGN(reason, str_field(b, "reason", true));
           st = c.engine.return_report(actor_of(who), a->id, period, reason, c.now_ms);
         }
         if (!st.ok()) return fail(st);
         return ok(report_json(*c.engine.reports().get(a->id, period)));
       });
  get("/v1/audit", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    if (!who.reads_funding()) return fail(Status::Denied("only a reviewer or an admin may read the audit record"));
    TRY_ASSIGN(after, query_int(req, "after", 0));
    TRY_ASSIGN(limit, query_int(req, "limit", 1000));
    if (limit < 1 || limit > 10'000) return fail(Status::Invalid("query parameter 'limit' must be 1 to 10000"));
    json list = json::array();
    const auto& audit = c.engine.audit();
    size_t i = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(after), audit.size()));
    for (; i < audit.size() && list.size() < static_cast<size_t>(limit); ++i) list.push_back(audit_json(audit[i]));
    return ok({{"audit", list}, {"next", i < audit.size() ? json(i) : json(nullptr)}});
  });

  // ---- funding applications (docs/funding.md) ----
  post("/v1/schemes/([^/]+)/criteria", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    TRY_ASSIGN(s, find_scheme(c.engine, json(req.matches[1].str())));
    TRY_ASSIGN(criteria, criteria_field(b));
    if (auto st = c.engine.set_criteria(actor_of(who), s->id, criteria, c.now_ms); !st.ok()) return fail(st);
    return ok(criteria_json(c.engine.applications().criteria(s->id)), 201);
  });
  get("/v1/schemes/([^/]+)/criteria", [](CoreContext& c, const Principal&, const json&, const httplib::Request& req) {
    TRY_ASSIGN(s, find_scheme(c.engine, json(req.matches[1].str())));
    return ok(criteria_json(c.engine.applications().criteria(s->id)));
  });
  post("/v1/applications", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request&) {
    if (!b.contains("scheme") || !b.contains("project"))
      return fail(Status::Invalid("fields 'scheme' and 'project' are required"));
    TRY_ASSIGN(s, find_scheme(c.engine, b["scheme"]));
    TRY_ASSIGN(p, find_project(c.engine, b["project"], who));
    TRY_ASSIGN(terms, terms_field(b, nullptr));
    TRY_ASSIGN(id, c.engine.draft_application(actor_of(who), s->id, p->id, terms, c.now_ms));
    return ok(application_json(c.engine, *c.engine.applications().get(id), true), 201);
  });
  get("/v1/applications", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    const core::Scheme* scheme = nullptr;
    if (req.has_param("scheme")) {
      TRY_ASSIGN(s, find_scheme(c.engine, json(req.get_param_value("scheme"))));
      scheme = s;
    }
    std::optional<core::ApplicationState> state;
    if (req.has_param("state")) {
      core::ApplicationState st;
      if (!core::parse_application_state(req.get_param_value("state"), &st))
        return fail(Status::Invalid("state must be draft, submitted, approved, rejected or withdrawn, got '" +
                                    req.get_param_value("state") + "'"));
      state = st;
    }
    json list = json::array();
    for (const core::Application& a : c.engine.applications().all()) {
      if (!who.reads_funding() && !who.sees(a.org)) continue;
      if (scheme && a.scheme != scheme->id) continue;
      if (state && a.state != *state) continue;
      list.push_back(application_json(c.engine, a, false));
    }
    return ok({{"applications", list}});
  });
  get("/v1/applications/([^/]+)", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    TRY_ASSIGN(a, find_application(c.engine, req.matches[1].str(), who));
    return ok(application_json(c.engine, *a, true));
  });
  post("/v1/applications/([^/]+)/update", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    TRY_ASSIGN(a, find_application(c.engine, req.matches[1].str(), who));
    TRY_ASSIGN(terms, terms_field(b, &a->terms));
    if (auto st = c.engine.update_application(actor_of(who), a->id, terms, c.now_ms); !st.ok()) return fail(st);
    return ok(application_json(c.engine, *c.engine.applications().get(a->id), true));
  });
  post("/v1/applications/([^/]+)/submit", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    TRY_ASSIGN(a, find_application(c.engine, req.matches[1].str(), who));
    if (auto st = c.engine.submit_application(actor_of(who), a->id, c.now_ms); !st.ok()) return fail(st);
    return ok(application_json(c.engine, *c.engine.applications().get(a->id), true));
  });
  post("/v1/applications/([^/]+)/withdraw", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    TRY_ASSIGN(a, find_application(c.engine, req.matches[1].str(), who));
    TRY_ASSIGN(note, str_field(b, "note", false));
    if (auto st = c.engine.withdraw_application(actor_of(who), a->id, note, c.now_ms); !st.ok()) return fail(st);
    return ok(application_json(c.engine, *c.engine.applications().get(a->id), true));
  });
  post("/v1/applications/([^/]+)/reviews", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    TRY_ASSIGN(a, find_application(c.engine, req.matches[1].str(), who));
    if (!b.contains("scores") || !b["scores"].is_object())
      return fail(Status::Invalid("field 'scores' must be an object of criterion name to score 0..100"));
    std::vector<core::CriterionScore> scores;
    for (const auto& [name, v] : b["scores"].items()) {
      if (!v.is_number_integer()) return fail(Status::Invalid("score of '" + name + "' must be an integer 0..100"));
      scores.push_back({name, static_cast<int>(std::clamp<int64_t>(v.get<int64_t>(), -1, 1000))});
    }
    TRY_ASSIGN(comment, str_field(b, "comment", false));
    if (auto st = c.engine.review_application(actor_of(who), a->id, scores, comment, c.now_ms); !st.ok()) return fail(st);
    return ok(application_json(c.engine, *c.engine.applications().get(a->id), true), 201);
  });
  post("/v1/applications/([^/]+)/approve", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    TRY_ASSIGN(a, find_application(c.engine, req.matches[1].str(), who));
    core::Approval approval;
    if (b.contains("amount") && !b["amount"].is_null()) {
      TRY_ASSIGN(amount, amount_field(b, "amount"));
      if (amount <= 0) return fail(Status::Invalid("field 'amount' must be positive"));
      approval.amount_minor = amount;
    }
    TRY_ASSIGN(level, int_field(b, "gpu_level", false));
    TRY_ASSIGN(days, int_field(b, "duration_days", false));
    if (level < 0 || level > core::kMaxGpuLevel) return fail(Status::Invalid("field 'gpu_level' is out of range"));
    if (days < 0 || days > core::kMaxDurationDays) return fail(Status::Invalid("field 'duration_days' is out of range"));
    approval.gpu_level = static_cast<int>(level);
    approval.duration_days = static_cast<int>(days);
    if (b.contains("exceptional_rate") && !b["exceptional_rate"].is_null()) {
      if (!b["exceptional_rate"].is_boolean()) return fail(Status::Invalid("field 'exceptional_rate' must be true or false"));
      approval.exceptional_rate = b["exceptional_rate"].get<bool>();
    }
    TRY_ASSIGN(note, str_field(b, "note", false));
    approval.note = note;
    TRY_ASSIGN(every, int_field(b, "report_every_months", false));
    TRY_ASSIGN(grace, int_field(b, "report_grace_days", false));
    TRY_ASSIGN(rule, report_rule(every, grace));
    approval.report_every_months = rule.first;
    approval.report_grace_days = rule.second;
    TRY_ASSIGN(award, c.engine.approve_application(actor_of(who), a->id, approval, c.now_ms));
    return ok({{"application", application_json(c.engine, *c.engine.applications().get(a->id), true)},
               {"award", award_json(c.engine, award, c.now_ms)}},
              201);
  });
  post("/v1/applications/([^/]+)/reject", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    TRY_ASSIGN(a, find_application(c.engine, req.matches[1].str(), who));
    TRY_ASSIGN(reason, str_field(b, "reason", true));
    if (auto st = c.engine.reject_application(actor_of(who), a->id, reason, c.now_ms); !st.ok()) return fail(st);
    return ok(application_json(c.engine, *c.engine.applications().get(a->id), true));
  });

  post("/v1/quote", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request&) {
    TRY_ASSIGN(r, job_request(c.engine, b, who, false));
    TRY_ASSIGN(q, c.engine.quote(r, c.now_ms));
    return ok(quote_json(q));
  });

  // The script is stored by its SHA-256 on the HTTP thread (store_script); the work records
  // that digest in the launch description, so the core thread touches no file.
  auto store_job_script = [this](const json& b) {
    auto script = b.find("script");
    if (script == b.end() || !script->is_string() || script->get_ref<const std::string&>().empty())
      return Status::Ok();  // the work refuses it with a 400
    return store_script(state_dir_, script->get<std::string>());
  };
  record("/v1/jobs", "POST");
  srv.Post("/v1/jobs", route([](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    TRY_ASSIGN(r, job_request(c.engine, b, who, true));
    TRY_ASSIGN(launch, launch_json(b));
    TRY_ASSIGN(script, str_field(b, "script", true));
    if (script.empty()) return fail(Status::Invalid("field 'script' is empty"));
    launch["script_sha256"] = script_digest(script);
    // The token decides whose Unix account runs the job, never the request.
    if (!who.unix_user.empty()) launch["unix_user"] = who.unix_user;
    r.launch = launch.dump();
    // A retried submit (Idempotency-Key) is told apart from another request by its body, dumped
    // with sorted keys, so the same request always has the same digest.
    r.idempotency_key = req.get_header_value("Idempotency-Key");
    if (!r.idempotency_key.empty()) r.request_digest = token_hash(b.dump());
    TRY_ASSIGN(array, str_field(b, "array", false));
    std::vector<int> indices;
    int throttle = 0;
    std::string array_error;
    if (!array.empty() && !core::parse_array_spec(array, &indices, &throttle, &array_error))
      return fail(Status::Invalid("field 'array': " + array_error));
    TRY_ASSIGN(q, c.engine.quote(r, c.now_ms));
    std::vector<JobId> ids;
    bool replayed = false;
    if (array.empty()) {
      TRY_ASSIGN(id, c.engine.submit(r, c.now_ms, &replayed));
      ids.push_back(id);
    } else {
      TRY_ASSIGN(tasks, c.engine.submit_array(r, indices, throttle, c.now_ms, &replayed));
      ids = std::move(tasks);
    }
    json out = job_json(c.engine, *c.engine.job(ids.front()));
    out["quote"] = quote_json(q);
    if (!array.empty()) {
      json task_ids = json::array();
      for (JobId id : ids) task_ids.push_back(id.value);
      out["array_task_ids"] = task_ids;
    }
    out["replayed"] = replayed;
    return ok(out, replayed ? 200 : 201);
  }, true, store_job_script));
  get("/v1/jobs", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    std::vector<core::JobState> states;
    if (req.has_param("state")) {
      std::string s = req.get_param_value("state");
      for (size_t start = 0; start <= s.size();) {
        size_t comma = s.find(',', start);
        if (comma == std::string::npos) comma = s.size();
        core::JobState st;
        const std::string one = s.substr(start, comma - start);
        if (!core::parse_job_state(one, &st)) return fail(Status::Invalid("unknown job state '" + one + "'"));
        states.push_back(st);
        start = comma + 1;
      }
    }
    ProjectId project;
    if (req.has_param("project")) {
      TRY_ASSIGN(p, find_project(c.engine, json(req.get_param_value("project")), who));
      project = p->id;
    }
    const std::string user = req.has_param("user") ? req.get_param_value("user") : "";
    TRY_ASSIGN(array_id, query_int(req, "array", 0));
    TRY_ASSIGN(since_ms, query_time(req, "since", 0));
    TRY_ASSIGN(until_ms, query_time(req, "until", INT64_MAX));
    TRY_ASSIGN(limit, page_limit(req));
    TRY_ASSIGN(after, query_int(req, "after", 0));
    // Jobs are stored by id (index = id - 1), so the page starts at the cursor in O(1); it looks
    // at no more than kScanPerRequest jobs, however few the filters let through.
    const std::deque<core::Job>& jobs = c.engine.jobs();
    size_t i = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(after), jobs.size()));
    const size_t end = std::min(jobs.size(), i + kScanPerRequest);
    // The core thread only copies the page; its JSON is made on the HTTP thread.
    auto page = std::make_shared<std::vector<std::pair<core::Job, JobNames>>>();
    page->reserve(static_cast<size_t>(limit));
    for (; i < end && static_cast<int64_t>(page->size()) < limit; ++i) {
      const core::Job& j = jobs[i];
      if (!who.sees(j.org)) continue;
      if (!states.empty() && std::find(states.begin(), states.end(), j.state) == states.end()) continue;
      if (project.valid() && j.project != project) continue;
      if (!user.empty() && j.user != user) continue;
      if (!in_window(j, since_ms, until_ms)) continue;
      if (array_id && j.array_id.value != static_cast<uint64_t>(array_id)) continue;
      page->emplace_back(j, job_names(c.engine, j));
    }
    const JobId next = i < jobs.size() ? jobs[i - 1].id : JobId();
    Reply r;
    r.render = [page, next] { return jobs_page_text(*page, next); };
    return r;
  });
  get("/v1/jobs/([^/]+)", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    TRY_ASSIGN(j, find_job(c.engine, req.matches[1].str(), who));
    return ok(job_json(c.engine, *j));
  });
  post("/v1/jobs/([^/]+)/cancel", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    TRY_ASSIGN(named, find_jobs(c.engine, req.matches[1].str(), who));
    if (named.size() == 1) {
      TRY_ASSIGN(running, c.engine.cancel(named.front()->id, c.now_ms));
      if (running) c.terminate.push_back(named.front()->id);
      return ok(job_json(c.engine, *named.front()));
    }
    // A whole array: every task that has not ended, none when all have (409).
    return act_on_array(c, named, "has no pending or running task", [&c](const core::Job& task) {
      if (core::is_final(task.state)) return false;
      const Result<bool> running = c.engine.cancel(task.id, c.now_ms);
      BERTH_CHECK(running.ok(), "cancel a task that has not ended");
      if (*running) c.terminate.push_back(task.id);
      return true;
    });
  });

  // Wallets (admin only): a credit limit, a refund of a job's charge, an adjustment.
  post("/v1/projects/([^/]+)/credit-limit", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    if (!who.admin()) return fail(Status::Denied("only an admin may set a wallet's credit limit"));
    TRY_ASSIGN(p, find_project(c.engine, json(req.matches[1].str()), who));
    TRY_ASSIGN(limit, amount_field(b, "limit"));
    TRY_ASSIGN(note, str_field(b, "note", false));
    if (auto st = c.engine.set_credit_limit(p->id, limit, note, c.now_ms); !st.ok()) return fail(st);
    return ok(balance_json(c.engine, *p, c.now_ms));
  });
  post("/v1/jobs/([^/]+)/refund", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    if (!who.admin()) return fail(Status::Denied("only an admin may refund a job"));
    TRY_ASSIGN(j, find_job(c.engine, req.matches[1].str(), who));
    TRY_ASSIGN(reason, str_field(b, "reason", true));
    TRY_ASSIGN(reference, str_field(b, "reference", false));
    Minor amount = 0;  // absent: the whole refundable rest
    if (b.contains("amount") && !b["amount"].is_null()) {
      TRY_ASSIGN(asked, amount_field(b, "amount"));
      if (asked <= 0) return fail(Status::Invalid("field 'amount' must be positive"));
      amount = asked;
    }
    bool replayed = false;
    TRY_ASSIGN(refunded, c.engine.refund_job(j->id, amount, reason, reference, c.now_ms, &replayed));
    const core::AuditRecord* record = reference.empty() ? &c.engine.audit().back() : c.engine.money_reference(reference);
    json out = job_json(c.engine, *j);
    out["refund"] = {{"amount", format_amount(refunded)}, {"transfer_id", record->transfer.value},
                     {"reference", reference}};
    out["replayed"] = replayed;
    return ok(out, replayed ? 200 : 201);
  });
  post("/v1/projects/([^/]+)/adjustments", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    if (!who.admin()) return fail(Status::Denied("only an admin may adjust a wallet"));
    TRY_ASSIGN(p, find_project(c.engine, json(req.matches[1].str()), who));
    TRY_ASSIGN(amount, amount_field(b, "amount", true));
    TRY_ASSIGN(reason, str_field(b, "reason", true));
    TRY_ASSIGN(reference, str_field(b, "reference", false));
    bool replayed = false;
    TRY_ASSIGN(transfer, c.engine.adjust_wallet(p->id, amount, reason, reference, c.now_ms, &replayed));
    json out = balance_json(c.engine, *p, c.now_ms);
    out["adjustment"] = {{"amount", format_amount(amount)}, {"transfer_id", transfer.value}, {"reference", reference}};
    out["replayed"] = replayed;
    return ok(out, replayed ? 200 : 201);
  });

  // Each route is registered under its literal path, so the routes can be listed by reading
  // this file (tests/integration/authz_test.cc checks that every one has an entry).
  auto hold_or_release = [](bool hold) -> Handler {
    return [hold](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
      TRY_ASSIGN(named, find_jobs(c.engine, req.matches[1].str(), who));
      if (named.size() == 1) {
        const core::Job* j = named.front();
        if (auto st = hold ? c.engine.hold(j->id, c.now_ms) : c.engine.release(j->id, c.now_ms); !st.ok()) return fail(st);
        return ok(job_json(c.engine, *j));
      }
      // A whole array: its pending tasks (to hold) or its held ones (to release).
      return act_on_array(c, named, hold ? "has no pending task" : "has no held task", [&c, hold](const core::Job& task) {
        if (task.state != core::JobState::kPending || (!hold && !task.held)) return false;
        const Status st = hold ? c.engine.hold(task.id, c.now_ms) : c.engine.release(task.id, c.now_ms);
        BERTH_CHECK(st.ok(), "hold or release a task checked to allow it");
        return true;
      });
    };
  };
  post("/v1/jobs/([^/]+)/hold", hold_or_release(true));
  post("/v1/jobs/([^/]+)/release", hold_or_release(false));
  get("/v1/accounts", [](CoreContext& c, const Principal& who, const json&, const httplib::Request&) {
    json list = json::array();
    for (const core::Account* a : c.engine.ledger().accounts()) {
      if (!who.admin()) {
        OrgId owner_org;
        if (a->kind == core::AccountKind::kWallet) {
          if (const auto* p = c.engine.funding().project(ProjectId(a->owner))) owner_org = p->org;
        } else if (a->kind == core::AccountKind::kAward) {
          if (const auto* aw = c.engine.funding().award(AwardId(a->owner)))
            owner_org = c.engine.funding().project(aw->project)->org;
        }
        if (!owner_org.valid() || owner_org != who.org) continue;
      }
      list.push_back(account_json(*a));
    }
    return ok({{"accounts", list}});
  });
  get("/v1/transfers", [](CoreContext& c, const Principal& who, const json&, const httplib::Request& req) {
    TRY_ASSIGN(account, query_int(req, "account", 0));
    TRY_ASSIGN(job, query_job_id(c.engine, req, who));
    TRY_ASSIGN(limit, page_limit(req));
    TRY_ASSIGN(after, query_int(req, "after", 0));
    if (!who.admin()) {
      // Members see the transfers of their own organisation's jobs only.
      if (job == 0) return fail(Status::Denied("members may list transfers of one of their jobs (?job=ID)"));
      TRY_ASSIGN(j, find_job(c.engine, std::to_string(job), who));
      (void)j;
    }
    // Transfers are listed in the ledger's order; the cursor is a position in it (ids are not
    // in order: a job's transfer ids derive from the job's).
    json list = json::array();
    const core::Ledger& l = c.engine.ledger();
    const std::vector<core::Transfer>& all = l.transfers_in_order();
    size_t i = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(after), all.size()));
    const size_t end = std::min(all.size(), i + kScanPerRequest);
    for (; i < end && static_cast<int64_t>(list.size()) < limit; ++i) {
      const core::Transfer& t = all[i];
      if (job && !((t.code == core::kCodeJobSubsidy || t.code == core::kCodeJobCopay) && t.ref == static_cast<uint64_t>(job)))
        continue;
      if (account) {
        const core::Transfer* base = t.pending_id.valid() ? l.transfer(t.pending_id) : &t;
        if (base->debit.value != static_cast<uint64_t>(account) && base->credit.value != static_cast<uint64_t>(account))
          continue;
      }
      list.push_back(transfer_json(l, t));
    }
    return ok({{"transfers", list}, {"next", i < all.size() ? json(i) : json(nullptr)}});
  });
  // Anyone sees the nodes; a member sees the ids of their own organisation's jobs on each and
  // only a count of the others' (a reviewer sees counts only).
  get("/v1/nodes", [](CoreContext& c, const Principal& who, const json&, const httplib::Request&) {
    json list = json::array();
    const size_t node_count = c.engine.cluster().nodes().size();
    std::vector<std::vector<JobId>> on_node(node_count);
    std::vector<int64_t> others_on_node(node_count, 0);
    for (JobId id : c.engine.running_jobs()) {
      const core::Job& j = *c.engine.job(id);
      const auto place = [&](NodeId node) {
        if (who.sees(j.org)) on_node[node.value - 1].push_back(id);
        else ++others_on_node[node.value - 1];
      };
      place(j.node);
      for (const core::Placement& p : j.more_nodes) place(p.node);
    }
    for (const core::Node& n : c.engine.cluster().nodes()) {
      json node = node_json(c.engine, n, on_node[n.id.value - 1]);
      if (!who.admin()) node["other_jobs"] = others_on_node[n.id.value - 1];
      list.push_back(std::move(node));
    }
    return ok({{"nodes", list}});
  });
  post("/v1/nodes/([^/]+)/state", [](CoreContext& c, const Principal& who, const json& b, const httplib::Request& req) {
    if (auto st = need_admin(who); !st.ok()) return fail(st);
    const std::string name = req.matches[1].str();
    const core::Node* n = c.engine.cluster().node_by_name(name);
    if (!n) return fail(Status::NotFound("node '" + name + "' not found"));
    TRY_ASSIGN(state_text, str_field(b, "state", true));
    core::NodeState state;
    if (state_text == "up" || state_text == "resume") state = core::NodeState::kUp;
    else if (state_text == "drain") state = core::NodeState::kDrain;
    else if (state_text == "down") state = core::NodeState::kDown;
    else return fail(Status::Invalid("state must be up, drain or down, got '" + state_text + "'"));
    TRY_ASSIGN(ended, c.engine.change_node_state(n->id, state, c.now_ms));
    for (JobId id : ended) c.terminate.push_back(id);  // their processes must go too
    std::vector<JobId> on_node;
    for (JobId id : c.engine.running_jobs())
      if (c.engine.job(id)->runs_on(n->id)) on_node.push_back(id);
    json out = node_json(c.engine, *c.engine.cluster().node(n->id), on_node);
    json ids = json::array();
    for (JobId id : ended) ids.push_back(id.value);
    out["jobs_ended"] = ids;
    return ok(out);
  });
  // Reconciles the rows as committed (read back from the store on the core thread, so they are
  // exactly what the last commit left) and the live engine's snapshot, which may be ahead by
  // this batch's changes. O(rows) on the core thread, which waits meanwhile: an operator's check.
  get("/v1/reconcile", [this](CoreContext& c, const Principal& who, const json&, const httplib::Request&) {
    if (auto st = need_admin(who); !st.ok()) return fail(st);
    int64_t last_alive_ms = 0;
    TRY_ASSIGN(rows, store().load(&last_alive_ms));
    const core::ReconcileOptions options;
    return ok(reconcile_json(core::reconcile(rows, options), core::reconcile(c.engine.snapshot(), options),
                             options.max_listed));
  });
  get("/v1/partitions", [](CoreContext& c, const Principal&, const json&, const httplib::Request&) {
    json list = json::array();
    for (const core::Partition& p : c.engine.cluster().partitions())
      list.push_back({{"name", p.name}, {"max_time_s", p.max_time_s}, {"default_time_s", p.default_time_s},
                      {"default", p.is_default}});
    return ok({{"partitions", list}});
  });
}

}  // namespace berth::server
