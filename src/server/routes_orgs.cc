// The routes of organisations and their projects (docs/api.md).
#include "server/lookups.h"
#include "server/request_fields.h"
#include "server/routes.h"
#include "server/views.h"

namespace berth::server {

namespace {

using json = nlohmann::json;

Reply create_org(Call& call) {
  BERTH_ASSIGN_OR_REPLY(name, name_field(call.body, "name", true));
  BERTH_ASSIGN_OR_REPLY(kind_text, str_field(call.body, "kind", false, "other"));
  core::OrgKind kind;
  if (!core::parse_org_kind(kind_text, &kind))
    return fail(Status::Invalid("kind must be " + core::kOrgKindNames.choices() + ", got '" +
                                kind_text + "'"));
  BERTH_ASSIGN_OR_REPLY(registration, registration_fields(call.body));
  BERTH_ASSIGN_OR_REPLY(org, call.engine.create_org(name, kind, registration, call.now_ms));
  return ok(org_json(org), 201);
}

Reply list_orgs(Call& call) {
  json list = json::array();
  for (const core::Org& o : call.engine.funding().orgs())
    if (call.who.sees(o.id)) list.push_back(org_json(o));
  return ok({{"orgs", list}});
}

Reply get_org(Call& call) {
  BERTH_ASSIGN_OR_REPLY(org, find_org(call.engine, json(call.param(1)), call.who));
  return ok(org_json(*org));
}

Reply update_org(Call& call) {
  BERTH_ASSIGN_OR_REPLY(org, find_org(call.engine, json(call.param(1)), call.who));
  BERTH_ASSIGN_OR_REPLY(change, registration_fields(call.body));
  BERTH_ASSIGN_OR_REPLY(note, str_field(call.body, "note", false));
  BERTH_ASSIGN_OR_REPLY(updated, call.engine.update_org(org->id, change, note, call.now_ms));
  return ok(org_json(updated));
}

Reply create_project(Call& call) {
  BERTH_ASSIGN_OR_REPLY(name, name_field(call.body, "name", true));
  if (!call.body.contains("org")) return fail(Status::Invalid("field 'org' is required"));
  BERTH_ASSIGN_OR_REPLY(org, find_org(call.engine, call.body["org"], call.who));
  BERTH_ASSIGN_OR_REPLY(p, call.engine.create_project(org->id, name, call.now_ms));
  return ok(project_json(call.engine, p), 201);
}

Reply list_projects(Call& call) {
  json list = json::array();
  for (const core::Project& p : call.engine.funding().projects())
    if (call.who.sees(p.org)) list.push_back(project_json(call.engine, p));
  return ok({{"projects", list}});
}

}  // namespace

std::vector<Route> org_routes() {
  return {
      {Method::kPost, "/v1/orgs", Access::kAdmin, create_org},
      // Each caller lists what they may see; a member reads their own organisation only
      // (others are 404, as for projects).
      {Method::kGet, "/v1/orgs", Access::kAuthenticated, list_orgs},
      {Method::kGet, "/v1/orgs/([^/]+)", Access::kAuthenticated, get_org},
      {Method::kPost, "/v1/orgs/([^/]+)/update", Access::kAdmin, update_org},
      {Method::kPost, "/v1/projects", Access::kAdmin, create_project},
      {Method::kGet, "/v1/projects", Access::kAuthenticated, list_projects},
  };
}

}  // namespace berth::server
