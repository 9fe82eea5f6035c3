// The roles' names, as tokens are created with and listed.
#include "server/auth.h"

#include <gtest/gtest.h>

#include "common/enum_names_testing.h"

namespace berth::server {
namespace {

TEST(RoleNames, NameEveryRole) {
  enum_testing::expect_every_enumerator_named(kRoleNames);
  EXPECT_STREQ(role_name(Role::kReviewer), "reviewer");
  Role role = Role::kMember;
  EXPECT_TRUE(parse_role("admin", &role));
  EXPECT_EQ(role, Role::kAdmin);
  EXPECT_FALSE(parse_role("Admin", &role));
  EXPECT_EQ(role, Role::kAdmin);
}

}  // namespace
}  // namespace berth::server
