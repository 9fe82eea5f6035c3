// The API's route table (docs/api.md): each route declared once, with its method, its path (a
// regular expression whose groups are the path's parameters), who may call it and its handler.
//
// The table's caller (Daemon::install_routes, api.cc) authenticates the caller, reads the body,
// checks the route's `access` and only then runs the handler, on the core thread. So a handler
// checks no role: what it still decides is which objects the caller may see, through the
// lookups (server/lookups.h) — a member finds only their own organisation's — and the core
// decides the funding roles' steps (who drafts, reviews and decides an application or a
// report: core/applications.h, core/progress.h) from the actor, after the lookup, so that
// another organisation's application is 404 before anything is refused as 403.
//
// Routes are grouped by area, one file each (routes_*.cc); api_routes() is all of them.
// tests/integration/authz_test.cc walks this table and calls every route as each role.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/enum_names.h"
#include "common/ids.h"
#include "common/status.h"
#include "server/auth.h"
#include "server/daemon.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace berth::server {

enum class Method { kGet, kPost };
inline constexpr auto kMethodNames =
    enum_names<Method>("method", {{Method::kGet, "GET"}, {Method::kPost, "POST"}});
const char* method_name(Method m);  // "GET", "POST"

// Who may call a route, by the caller's role.
enum class Access {
  kAnyone,         // no token needed
  kAuthenticated,  // any live token; what it may see, the lookups and the core decide
  kMember,         // an admin or a member of the organisation that owns the object (the
                   // lookups find only that organisation's); never a reviewer
  kFundingReader,  // an admin or a reviewer: every organisation's funding records
  kAdmin,          // the centre's admin only
};
inline constexpr auto kAccessNames =
    enum_names<Access>("access", {{Access::kAnyone, "anyone"},
                                  {Access::kAuthenticated, "authenticated"},
                                  {Access::kMember, "member"},
                                  {Access::kFundingReader, "funding reader"},
                                  {Access::kAdmin, "admin"}});
const char* access_name(Access a);
// Whether `who` has `access`: Ok, or Denied with `denied` (the access's own message when null).
Status check_access(Access access, const Principal& who, const char* denied = nullptr);

// What a handler works with, on the core thread within a batch.
struct Call {
  core::Engine& engine;
  int64_t now_ms;
  std::vector<JobId>& terminate;  // running jobs to stop once the batch is committed
  const Principal& who;
  const nlohmann::json& body;  // an object; {} for a GET
  const httplib::Request& req;
  Daemon& daemon;
  std::string param(size_t group) const;  // the path's group'th parenthesised part, from 1
};

// Runs on the core thread; every error is a Reply made from a Status.
using CoreHandler = Reply (*)(Call& call);
// Runs on the HTTP thread, before the request is queued, with the caller and the parsed body:
// file-system and user-database work that must not hold up the core thread (storing a job's
// script, checking its token's Unix user).
using Prepare = Status (*)(Daemon& daemon, const Principal& who, const nlohmann::json& body);
// A route served whole on the HTTP thread, never queued (health, the backup's stream).
using HttpHandler = void (*)(Daemon& daemon, const httplib::Request& req, httplib::Response& res);

struct Route {
  Method method;
  const char* path;
  Access access;
  CoreHandler handler = nullptr;  // exactly one of handler and on_http
  const char* denied = nullptr;   // what a caller without `access` is told; null: the default
  Prepare prepare = nullptr;
  HttpHandler on_http = nullptr;
};

// Every route, in the order they are matched.
const std::vector<Route>& api_routes();

// The areas' routes (routes_*.cc).
std::vector<Route> admin_routes();
std::vector<Route> token_routes();
std::vector<Route> org_routes();
std::vector<Route> money_routes();
std::vector<Route> funding_routes();
std::vector<Route> application_routes();
std::vector<Route> job_routes();

// A handler's replies.
inline Reply ok(nlohmann::json body, int status = 200) { return {status, std::move(body)}; }
inline Reply fail(const Status& st) { return error_reply(st); }

}  // namespace berth::server

// In a handler: `var` is the value of a Result, or the handler replies with its error.
#define BERTH_ASSIGN_OR_REPLY(var, expr)                      \
  auto var##_result = (expr);                                 \
  if (!var##_result.ok()) return fail(var##_result.status()); \
  auto var = std::move(*var##_result)
