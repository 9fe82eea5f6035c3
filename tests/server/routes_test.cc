// The route table: each route declared once and well formed, and the access check its caller
// makes from a route's declaration.
#include "server/routes.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "common/enum_names_testing.h"

namespace berth::server {
namespace {

const Principal kAdmin{"root", Role::kAdmin, OrgId()};
const Principal kMember{"alice", Role::kMember, OrgId(1)};
const Principal kReviewer{"rita", Role::kReviewer, OrgId()};

TEST(RoutesTest, EachRouteIsDeclaredOnceWithOneWayToServeIt) {
  std::set<std::string> seen;
  for (const Route& r : api_routes()) {
    const std::string name = std::string(method_name(r.method)) + " " + r.path;
    EXPECT_TRUE(seen.insert(name).second) << "declared twice: " << name;
    // The API under /v1, and the probes of load balancers beside it.
    const std::string path = r.path;
    EXPECT_TRUE(path.starts_with("/v1/") || path == "/livez" || path == "/readyz") << name;
    EXPECT_NO_THROW(std::regex(r.path)) << name;
    EXPECT_NE(r.handler == nullptr, r.on_http == nullptr)
        << name << ": a handler or on_http, not both";
    // prepare is for work queued to the core thread; what anyone may call needs no caller and is
    // served on the HTTP thread.
    EXPECT_TRUE(r.prepare == nullptr || r.handler != nullptr) << name;
    EXPECT_TRUE(r.access != Access::kAnyone || r.on_http != nullptr) << name;
  }
  EXPECT_GE(seen.size(), 50u);
}

TEST(RoutesTest, AdminRoutesLetOnlyTheAdminIn) {
  EXPECT_TRUE(check_access(Access::kAdmin, kAdmin).ok());
  for (const Principal& who : {kMember, kReviewer}) {
    const Status st = check_access(Access::kAdmin, who);
    EXPECT_EQ(st.code(), Code::kPermissionDenied) << who.user;
    EXPECT_EQ(st.message(), "only an admin may do this");
  }
}

TEST(RoutesTest, FundingReaderRoutesKeepMembersOut) {
  EXPECT_TRUE(check_access(Access::kFundingReader, kAdmin).ok());
  EXPECT_TRUE(check_access(Access::kFundingReader, kReviewer).ok());
  EXPECT_EQ(check_access(Access::kFundingReader, kMember).code(), Code::kPermissionDenied);
}

TEST(RoutesTest, MemberRoutesKeepReviewersOutWithTheRoutesOwnWords) {
  EXPECT_TRUE(check_access(Access::kMember, kAdmin).ok());
  EXPECT_TRUE(check_access(Access::kMember, kMember).ok());
  const Status st = check_access(Access::kMember, kReviewer, "a reviewer cannot move wallet money");
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.message(), "a reviewer cannot move wallet money");
}

TEST(RoutesTest, OpenRoutesLetEveryRoleIn) {
  for (Access a : {Access::kAnyone, Access::kAuthenticated})
    for (const Principal& who : {kAdmin, kMember, kReviewer})
      EXPECT_TRUE(check_access(a, who).ok()) << access_name(a);
}

TEST(RouteNames, NameEveryMethodAndAccess) {
  enum_testing::expect_every_enumerator_named(kMethodNames);
  enum_testing::expect_every_enumerator_named(kAccessNames);
  EXPECT_STREQ(method_name(Method::kPost), "POST");
  EXPECT_STREQ(access_name(Access::kFundingReader), "funding reader");
}

}  // namespace
}  // namespace berth::server
