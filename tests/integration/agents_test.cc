// berth-agent and berthd over gRPC, both real processes: registration, heartbeats, a silent
// agent's node going down, refusals, and agents finding a restarted berthd again.
#include <grpcpp/grpcpp.h>

#include "common/version.h"
#include "integration/agent_cluster.h"
#include "proto/agent.grpc.pb.h"

namespace berth::testing {
namespace {

namespace pb = ::berth::agent::v1;

// How many times `needle` occurs in `text`.
size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST_F(AgentsTest, AgentsRegisterAndBerthNodesShowsThem) {
  agent("n1").start();
  agent("n2").start();
  ASSERT_TRUE(eventually([&] { return heard("n1") && heard("n2"); }))
      << daemon->api("GET", "/v1/nodes").second.dump();
  const json n1 = node("n1");
  EXPECT_EQ(n1["agent_version"], kBerthVersion);
  EXPECT_EQ(n1["address"], "127.0.0.1");  // as berthd saw the stream, none being configured
  EXPECT_EQ(n1["state"], "up");
  const CliResult nodes = cli("nodes");
  ASSERT_EQ(nodes.exit_code, 0) << nodes.out;
  EXPECT_EQ(count(nodes.out, kBerthVersion), 2u) << nodes.out;
  EXPECT_NE(nodes.out.find("ago"), std::string::npos) << nodes.out;
  // Heartbeats go on: the node's last heartbeat moves.
  const std::string first = node("n1").value("last_heartbeat", "");
  EXPECT_TRUE(eventually([&] { return node("n1").value("last_heartbeat", "") != first; }));
}

TEST_F(AgentsTest, ASilentAgentPutsItsNodeDownEndingItsJobsAndItsReturnBringsItUp) {
  make_two_funded_orgs();
  agent("n1").start();
  agent("n2").start();
  ASSERT_TRUE(eventually([&] { return heard("n1") && heard("n2"); }));
  const CliResult submitted = cli("submit --parsable -A pa --gpus 8 -w n2 --wrap 'sleep 600'");
  const uint64_t id = std::strtoull(submitted.out.c_str(), nullptr, 10);
  ASSERT_GT(id, 0u) << submitted.out;
  ASSERT_TRUE(eventually([&] { return state(id) == "RUNNING"; })) << job(id).dump();

  agent("n2").kill_hard();
  ASSERT_TRUE(eventually([&] { return node("n2").value("state", "") == "down"; }))
      << node("n2").dump();
  EXPECT_NE(node("n2").value("reason", "").find("agent silent since"), std::string::npos)
      << node("n2").dump();
  EXPECT_TRUE(eventually([&] { return state(id) == "NODE_FAIL"; })) << job(id).dump();
  EXPECT_EQ(node("n1").value("state", ""), "up");
  const CliResult nodes = cli("nodes");
  EXPECT_NE(nodes.out.find("agent silent since"), std::string::npos) << nodes.out;

  agent("n2").start();
  EXPECT_TRUE(eventually([&] { return node("n2").value("state", "") == "up"; }))
      << node("n2").dump();
  EXPECT_EQ(node("n2").value("reason", "?"), "");
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/reconcile", "").value("ok", false))
      << "the books reconcile after a node failure";
}

TEST_F(AgentsTest, AnAdministratorsDownOutlastsTheAgentsReturn) {
  agent("n1").start();
  ASSERT_TRUE(eventually([&] { return heard("n1"); }));
  must("node down n1 --reason 'bad fan'");
  agent("n1").kill_hard();
  agent("n1").start();
  const size_t before = count(read_file(daemon->state_dir() + ".log"), "node n1: agent");
  ASSERT_TRUE(eventually(
      [&] { return count(read_file(daemon->state_dir() + ".log"), "node n1: agent") > before; }));
  EXPECT_EQ(node("n1").value("state", ""), "down");
  EXPECT_EQ(node("n1").value("reason", ""), "bad fan");
}

TEST_F(AgentsTest, AnAgentForANodeBerthdDoesNotKnowIsToldSoAndKeepsTrying) {
  agent("nosuch").start();
  ASSERT_TRUE(eventually([&] {
    return agent("nosuch").log().find("node 'nosuch' is not in berthd's configuration") !=
           std::string::npos;
  })) << agent("nosuch").log();
  EXPECT_TRUE(agent("nosuch").running());
  EXPECT_EQ(node("nosuch"), json::object());
}

TEST_F(AgentsTest, AnAgentOfAnotherProtocolIsRefusedNamingBothVersions) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(agent_port),
                                     grpc::InsecureChannelCredentials());
  auto stub = pb::Controller::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub->Connect(&ctx);
  pb::FromAgent hello;
  hello.mutable_register_()->set_protocol(99);
  hello.mutable_register_()->set_node("n1");
  hello.mutable_register_()->set_agent_version("9.9.9");
  ASSERT_TRUE(stream->Write(hello));
  pb::ToAgent answer;
  ASSERT_TRUE(stream->Read(&answer));
  ASSERT_TRUE(answer.has_refused()) << answer.DebugString();
  EXPECT_EQ(answer.refused().why(), pb::Refused::VERSION);
  EXPECT_NE(answer.refused().message().find("berth-agent 9.9.9 on n1 speaks protocol 99"),
            std::string::npos)
      << answer.refused().message();
  EXPECT_NE(answer.refused().message().find("upgrade berthd"), std::string::npos);
  EXPECT_FALSE(stream->Read(&answer));  // the stream ends after a refusal
  EXPECT_TRUE(node("n1").value("agent_version", "").empty()) << "nothing recorded";
}

TEST_F(AgentsTest, AHeartbeatBeforeTheRegistrationIsRefused) {
  auto stub = pb::Controller::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(agent_port),
                                                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub->Connect(&ctx);
  pb::FromAgent beat;
  beat.mutable_heartbeat()->set_seq(1);
  ASSERT_TRUE(stream->Write(beat));
  pb::ToAgent answer;
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.refused().why(), pb::Refused::NOT_REGISTERED) << answer.DebugString();
}

TEST_F(AgentsTest, AgentsFindARestartedBerthdAndASilentOneStillGoesDownAfterIt) {
  agent("n1").start();
  agent("n2").start();
  ASSERT_TRUE(eventually([&] { return heard("n1") && heard("n2"); }));
  daemon->kill_hard();
  agent("n2").kill_hard();  // n2's agent dies while berthd is away
  daemon->start();
  const std::string log = daemon->state_dir() + ".log";
  EXPECT_TRUE(eventually([&] { return count(read_file(log), "node n1: agent") >= 2; }))
      << read_file(log);
  // n2 had an agent before the restart: its silence counts from the restart.
  EXPECT_TRUE(eventually([&] { return node("n2").value("state", "") == "down"; }))
      << node("n2").dump();
  EXPECT_EQ(node("n1").value("state", ""), "up");
  EXPECT_NE(agent("n1").log().find("dialling again"), std::string::npos) << agent("n1").log();
}

}  // namespace
}  // namespace berth::testing
