// The REST API (docs/api.md) served from the route table (server/routes.h): authentication,
// the body and the route's access on the HTTP threads, the handler as Work on the core thread.
#include <httplib.h>

#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "server/daemon.h"
#include "server/internal_error.h"
#include "server/request_fields.h"
#include "server/routes.h"

namespace berth::server {

namespace {

using json = nlohmann::json;

// Every route's path and method, to answer a known path asked with another method.
using KnownRoutes = std::vector<std::pair<std::regex, std::string>>;

// The methods a path is served with ("GET, HEAD, POST"); empty when no route matches it.
std::string allowed_methods(const KnownRoutes& routes, const std::string& path) {
  bool get = false, post = false;
  for (const auto& [pattern, method] : routes) {
    if (!std::regex_match(path, pattern)) continue;
    (method == "GET" ? get : post) = true;
  }
  std::string out = get ? "GET, HEAD" : "";
  if (post) out += out.empty() ? "POST" : ", POST";
  return out;
}

void send(httplib::Response& res, const Reply& r) {
  res.status = r.status;
  if (!r.content_type.empty()) return res.set_content(r.text, r.content_type);
  res.set_content(r.render ? r.render() : r.body.dump(), "application/json");
}

// httplib's own errors (no such path, a body too large, a request it cannot parse) as berth's
// JSON errors; a known path with the wrong method is 405 with Allow.
void answer_http_error(const KnownRoutes& known, size_t max_body_bytes, const httplib::Request& req,
                       httplib::Response& res) {
  if (!res.body.empty()) return;
  if (res.status == 404) {
    const std::string allow = allowed_methods(known, req.path);
    if (!allow.empty()) {
      res.status = 405;
      res.set_header("Allow", allow);
      const std::string message =
          req.method + " is not allowed on " + req.path + "; allowed: " + allow;
      const json body = {{"error", {{"code", "method_not_allowed"}, {"message", message}}}};
      return res.set_content(body.dump(), "application/json");
    }
  }
  Status st(Code::kNotFound, "no such endpoint");
  if (res.status == 413)
    st = body_too_large(max_body_bytes);
  else if (res.status == 400)
    st = Status::Invalid("malformed HTTP request");
  else if (res.status != 404)
    st = Status(Code::kInternal, "HTTP error " + std::to_string(res.status));
  res.set_content(error_reply(st).body.dump(), "application/json");
}

// The caller of a bearer token: unknown, revoked or expired tokens are refused, saying which.
Result<Principal> authenticate(Daemon& d, const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) != 0) return Status::Unauthenticated("missing bearer token");
  return d.tokens().find_token(auth.substr(7), d.now_ms());
}

// One request to `route`: the caller, the body and the route's access are checked on this HTTP
// thread, then the handler runs on the core thread within a batch, naming the caller in the
// audit record. An exception from it is a 500 with an error id (internal_error.h).
void serve_route(Daemon& d, const Route& route, const httplib::Request& req,
                 httplib::Response& res) {
  if (route.access == Access::kAnyone) return route.on_http(d, req, res);
  const Result<Principal> who = authenticate(d, req);
  if (!who.ok()) return send(res, error_reply(who.status()));
  const size_t max_body = d.config().http.max_body_bytes;
  const Result<json> body = route.method == Method::kPost ? body_object(req.body, max_body)
                                                          : Result<json>(json::object());
  if (!body.ok()) return send(res, error_reply(body.status()));
  if (Status st = check_access(route.access, *who, route.denied); !st.ok())
    return send(res, error_reply(st));
  if (route.on_http) return route.on_http(d, req, res);
  if (route.prepare) {
    if (Status st = route.prepare(d, *who, *body); !st.ok()) return send(res, error_reply(st));
  }
  const std::string where = std::string(method_name(route.method)) + " " + req.path;
  send(res, d.call([&](CoreContext& ctx) {
    ctx.engine.set_actor(who->user);  // the audit record names who acted
    Call call{ctx.engine, ctx.now_ms, ctx.terminate, *who, *body, req, d};
    Reply reply = guarded([&] { return route.handler(call); }, where);
    ctx.engine.set_actor("system");
    return reply;
  }));
}

}  // namespace

void Daemon::install_routes(httplib::Server& srv) {
  const size_t max_body = config_.http.max_body_bytes;
  srv.set_payload_max_length(max_body);
  auto known = std::make_shared<KnownRoutes>();
  for (const Route& route : api_routes()) {
    known->emplace_back(std::regex(route.path), method_name(route.method));
    auto serve = [this, &route](const httplib::Request& req, httplib::Response& res) {
      serve_route(*this, route, req, res);
    };
    if (route.method == Method::kGet)
      srv.Get(route.path, serve);
    else
      srv.Post(route.path, serve);
  }
  srv.set_error_handler([known, max_body](const httplib::Request& req, httplib::Response& res) {
    answer_http_error(*known, max_body, req, res);
  });
  // What escapes on the HTTP thread (a route served there, a Prepare).
  srv.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr thrown) {
        std::string what = "an exception that is not a std::exception";
        try {
          std::rethrow_exception(thrown);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        send(res, internal_error_reply(what, req.method + " " + req.path));
      });
}

}  // namespace berth::server
