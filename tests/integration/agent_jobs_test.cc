// Jobs run by real berth-agent processes for a real berthd: where they run, that they outlive
// berthd, and that each ends once, charged for what it ran.
#include "integration/agent_cluster.h"

namespace berth::testing {
namespace {

class AgentJobsTest : public AgentsTest {
 protected:
  void SetUp() override {
    AgentsTest::SetUp();
    make_two_funded_orgs();
  }
};

TEST_F(AgentJobsTest, AJobRunsUnderTheAgentOfItsNode) {
  start_agents({"n1", "n2"});
  const uint64_t id = submit_pa(
      "-w n2 --wrap 'echo nodes=$SLURM_JOB_NODELIST; tr \"\\\\0\" \" \" < /proc/$PPID/cmdline'");
  ASSERT_GT(id, 0u);
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "COMPLETED") << job(id).dump();
  const std::string out = output(id);
  EXPECT_NE(out.find("nodes=n2"), std::string::npos) << out;
  EXPECT_NE(out.find("berth-agent --node n2"), std::string::npos) << "its parent: " << out;
}

TEST_F(AgentJobsTest, ANodeWaitsDownForItsAgentAndAJobWaitsForTheNode) {
  EXPECT_EQ(node("n1").value("state", ""), "down");
  EXPECT_EQ(node("n1").value("reason", ""), "no agent has registered yet");
  const uint64_t id = submit_pa("-w n1 --wrap 'echo hello'");
  ASSERT_GT(id, 0u);
  EXPECT_EQ(state(id), "PENDING");
  start_agents({"n1"});
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "COMPLETED");
  EXPECT_EQ(output(id), "hello\n");
}

TEST_F(AgentJobsTest, CancellingAJobStopsItOnItsAgent) {
  start_agents({"n1"});
  const uint64_t id = submit_pa("-w n1 --wrap 'sleep 600'");
  ASSERT_TRUE(eventually([&] { return state(id) == "RUNNING"; })) << job(id).dump();
  must("cancel " + std::to_string(id));
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "CANCELLED");
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/reconcile", "").value("ok", false));
}

class AgentJobsOutliveBerthdTest : public AgentJobsTest {
 protected:
  AgentJobsOutliveBerthdTest() { node_timeout_s = 30; }
};

TEST_F(AgentJobsOutliveBerthdTest, AJobOutlivesAKilledBerthdEndsOnceAndIsChargedForWhatItRan) {
  start_agents({"n1"});
  const std::string flag = work + "/go";
  const uint64_t id = submit_pa("-w n1 --wrap 'while [ ! -e " + flag +
                                " ]; do sleep 0.1; done; echo done; exit 4'");
  ASSERT_TRUE(eventually([&] { return state(id) == "RUNNING"; })) << job(id).dump();
  daemon->kill_hard();
  std::ofstream(flag) << "go\n";  // the job ends while berthd is away
  ASSERT_TRUE(eventually([&] { return output(id) == "done\n"; })) << output(id);
  daemon->start();
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  const json j = job(id);
  EXPECT_EQ(j.value("state", ""), "FAILED") << j.dump();  // exit 4: as it ended, not NODE_FAIL
  EXPECT_EQ(j.value("exit_code", -1), 4) << j.dump();
  EXPECT_EQ(output(id), "done\n") << "it ran once";
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/reconcile", "").value("ok", false));
  // Stopping berthd in an orderly way ends no job either.
  const uint64_t second =
      submit_pa("-w n1 --wrap 'while [ ! -e " + flag + "2 ]; do sleep 0.1; done; echo second'");
  ASSERT_TRUE(eventually([&] { return state(second) == "RUNNING"; })) << job(second).dump();
  daemon->stop();
  daemon->start();
  EXPECT_EQ(state(second), "RUNNING");
  std::ofstream(flag + "2") << "go\n";
  ASSERT_TRUE(eventually([&] { return ended(second); })) << job(second).dump();
  EXPECT_EQ(state(second), "COMPLETED");
}

TEST_F(AgentJobsOutliveBerthdTest, AJobStartedWhileItsAgentIsAwayIsSentWhenItRegisters) {
  start_agents({"n1"});
  agent("n1").kill_hard();  // n1 stays up until its timeout (30 s here)
  const uint64_t id = submit_pa("-w n1 --wrap 'echo ran'");
  ASSERT_TRUE(eventually([&] { return state(id) == "RUNNING"; })) << job(id).dump();
  agent("n1").start();
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "COMPLETED") << job(id).dump();
  EXPECT_EQ(output(id), "ran\n");
}

// With a timeout of 6 s, a grace period of 1 s and heartbeats every 0.5 s, the agents' lease is
// 4 s (config.h fence_ms).
class AgentJobsFencingTest : public AgentJobsTest {
 protected:
  AgentJobsFencingTest() {
    node_timeout_s = 6;
    grace_s = 1;
  }
};

TEST_F(AgentJobsFencingTest, ARequeueableJobCutOffFromBerthdIsStoppedBeforeItCanRunTwice) {
  start_agents({"n1"});
  const std::string log = work + "/attempts";
  const uint64_t id =
      submit_pa("--requeue -w n1 --wrap 'echo start >> " + log + "; trap \"echo end >> " + log +
                "; exit 143\" TERM; sleep 600 & wait'");
  ASSERT_TRUE(eventually([&] { return read_file(log) == "start\n"; })) << job(id).dump();
  ::kill(daemon->pid(), SIGSTOP);  // berthd stalls: no heartbeat is acknowledged
  const bool fenced = eventually([&] { return read_file(log) == "start\nend\n"; });
  ::kill(daemon->pid(), SIGCONT);
  ASSERT_TRUE(fenced) << read_file(log) << agent("n1").log();
  // The agent or its watchdog, whichever looks first (both log to the agent's log).
  const std::string agent_log = agent("n1").log();
  EXPECT_TRUE(agent_log.find("silent past the lease") != std::string::npos ||
              agent_log.find("lease ran out") != std::string::npos)
      << agent_log;
  // berthd learns it was lost and requeues it: the next attempt starts only now.
  ASSERT_TRUE(eventually([&] { return read_file(log) == "start\nend\nstart\n"; }))
      << read_file(log) << job(id).dump();
  EXPECT_EQ(state(id), "RUNNING");
}

}  // namespace
}  // namespace berth::testing
