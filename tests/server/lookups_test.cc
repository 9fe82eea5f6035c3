// The lookups: what a request names, as its caller may see it.
#include "server/lookups.h"

#include <gtest/gtest.h>

namespace berth::server {
namespace {

using json = nlohmann::json;

constexpr int64_t kT0 = 1'800'000'000'000;

class LookupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::ClusterConfig cluster;
    cluster.nodes = {core::Node{NodeId(), "n1", "A100", 4, 32, 500, core::NodeState::kUp}};
    cluster.prices = {{"A100", 200'000}};
    cluster.partitions = {core::Partition{"gpu", 3600, 600, true}};
    auto e = core::Engine::Create(cluster, kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    ours = engine->create_org("ours", core::OrgKind::kUniversity, kT0)->id;
    theirs = engine->create_org("theirs", core::OrgKind::kStartup, kT0)->id;
    our_project = engine->create_project(ours, "p-ours", kT0)->id;
    their_project = engine->create_project(theirs, "p-theirs", kT0)->id;
    member = Principal{"alice", Role::kMember, ours};
  }

  JobId submit(ProjectId project) {
    EXPECT_TRUE(engine->top_up(project, 1'000'000'000, "", kT0).ok());
    core::JobRequest r;
    r.project = project;
    r.gpus = 1;
    r.time_limit_s = 60;
    auto id = engine->submit(r, kT0);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : JobId();
  }

  const core::Account& wallet(ProjectId p) {
    return *engine->ledger().account(engine->funding().project(p)->wallet);
  }

  std::unique_ptr<core::Engine> engine;
  OrgId ours, theirs;
  ProjectId our_project, their_project;
  Principal member;
  const Principal admin{"root", Role::kAdmin, OrgId()};
  const Principal reviewer{"rita", Role::kReviewer, OrgId()};
};

TEST_F(LookupsTest, AMemberSeesTheirOwnOrganisationsWalletsOnly) {
  EXPECT_TRUE(sees_account(*engine, wallet(our_project), member));
  EXPECT_FALSE(sees_account(*engine, wallet(their_project), member));
  EXPECT_FALSE(sees_account(*engine, wallet(our_project), reviewer));
  size_t all = 0, mine = 0;
  for (const core::Account* a : engine->ledger().accounts()) {
    EXPECT_TRUE(sees_account(*engine, *a, admin));
    ++all;
    mine += sees_account(*engine, *a, member);
  }
  EXPECT_EQ(mine, 1u);  // the centre's own accounts are the admin's to see
  EXPECT_GT(all, 2u);
}

TEST_F(LookupsTest, AnotherOrganisationsProjectIsNotFoundButItsJobIsDenied) {
  EXPECT_TRUE(find_project(*engine, json("p-ours"), member).ok());
  EXPECT_EQ(find_project(*engine, json("p-theirs"), member).status().code(), Code::kNotFound);
  const JobId job = submit(their_project);
  EXPECT_EQ(find_job(*engine, std::to_string(job.value), member).status().code(),
            Code::kPermissionDenied);
  EXPECT_TRUE(find_job(*engine, std::to_string(job.value), admin).ok());
}

TEST_F(LookupsTest, TransfersAreListedByOneOfTheCallersJobsUnlessTheCallerIsTheAdmin) {
  const JobId mine = submit(our_project), other = submit(their_project);
  EXPECT_TRUE(may_list_transfers(*engine, 0, admin).ok());
  EXPECT_TRUE(may_list_transfers(*engine, static_cast<int64_t>(other.value), admin).ok());
  EXPECT_TRUE(may_list_transfers(*engine, static_cast<int64_t>(mine.value), member).ok());
  EXPECT_EQ(may_list_transfers(*engine, 0, member).code(), Code::kPermissionDenied);
  EXPECT_EQ(may_list_transfers(*engine, static_cast<int64_t>(other.value), member).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(may_list_transfers(*engine, 999, member).code(), Code::kNotFound);
  EXPECT_EQ(may_list_transfers(*engine, static_cast<int64_t>(mine.value), reviewer).code(),
            Code::kPermissionDenied);
}

TEST_F(LookupsTest, ApplicationsAreSeenByTheirOrganisationAndEveryFundingReader) {
  core::Application application;
  application.org = theirs;
  EXPECT_FALSE(sees_application(application, member));
  EXPECT_TRUE(sees_application(application, reviewer));
  EXPECT_TRUE(sees_application(application, admin));
  application.org = ours;
  EXPECT_TRUE(sees_application(application, member));
}

}  // namespace
}  // namespace berth::server
