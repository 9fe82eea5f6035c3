// The API's field readers on bad input: every refusal is a Status naming the field, never an
// exception and never a value wrapped into range.
#include "server/request_fields.h"

#include <gtest/gtest.h>

#include "server/lookups.h"

namespace berth::server {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;

core::ClusterConfig one_node() {
  core::ClusterConfig c;
  c.nodes = {core::Node{NodeId(), "h1", "H100", 8, 64, 1000, core::NodeState::kUp}};
  c.prices = {{"H100", 300'000}};
  c.partitions = {core::Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

class RequestFieldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = core::Engine::Create(one_node(), kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    org_a = engine->create_org("a", core::OrgKind::kUniversity, kT0)->id;
    org_b = engine->create_org("b", core::OrgKind::kUniversity, kT0)->id;
    project_a = engine->create_project(org_a, "pa", kT0)->id;
    project_b = engine->create_project(org_b, "pb", kT0)->id;
    ASSERT_TRUE(engine->top_up(project_b, 1'000'000'000, "", kT0).ok());
  }

  JobId submit_b() {
    core::JobRequest r;
    r.project = project_b;
    r.gpus = 1;
    r.time_limit_s = 60;
    auto id = engine->submit(r, kT0);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : JobId();
  }

  std::unique_ptr<core::Engine> engine;
  OrgId org_a, org_b;
  ProjectId project_a, project_b;
  Principal member_a{"alice", Role::kMember, OrgId()};
  Principal admin{"root", Role::kAdmin, OrgId()};
};

void expect_invalid(const Status& st, const std::string& word) {
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find(word), std::string::npos) << st.ToString();
}

TEST_F(RequestFieldsTest, IntegerAboveInt64IsTooLargeNotWrapped) {
  const json b = json::parse(R"({"nodes": 9223372036854775808, "gpus": 18446744073709551615})");
  auto nodes = int_field(b, "nodes", true);
  ASSERT_FALSE(nodes.ok());
  expect_invalid(nodes.status(), "'nodes' is too large");
  EXPECT_EQ(nodes.status().message().find("-9223372036854775808"), std::string::npos);
  EXPECT_FALSE(int_field(b, "gpus", true).ok());
  EXPECT_EQ(*int_field(json::parse(R"({"n": 9223372036854775807})"), "n", true), INT64_MAX);
}

TEST_F(RequestFieldsTest, AmountAboveTheRequestLimitNamesTheField) {
  for (const char* body :
       {R"({"amount": 9223372036854775807})", R"({"amount": 18446744073709551615})",
        R"({"amount": "99999999999999999999999999.5"})", R"({"amount": "1000000000000.0001"})"}) {
    auto a = amount_field(json::parse(body), "amount");
    ASSERT_FALSE(a.ok()) << body;
    expect_invalid(a.status(), "'amount'");
    expect_invalid(a.status(), "too large");
  }
  EXPECT_EQ(*amount_field(json::parse(R"({"amount": "1000000000000"})"), "amount"),
            kMaxRequestAmountMinor);
  auto negative = amount_field(json::parse(R"({"amount": -5})"), "amount");
  ASSERT_FALSE(negative.ok());
  expect_invalid(negative.status(), "'amount'");
  EXPECT_EQ(*amount_field(json::parse(R"({"amount": -5})"), "amount", true), -5 * kMinorPerUnit);
}

TEST_F(RequestFieldsTest, NamesWithControlCharactersAreRefused) {
  for (const std::string& name :
       std::vector<std::string>{"a\x1b[2Jb", "tab\there", "line\nbreak", std::string("nul\0x", 5),
                                "del\x7f", "c1\xc2\x9b"}) {
    auto n = name_field(json{{"name", name}}, "name", true);
    ASSERT_FALSE(n.ok()) << name;
    expect_invalid(n.status(), "'name' must not hold control characters");
  }
  EXPECT_EQ(*name_field(json{{"name", "Zoë's run (2) ✓"}}, "name", true), "Zoë's run (2) ✓");
}

TEST_F(RequestFieldsTest, JobNameWithControlCharactersIsRefused) {
  member_a.org = org_a;
  const json b = {{"project", "pa"}, {"gpus", 1}, {"name", "\x1b[2J"}};
  auto r = job_request(*engine, b, member_a, true);
  ASSERT_FALSE(r.ok());
  expect_invalid(r.status(), "'name'");
}

TEST_F(RequestFieldsTest, HugeOrNegativeIdsNameNothing) {
  for (const json& ref : {json("123456789012345678901234567890"), json(-1), json(1.5),
                          json("18446744073709551616")}) {
    auto o = find_org(*engine, ref, admin);
    ASSERT_FALSE(o.ok()) << ref.dump();
    EXPECT_EQ(o.status().code(), Code::kNotFound) << ref.dump();
  }
  EXPECT_EQ((*find_org(*engine, json("1"), admin))->id, org_a);
  EXPECT_EQ(path_id("1234567890123456789", "job").status().code(), Code::kInvalidArgument);
}

TEST_F(RequestFieldsTest, MemberCannotDependOnAnotherOrganisationsJob) {
  const JobId theirs = submit_b();
  member_a.org = org_a;
  const json b = {
      {"project", "pa"}, {"gpus", 1}, {"dependency", "afterok:" + std::to_string(theirs.value)}};
  auto r = job_request(*engine, b, member_a, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("job " + std::to_string(theirs.value) + " not found"),
            std::string::npos);
  // Refused exactly as a job that does not exist is.
  auto none = job_request(*engine, {{"project", "pa"}, {"gpus", 1}, {"dependency", "afterok:999"}},
                          member_a, true);
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  // An admin may, and a member of the job's own organisation may.
  EXPECT_TRUE(job_request(*engine, {{"project", "pb"}, {"gpus", 1}, {"dependency", "afterok:1"}},
                          admin, true)
                  .ok());
  Principal member_b{"bob", Role::kMember, org_b};
  EXPECT_TRUE(job_request(*engine, {{"project", "pb"}, {"gpus", 1}, {"dependency", "afterok:1"}},
                          member_b, true)
                  .ok());
}

TEST_F(RequestFieldsTest, AGpuModelMatchesWhateverItsCaseAndAnUnknownOneListsTheModels) {
  const json b = {{"project", "pb"}, {"gpus", 1}, {"gpu_model", "h100"}, {"time_limit_s", 60}};
  auto r = job_request(*engine, b, admin, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto id = engine->submit(*r, kT0);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(engine->job(*id)->gpu_model, "H100");
  ASSERT_TRUE(engine->quote(*r, kT0).ok());
  r->gpu_model = "A100";
  auto unknown = engine->quote(*r, kT0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "no node has GPU model 'A100'; this cluster has H100");
}

TEST_F(RequestFieldsTest, TheLaunchDescriptionKeepsSlurmsFields) {
  const json b = {{"workdir", "/w/runs"},
                  {"submit_dir", "/w"},
                  {"signal", "B:SIGUSR1@90"},
                  {"resources", {{"mem_mb", 0}, {"cpus_per_task", 8}}}};
  auto l = launch_json(b);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ((*l)["submit_dir"], "/w");
  EXPECT_EQ((*l)["signal"], "B:USR1@90");
  EXPECT_EQ((*l)["resources"], json({{"mem_mb", 0}, {"cpus_per_task", 8}}));
  EXPECT_EQ((*launch_json({{"workdir", "/w"}}))["submit_dir"], "/w");
}

TEST_F(RequestFieldsTest, BadSlurmFieldsInTheLaunchDescriptionAreRefused) {
  const json base = {{"workdir", "/w"}};
  const auto with = [&base](const char* key, const json& value) {
    json b = base;
    b[key] = value;
    return launch_json(b).status();
  };
  expect_invalid(with("submit_dir", "relative"), "submit_dir");
  expect_invalid(with("signal", "KILL"), "signal");
  expect_invalid(with("signal", 10), "signal");
  expect_invalid(with("resources", {{"mem_mb", -1}}), "mem_mb");
  expect_invalid(with("resources", {{"gpus_per_task", 1}}), "unknown key 'gpus_per_task'");
  expect_invalid(with("resources", {{"ntasks", "2"}}), "ntasks");
  expect_invalid(with("resources", "lots"), "resources");
  json env = json::object();
  for (size_t i = 0; i <= kMaxEnvVariables; ++i) env["V" + std::to_string(i)] = "x";
  expect_invalid(with("env", env), "more than 1024 variables");
  expect_invalid(with("env", {{"BIG", std::string(kMaxEnvBytes, 'x')}}), "larger than");
}

TEST(RequestBodyTest, ABodyThatIsNotAJsonObjectIsA400SayingWhatIsWrong) {
  for (const char* text : {R"({"name":)", "", "name=x"}) {
    auto b = body_object(text, 1024);
    ASSERT_FALSE(b.ok()) << text;
    EXPECT_EQ(b.status().code(), Code::kInvalidArgument) << text;
    EXPECT_EQ(b.status().message(), "request body is not valid JSON") << text;
  }
  auto list = body_object("[1,2]", 1024);
  EXPECT_EQ(list.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(list.status().message(), "request body must be a JSON object");
  auto big = body_object(R"({"name":"a long name"})", 8);
  EXPECT_EQ(big.status().code(), Code::kPayloadTooLarge);
  EXPECT_EQ(big.status().message(), "request body is larger than 8 bytes");
  auto good = body_object(R"({"name":"hku"})", 1024);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->value("name", ""), "hku");
}

}  // namespace
}  // namespace berth::server
