// Nodes and their agents (node_agents.cc): registration, heartbeats, silence, the reasons for a
// node's state and restoring a stored node. The centre is EngineTest's: a1 (4 A100, 32 CPUs) and
// h1 (8 H100, 64 CPUs), each of 1000 MB, a project paying from its wallet.
#include <gtest/gtest.h>

#include "common/limits.h"
#include "core/engine_fixture.h"

namespace berth::core {
namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kTimeoutMs = 60'000;
const NodeId kA1(1);
const NodeId kH1(2);

// What h1's agent says when it finds h1 as configured.
AgentHello h1_as_configured() {
  return AgentHello{.agent_version = "0.9.0",
                    .address = "10.0.0.7",
                    .isolation = "cgroup1",
                    .gpu_model = "H100",
                    .gpus = 8,
                    .cpus = 64,
                    .memory_mb = 1000};
}

class NodeAgentsTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    top_up(1'000'0000);
  }
  const Node& h1() { return *engine->cluster().node(kH1); }
  const AuditRecord& last_audit() { return engine->audit().back(); }
  // A job of `gpus` H100s running on h1 since kT0.
  JobId running(int gpus) {
    const JobId id = submit(gpus);
    engine->schedule(kT0);
    EXPECT_EQ(job(id).state, JobState::kRunning);
    return id;
  }
  void registered(int64_t at_ms) {
    ASSERT_TRUE(engine->agent_registered(kH1, h1_as_configured(), at_ms).ok());
  }
  // h1's agent registers at kT0 and is silent for the hour after: h1 goes down.
  void silent_for_an_hour() {
    registered(kT0);
    engine->expire_silent_nodes(kT0 + kHour, kTimeoutMs, kT0);
    ASSERT_EQ(h1().state, NodeState::kDown);
  }
};

TEST_F(NodeAgentsTest, RegistrationRecordsWhatTheAgentSaysAndNothingElse) {
  const size_t audited = engine->audit().size();
  registered(kT0 + 1000);
  EXPECT_EQ(h1().agent_version, "0.9.0");
  EXPECT_EQ(h1().address, "10.0.0.7");
  EXPECT_EQ(h1().isolation, "cgroup1");
  EXPECT_EQ(h1().last_heartbeat_ms, kT0 + 1000);
  EXPECT_EQ(h1().state, NodeState::kUp);
  EXPECT_EQ(h1().state_reason, "");
  EXPECT_EQ(engine->audit().size(), audited);
  EXPECT_EQ(engine->agent_registered(NodeId(9), h1_as_configured(), kT0).code(), Code::kNotFound);
}

TEST_F(NodeAgentsTest, AnOverlongAgentTextIsRefusedAndChangesNothing) {
  AgentHello hello = h1_as_configured();
  hello.agent_version = std::string(300, 'v');
  const Status st = engine->agent_registered(kH1, hello, kT0);
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("agent version"), std::string::npos) << st.ToString();
  EXPECT_EQ(h1().agent_version, "");
  EXPECT_EQ(h1().last_heartbeat_ms, 0);
}

TEST_F(NodeAgentsTest, AHeartbeatMovesTheLastHeard) {
  registered(kT0);
  ASSERT_TRUE(engine->node_heard(kH1, kT0 + 5000).ok());
  EXPECT_EQ(h1().last_heartbeat_ms, kT0 + 5000);
  EXPECT_EQ(h1().agent_version, "0.9.0");
  EXPECT_EQ(engine->node_heard(NodeId(9), kT0).code(), Code::kNotFound);
}

TEST_F(NodeAgentsTest, ASilentNodeGoesDownAndItsJobIsChargedUpToTheLastHeartbeat) {
  const JobId id = running(2);
  registered(kT0);
  const int64_t heard = kT0 + 30 * kMinute;
  ASSERT_TRUE(engine->node_heard(kH1, heard).ok());
  // Silent for exactly the timeout is not yet silent too long.
  EXPECT_TRUE(engine->expire_silent_nodes(heard + kTimeoutMs, kTimeoutMs, kT0).empty());
  EXPECT_EQ(h1().state, NodeState::kUp);

  engine->set_actor("alice");  // whoever's request the pass falls in, it is berth's own step
  const int64_t now = heard + kTimeoutMs + 1;
  EXPECT_EQ(engine->expire_silent_nodes(now, kTimeoutMs, kT0), std::vector<JobId>{id});
  EXPECT_EQ(h1().state, NodeState::kDown);
  EXPECT_TRUE(h1().silent_down);
  EXPECT_EQ(h1().state_reason, "agent silent since 2027-01-15T08:30:00Z");
  EXPECT_EQ(job(id).state, JobState::kNodeFail);
  EXPECT_EQ(job(id).end_ms, heard);
  EXPECT_EQ(job(id).end_reason, "node h1 went down: agent silent since 2027-01-15T08:30:00Z");
  // Two GPUs for the half hour up to the heartbeat, paid from the wallet.
  EXPECT_EQ(job(id).cost_minor, kPrice * 2 * (heard - kT0) / kHour);
  EXPECT_EQ(revenue().credits_posted, kPrice);
  EXPECT_EQ(wallet().debits_posted, kPrice);
  EXPECT_EQ(wallet().debits_pending, 0);
  EXPECT_EQ(engine->cluster().used_gpus(), 0);
  EXPECT_EQ(last_audit().action, "node.down");
  EXPECT_EQ(last_audit().user, "system");
  EXPECT_EQ(last_audit().subject, "node h1");
  EXPECT_EQ(last_audit().note, "was up; ended jobs " + std::to_string(id.value) +
                                   "; agent silent since 2027-01-15T08:30:00Z");
  EXPECT_TRUE(engine->verify().ok());
  // Down already: a later pass ends nothing more.
  EXPECT_TRUE(engine->expire_silent_nodes(now + kHour, kTimeoutMs, kT0).empty());
}

TEST_F(NodeAgentsTest, AJobThatAskedToBeRequeuedIsRequeuedWithTheTimeItRan) {
  const JobId id = submit_requeueable();
  engine->schedule(kT0);
  registered(kT0 + 10 * kMinute);
  EXPECT_EQ(engine->expire_silent_nodes(kT0 + kHour, kTimeoutMs, kT0), std::vector<JobId>{id});
  EXPECT_EQ(job(id).state, JobState::kPending);
  EXPECT_EQ(job(id).restarts, 1);
  EXPECT_EQ(job(id).ran_ms, 10 * kMinute);
  EXPECT_EQ(revenue().credits_posted, kPrice * 10 * kMinute / kHour);
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(NodeAgentsTest, AJobStartedAfterTheLastHeartbeatIsChargedNothing) {
  registered(kT0 - kMinute);
  const JobId id = running(1);
  EXPECT_EQ(engine->expire_silent_nodes(kT0 + kHour, kTimeoutMs, kT0), std::vector<JobId>{id});
  EXPECT_EQ(job(id).end_ms, kT0);
  EXPECT_EQ(job(id).cost_minor, 0);
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(NodeAgentsTest, ANodeNoAgentEverRegisteredForIsNeverExpired) {
  const JobId id = running(1);
  EXPECT_TRUE(engine->expire_silent_nodes(kT0 + 1000 * kHour, kTimeoutMs, kT0).empty());
  for (const Node& n : engine->cluster().nodes()) EXPECT_EQ(n.state, NodeState::kUp) << n.name;
  EXPECT_EQ(job(id).state, JobState::kRunning);
}

TEST_F(NodeAgentsTest, NodesWaitDownForTheirFirstAgentWhoseRegistrationBringsThemUp) {
  registered(kT0);  // h1 has had an agent; the others never
  const size_t audited = engine->audit().size();
  EXPECT_TRUE(engine->await_agents(kT0 + 1).empty());
  for (const Node& n : engine->cluster().nodes()) {
    if (n.id == kH1) {
      EXPECT_EQ(n.state, NodeState::kUp);
      continue;
    }
    EXPECT_EQ(n.state, NodeState::kDown) << n.name;
    EXPECT_TRUE(n.silent_down);
    EXPECT_EQ(n.state_reason, "no agent has registered yet");
  }
  EXPECT_EQ(engine->audit().size(), audited + engine->cluster().nodes().size() - 1);
  const Node& other = engine->cluster().nodes().front();
  ASSERT_NE(other.id, kH1);
  AgentHello hello{"0.1.0", "", "none", other.gpu_model, other.gpus, other.cpus, other.memory_mb};
  ASSERT_TRUE(engine->agent_registered(other.id, hello, kT0 + 2).ok());
  EXPECT_EQ(engine->cluster().node(other.id)->state, NodeState::kUp);
}

TEST_F(NodeAgentsTest, WhenAgentsRunEveryJobANodeWithoutOneGoesDownAfterTheTimeout) {
  const JobId id = running(1);
  const int64_t opened = kT0 + kHour;  // berthd restarted with the job running
  EXPECT_TRUE(engine->expire_silent_nodes(opened + kTimeoutMs, kTimeoutMs, opened, true).empty());
  EXPECT_EQ(engine->expire_silent_nodes(opened + kTimeoutMs + 1, kTimeoutMs, opened, true),
            std::vector<JobId>{id});
  const Node* n = engine->cluster().node(job(id).node);
  EXPECT_EQ(n->state, NodeState::kDown);
  EXPECT_NE(n->state_reason.find("no agent since"), std::string::npos) << n->state_reason;
  EXPECT_EQ(job(id).end_ms, opened) << "charged up to when berthd opened, the last it knew";
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(NodeAgentsTest, AfterARestartEachNodeGetsAFullTimeout) {
  registered(kT0);
  const int64_t opened = kT0 + 10 * kMinute;  // berthd was away for ten minutes
  EXPECT_TRUE(engine->expire_silent_nodes(opened + kTimeoutMs, kTimeoutMs, opened).empty());
  EXPECT_EQ(h1().state, NodeState::kUp);
  engine->expire_silent_nodes(opened + kTimeoutMs + 1, kTimeoutMs, opened);
  EXPECT_EQ(h1().state, NodeState::kDown);
  EXPECT_EQ(h1().state_reason, "agent silent since 2027-01-15T08:00:00Z");
}

TEST_F(NodeAgentsTest, AnAgentRegisteringBringsItsSilentNodeBackUp) {
  registered(kT0);
  engine->expire_silent_nodes(kT0 + kHour, kTimeoutMs, kT0);
  ASSERT_EQ(h1().state, NodeState::kDown);
  engine->set_actor("alice");
  registered(kT0 + 2 * kHour);
  EXPECT_EQ(h1().state, NodeState::kUp);
  EXPECT_FALSE(h1().silent_down);
  EXPECT_EQ(h1().state_reason, "");
  EXPECT_EQ(h1().last_heartbeat_ms, kT0 + 2 * kHour);
  EXPECT_EQ(last_audit().action, "node.resume");
  EXPECT_EQ(last_audit().user, "system");
  EXPECT_EQ(last_audit().note, "was down; agent registered");
}

TEST_F(NodeAgentsTest, AnAdministratorsDownStaysDownWhenTheAgentRegisters) {
  registered(kT0);
  engine->expire_silent_nodes(kT0 + kHour, kTimeoutMs, kT0);
  ASSERT_TRUE(engine->change_node_state(kH1, NodeState::kDown, kT0 + kHour, "disk failed").ok());
  EXPECT_FALSE(h1().silent_down);
  const size_t audited = engine->audit().size();
  registered(kT0 + 2 * kHour);
  EXPECT_EQ(h1().state, NodeState::kDown);
  EXPECT_EQ(h1().state_reason, "disk failed");
  EXPECT_EQ(h1().last_heartbeat_ms, kT0 + 2 * kHour);
  EXPECT_EQ(engine->audit().size(), audited);
}

TEST_F(NodeAgentsTest, AnAdministratorsDrainSurvivesTheAgentsSilenceWithItsReason) {
  registered(kT0);
  engine->set_actor("root");
  ASSERT_TRUE(engine->change_node_state(kH1, NodeState::kDrain, kT0, "disk swap").ok());
  engine->expire_silent_nodes(kT0 + kHour, kTimeoutMs, kT0);
  ASSERT_EQ(h1().state, NodeState::kDown);
  EXPECT_TRUE(h1().silent_down);
  EXPECT_EQ(h1().state_reason, "agent silent since 2027-01-15T08:00:00Z");
  EXPECT_EQ(h1().state_before_silence, NodeState::kDrain);
  EXPECT_EQ(h1().reason_before_silence, "disk swap");
  EXPECT_EQ(last_audit().note, "was drained; agent silent since 2027-01-15T08:00:00Z");

  registered(kT0 + 2 * kHour);
  EXPECT_EQ(h1().state, NodeState::kDrain);
  EXPECT_EQ(h1().state_reason, "disk swap");
  EXPECT_FALSE(h1().silent_down);
  EXPECT_EQ(h1().state_before_silence, NodeState::kUp);
  EXPECT_EQ(h1().reason_before_silence, "");
  EXPECT_EQ(last_audit().action, "node.drain");
  EXPECT_EQ(last_audit().user, "system");
  EXPECT_EQ(last_audit().note, "was down; agent registered; still drained: disk swap");
  // Drained still: nothing starts there.
  const JobId id = submit(2);
  engine->schedule(kT0 + 2 * kHour);
  EXPECT_EQ(job(id).state, JobState::kPending);
}

TEST_F(NodeAgentsTest, ADrainBerthMadeForAShortAgentAlsoSurvivesItsSilence) {
  AgentHello hello = h1_as_configured();
  hello.gpus = 4;
  ASSERT_TRUE(engine->agent_registered(kH1, hello, kT0).ok());
  engine->expire_silent_nodes(kT0 + kHour, kTimeoutMs, kT0);
  ASSERT_EQ(h1().state, NodeState::kDown);
  registered(kT0 + 2 * kHour);  // now as configured: the drain stands until someone resumes it
  EXPECT_EQ(h1().state, NodeState::kDrain);
  EXPECT_EQ(h1().state_reason, "agent reports 4 GPUs, configured 8");
}

TEST_F(NodeAgentsTest, AnAdministratorsChangeWhileSilentStandsWhenTheAgentRegisters) {
  silent_for_an_hour();
  ASSERT_TRUE(engine->change_node_state(kH1, NodeState::kDrain, kT0 + kHour, "memory test").ok());
  EXPECT_FALSE(h1().silent_down);
  registered(kT0 + 2 * kHour);
  EXPECT_EQ(h1().state, NodeState::kDrain);
  EXPECT_EQ(h1().state_reason, "memory test");
}

TEST_F(NodeAgentsTest, AnAgentReportingLessThanConfiguredDrainsItsNode) {
  const JobId id = running(2);
  AgentHello hello = h1_as_configured();
  hello.gpus = 4;
  hello.gpu_model = "A100";
  ASSERT_TRUE(engine->agent_registered(kH1, hello, kT0).ok());
  const std::string why =
      "agent reports 4 GPUs, configured 8; agent reports GPU model A100, configured H100";
  EXPECT_EQ(h1().state, NodeState::kDrain);
  EXPECT_EQ(h1().state_reason, why);
  EXPECT_EQ(h1().gpus, 8);  // the configuration stays what is scheduled
  EXPECT_EQ(engine->cluster().total_gpus(), 12);
  EXPECT_EQ(job(id).state, JobState::kRunning);
  EXPECT_EQ(last_audit().action, "node.drain");
  EXPECT_EQ(last_audit().user, "system");
  EXPECT_EQ(last_audit().note, "was up; " + why);
}

TEST_F(NodeAgentsTest, AnAgentReportingLessCpusOrMemoryDrainsAndAnUndiscoveredModelStands) {
  AgentHello hello = h1_as_configured();
  hello.gpu_model = "";
  hello.cpus = 32;
  hello.memory_mb = 999;
  ASSERT_TRUE(engine->agent_registered(kH1, hello, kT0).ok());
  EXPECT_EQ(
      h1().state_reason,
      "agent reports 32 CPUs, configured 64; agent reports 999 MB of memory, configured 1000");
  // More than configured is no shortfall.
  hello = h1_as_configured();
  hello.gpus = 16;
  ASSERT_TRUE(engine->agent_registered(kA1, hello, kT0).ok());
  EXPECT_EQ(engine->cluster().node(kA1)->state, NodeState::kDrain);  // its model is A100
  ASSERT_TRUE(engine->change_node_state(kA1, NodeState::kUp, kT0).ok());
  hello.gpu_model = "A100";
  ASSERT_TRUE(engine->agent_registered(kA1, hello, kT0).ok());
  EXPECT_EQ(engine->cluster().node(kA1)->state, NodeState::kUp);
}

TEST_F(NodeAgentsTest, AnAdministratorsDrainKeepsItsReasonWhenAShortAgentRegisters) {
  ASSERT_TRUE(engine->change_node_state(kH1, NodeState::kDrain, kT0, "fan replaced").ok());
  const size_t audited = engine->audit().size();
  AgentHello hello = h1_as_configured();
  hello.gpus = 4;
  ASSERT_TRUE(engine->agent_registered(kH1, hello, kT0).ok());
  EXPECT_EQ(h1().state, NodeState::kDrain);
  EXPECT_EQ(h1().state_reason, "fan replaced");
  EXPECT_EQ(engine->audit().size(), audited);
}

TEST_F(NodeAgentsTest, AnAdministratorsReasonIsKeptAuditedAndClearedOnResume) {
  engine->set_actor("root");
  ASSERT_TRUE(engine->change_node_state(kH1, NodeState::kDrain, kT0, "fan replaced").ok());
  EXPECT_EQ(h1().state_reason, "fan replaced");
  EXPECT_EQ(last_audit().user, "root");
  EXPECT_EQ(last_audit().action, "node.drain");
  EXPECT_EQ(last_audit().note, "was up; reason: fan replaced");
  ASSERT_TRUE(engine->change_node_state(kH1, NodeState::kUp, kT0).ok());
  EXPECT_EQ(h1().state_reason, "");
  EXPECT_EQ(last_audit().note, "was drained");
}

TEST_F(NodeAgentsTest, AnOverlongReasonIsRefusedAndChangesNothing) {
  const size_t audited = engine->audit().size();
  const Status st =
      engine->change_node_state(kH1, NodeState::kDown, kT0, std::string(kMaxReasonBytes + 1, 'x'))
          .status();
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("reason"), std::string::npos) << st.ToString();
  EXPECT_EQ(h1().state, NodeState::kUp);
  EXPECT_EQ(engine->audit().size(), audited);
}

TEST_F(NodeAgentsTest, RestoringAStoredNodeAppliesItsFieldsAndRecordsNothing) {
  registered(kT0);
  engine->drain_changes();
  const size_t audited = engine->audit().size();
  Node stored = h1();
  stored.id = NodeId(7);  // stored under another id: found by its name
  stored.state = NodeState::kDown;
  stored.state_reason = "agent silent since 2027-01-15T08:00:00Z";
  stored.silent_down = true;
  stored.agent_version = "0.8.0";
  stored.address = "10.0.0.8";
  stored.isolation = "none (not root)";
  stored.last_heartbeat_ms = kT0 - kHour;
  ASSERT_TRUE(engine->restore_node(stored, kT0 + kHour).ok());
  Node want = stored;
  want.id = kH1;
  EXPECT_EQ(h1(), want);
  EXPECT_EQ(engine->audit().size(), audited);
  EXPECT_TRUE(engine->drain_changes().empty());
  // Restored silent, it comes back up when its agent registers.
  registered(kT0 + 2 * kHour);
  EXPECT_EQ(h1().state, NodeState::kUp);

  // Restored silent with an administrator's drain under its silence: drained again.
  stored.state_before_silence = NodeState::kDrain;
  stored.reason_before_silence = "disk swap";
  ASSERT_TRUE(engine->restore_node(stored, kT0 + 3 * kHour).ok());
  EXPECT_EQ(h1().state, NodeState::kDown);
  registered(kT0 + 4 * kHour);
  EXPECT_EQ(h1().state, NodeState::kDrain);
  EXPECT_EQ(h1().state_reason, "disk swap");

  stored.name = "gone";
  EXPECT_EQ(engine->restore_node(stored, kT0).code(), Code::kNotFound);
}

}  // namespace
}  // namespace berth::core
