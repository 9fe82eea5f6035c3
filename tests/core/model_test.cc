// The names of the core's entities' enums: every enumerator has one, and reads back.
#include "core/model.h"

#include <gtest/gtest.h>

#include "common/enum_names_testing.h"

namespace berth::core {
namespace {

using enum_testing::expect_every_enumerator_named;

TEST(ModelNames, NameEveryEnumerator) {
  expect_every_enumerator_named(kOrgKindNames);
  expect_every_enumerator_named(kShortfallNames);
  expect_every_enumerator_named(kNodeStateNames);
  expect_every_enumerator_named(kJobStateNames);
  expect_every_enumerator_named(kPendingReasonNames);
  expect_every_enumerator_named(kTierNames);
  expect_every_enumerator_named(kDependencyTypeNames);
}

TEST(ModelNames, NamesAreWhatUsersAndTheStoreRead) {
  EXPECT_STREQ(org_kind_name(OrgKind::kInstitute), "institute");
  EXPECT_STREQ(shortfall_name(Shortfall::kWait), "wait");
  EXPECT_STREQ(node_state_name(NodeState::kDrain), "drain");
  EXPECT_STREQ(job_state_name(JobState::kNodeFail), "NODE_FAIL");
  EXPECT_STREQ(pending_reason_name(PendingReason::kInsufficientFunds), "InsufficientFunds");
  EXPECT_STREQ(tier_name(Tier::kSpot), "spot");
  EXPECT_STREQ(dependency_type_name(DependencyType::kAfterNotOk), "afternotok");
}

TEST(ModelNames, ParsingIsExactAndLeavesTheValueOnUnknownText) {
  JobState state = JobState::kRunning;
  EXPECT_FALSE(parse_job_state("pending", &state));
  EXPECT_EQ(state, JobState::kRunning);
  EXPECT_TRUE(parse_job_state("PENDING", &state));
  EXPECT_EQ(state, JobState::kPending);
  Tier tier = Tier::kNormal;
  EXPECT_FALSE(parse_tier("", &tier));
  EXPECT_TRUE(parse_tier("high", &tier));
  EXPECT_EQ(tier, Tier::kHigh);
}

TEST(ModelNames, ListsForMessages) {
  EXPECT_EQ(kTierNames.list(), "high, normal, spot");
  EXPECT_EQ(kOrgKindNames.choices(), "startup, enterprise, university, institute or other");
  EXPECT_EQ(kShortfallNames.choices(), "wallet or wait");
}

TEST(ModelNames, DependenciesReadTheirTypesFromTheTable) {
  std::vector<Dependency> deps;
  ASSERT_TRUE(parse_dependencies("afternotok:3,afterany:4", &deps));
  EXPECT_EQ(deps, (std::vector<Dependency>{{DependencyType::kAfterNotOk, JobId(3)},
                                           {DependencyType::kAfterAny, JobId(4)}}));
  EXPECT_FALSE(parse_dependencies("afterOK:3", &deps));
  EXPECT_EQ(format_dependencies(deps), "afternotok:3,afterany:4");
}

}  // namespace
}  // namespace berth::core
