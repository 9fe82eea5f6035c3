// The routes of who the caller is and of API tokens (docs/api.md, "Tokens").
#include "server/routes.h"

namespace berth::server {

namespace {

using json = nlohmann::json;

Reply whoami(Call& call) {
  json out = {
      {"user", call.who.user}, {"role", role_name(call.who.role)}, {"token_id", call.who.token_id}};
  if (!call.who.unix_user.empty()) out["unix_user"] = call.who.unix_user;
  if (const core::Org* o = call.engine.funding().org(call.who.org)) {
    out["org_id"] = o->id.value;
    out["org"] = o->name;
  }
  return ok(out);
}

// The tokens' work is the daemon's (tokens.cc): it writes the store's tokens table and the
// table the HTTP threads read.
Reply create_token(Call& call) { return call.daemon.create_token(call); }
Reply list_tokens(Call& call) { return call.daemon.list_tokens(call); }
Reply revoke_token(Call& call) { return call.daemon.revoke_token(call); }
Reply rotate_admin_token(Call& call) { return call.daemon.rotate_admin_token(call); }

}  // namespace

std::vector<Route> token_routes() {
  return {
      {Method::kGet, "/v1/whoami", Access::kAuthenticated, whoami},
      {Method::kPost, "/v1/tokens", Access::kAdmin, create_token},
      // Anyone lists tokens and revokes them: an admin all, anyone else their own (another's is
      // 404, as if it did not exist: TokenInfo::visible_to).
      {Method::kGet, "/v1/tokens", Access::kAuthenticated, list_tokens},
      {Method::kPost, "/v1/tokens/([^/]+)/revoke", Access::kAuthenticated, revoke_token},
      {Method::kPost, "/v1/tokens/rotate-admin", Access::kAdmin, rotate_admin_token},
  };
}

}  // namespace berth::server
