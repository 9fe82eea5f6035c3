#include "server/routes.h"

#include <httplib.h>

namespace berth::server {

const char* method_name(Method m) { return kMethodNames.name(m, "POST"); }

const char* access_name(Access a) { return kAccessNames.name(a, "?"); }

Status check_access(Access access, const Principal& who, const char* denied) {
  switch (access) {
    case Access::kAnyone:
    case Access::kAuthenticated:
      return Status::Ok();
    case Access::kMember:
      if (!who.reviewer()) return Status::Ok();
      return Status::Denied(denied ? denied : "a reviewer cannot do this");
    case Access::kFundingReader:
      if (who.reads_funding()) return Status::Ok();
      return Status::Denied(denied ? denied : "only a reviewer or an admin may do this");
    case Access::kAdmin:
      if (who.admin()) return Status::Ok();
      return Status::Denied(denied ? denied : "only an admin may do this");
  }
  return Status::Internal("unknown access");
}

std::string Call::param(size_t group) const { return req.matches[group].str(); }

const std::vector<Route>& api_routes() {
  static const std::vector<Route> all = [] {
    std::vector<Route> out;
    for (auto area : {admin_routes, token_routes, org_routes, money_routes, funding_routes,
                      application_routes, job_routes})
      for (Route& r : area()) out.push_back(r);
    return out;
  }();
  return all;
}

}  // namespace berth::server
