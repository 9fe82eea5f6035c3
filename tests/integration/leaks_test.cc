// What one organisation's members may learn of another's: nothing of its jobs through the node
// listing; and what a statement's CSV carries into a spreadsheet: text, never a formula.
#include <gtest/gtest.h>

#include <string>

#include "harness.h"

namespace berth::testing {
namespace {

class LeaksTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    make_two_orgs();
    must_succeed(*daemon, "POST", "/v1/projects/pb/topups", R"({"amount":"5000"})");
    alice = make_token(*daemon, "alice", "member", "a");
    bob = make_token(*daemon, "bob", "member", "b");
  }
  std::string alice, bob;
};

// The job ids listed on any node, and the count of others' jobs.
std::pair<std::vector<uint64_t>, int64_t> jobs_on_nodes(const json& nodes) {
  std::vector<uint64_t> ids;
  int64_t others = 0;
  for (const json& n : nodes["nodes"]) {
    for (const json& id : n["jobs"]) ids.push_back(id.get<uint64_t>());
    others += n.value("other_jobs", 0);
  }
  return {ids, others};
}

TEST_F(LeaksTest, NodesShowAMemberOnlyTheirOwnOrganisationsJobs) {
  const json job = {{"project", "pb"},
                    {"gpus", 1},
                    {"time_limit_s", 600},
                    {"workdir", work},
                    {"script", "#!/bin/sh\nsleep 30\n"}};
  const uint64_t id =
      must_succeed(*daemon, "POST", "/v1/jobs", job.dump(), bob).value("id", uint64_t{0});
  ASSERT_TRUE(eventually([&] {
    return daemon->api("GET", "/v1/jobs/" + std::to_string(id)).second.value("state", "") ==
           "RUNNING";
  }));

  auto [alice_ids, alice_others] =
      jobs_on_nodes(must_succeed(*daemon, "GET", "/v1/nodes", "", alice));
  EXPECT_TRUE(alice_ids.empty());
  EXPECT_EQ(alice_others, 1);
  auto [bob_ids, bob_others] = jobs_on_nodes(must_succeed(*daemon, "GET", "/v1/nodes", "", bob));
  EXPECT_EQ(bob_ids, std::vector<uint64_t>{id});
  EXPECT_EQ(bob_others, 0);
  const json admin_view = must_succeed(*daemon, "GET", "/v1/nodes", "");
  EXPECT_EQ(jobs_on_nodes(admin_view).first, std::vector<uint64_t>{id});
  EXPECT_FALSE(admin_view["nodes"][0].contains("other_jobs"));

  must_succeed(*daemon, "POST", "/v1/jobs/" + std::to_string(id) + "/cancel", "{}", bob);
  EXPECT_TRUE(eventually([&] {
    return daemon->api("GET", "/v1/jobs/" + std::to_string(id)).second.value("state", "") ==
           "CANCELLED";
  }));
}

TEST_F(LeaksTest, MemberCannotDependOnAnotherOrganisationsJob) {
  must_succeed(*daemon, "POST", "/v1/projects/pa/topups", R"({"amount":"100"})");
  const json theirs = {{"project", "pb"},
                       {"gpus", 1},
                       {"hold", true},
                       {"workdir", work},
                       {"script", "#!/bin/sh\ntrue\n"}};
  const uint64_t id =
      must_succeed(*daemon, "POST", "/v1/jobs", theirs.dump(), bob).value("id", uint64_t{0});
  const json mine = {{"project", "pa"},
                     {"gpus", 1},
                     {"workdir", work},
                     {"script", "#!/bin/sh\ntrue\n"},
                     {"dependency", "afterok:" + std::to_string(id)}};
  auto [status, body] = daemon->api("POST", "/v1/jobs", mine.dump(), alice);
  EXPECT_EQ(status, 404) << body.dump();
  EXPECT_EQ(body["error"].value("message", ""),
            "dependency job " + std::to_string(id) + " not found");
  // The same as a job that does not exist: nothing tells the two apart.
  json none = mine;
  none["dependency"] = "afterok:999";
  EXPECT_EQ(
      daemon->api("POST", "/v1/jobs", none.dump(), alice).second["error"].value("message", ""),
      "dependency job 999 not found");
  EXPECT_EQ(must_succeed(*daemon, "GET", "/v1/jobs", "", alice)["jobs"].size(), 0u);
}

TEST_F(LeaksTest, StatementCsvCarriesNoFormula) {
  const json formula = {{"amount", "12.5"},
                        {"reference", "=HYPERLINK(\"http://evil.example\",\"pay\")"}};
  must_succeed(*daemon, "POST", "/v1/projects/pa/topups", formula.dump(), alice);
  const json sum = {{"amount", "1"}, {"reference", "@SUM(A1:A9)"}};
  must_succeed(*daemon, "POST", "/v1/projects/pa/topups", sum.dump(), alice);
  must_succeed(*daemon, "POST", "/v1/projects/pa/adjustments",
               R"({"amount":"-3.5","reason":"+correction"})");
  auto [status, body] = daemon->api("GET", "/v1/projects/pa/statement?format=csv", "", alice);
  ASSERT_EQ(status, 200);
  const std::string csv = body.value("raw", "");
  EXPECT_NE(csv.find("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"pay\"\")\""), std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",'@SUM(A1:A9),"), std::string::npos) << csv;
  EXPECT_EQ(csv.find(",=HYPERLINK"), std::string::npos) << csv;
  EXPECT_EQ(csv.find(",\"=HYPERLINK"), std::string::npos) << csv;
  EXPECT_EQ(csv.find(",@SUM"), std::string::npos) << csv;
  // Amounts stay numbers, a negative one included.
  EXPECT_NE(csv.find(",12.5000,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",-3.5000,"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("'-3.5000"), std::string::npos) << csv;
}

}  // namespace
}  // namespace berth::testing
