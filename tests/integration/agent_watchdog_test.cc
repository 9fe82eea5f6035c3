// An agent that cannot fence: SIGKILLed or SIGSTOPped, it never sees its lease run out, while
// berthd requeues its --requeue jobs once the node's timeout passes. Its watchdog (a process of
// its own) stops them first: each test watches the job's process vanish while berthd still
// has the node up. A job that is not fenceable runs on until the agent returns, and the
// restarted agent empties the cgroups its predecessor left.
#include <unistd.h>

#include "integration/agent_cluster.h"

namespace berth::testing {
namespace {

class AgentWatchdogTest : public AgentsTest {
 protected:
  // The lease (node timeout - grace - 2 heartbeats) is 4 s: a job that ends on SIGTERM is gone
  // about 4 s before berthd can time its node out.
  AgentWatchdogTest() {
    node_timeout_s = 8;
    grace_s = 3;
  }
  void SetUp() override {
    AgentsTest::SetUp();
    make_two_funded_orgs();
  }
  // n1 is renamed to a node no other test's agents use: a restarted agent empties the cgroups
  // its node's earlier agents left, whichever test started them.
  std::string config() override {
    std::string c = AgentsTest::config();
    const std::string n1 = R"(name = "n1")";
    return c.replace(c.find(n1), n1.size(), R"(name = ")" + n + '"');
  }
  const std::string n = "wd" + std::to_string(::getpid());
  // A job on node n whose process (`sleep`, after `prefix`) carries this test's mark.
  uint64_t submit_sleep(const std::string& flags, const std::string& prefix = "exec") {
    return submit_pa(flags + " -w " + n + " --wrap '" + prefix + " env " + mark() + " sleep 600'");
  }
  std::string mark() const { return "BERTH_WATCHDOG_TEST=" + work; }
  std::map<int, std::string> job_processes() { return processes_with_env(mark()); }
  size_t watchdogs() { return agent(n).watchdogs().size(); }
  std::string node_state() { return node(n).value("state", ""); }
};

TEST_F(AgentWatchdogTest, AKilledAgentsRequeueableJobIsStoppedBeforeItsNodeTimesOut) {
  start_agents({n});
  ASSERT_TRUE(eventually([&] { return watchdogs() == 1; })) << agent(n).log();
  const uint64_t id = submit_sleep("--requeue");
  ASSERT_TRUE(eventually([&] { return !job_processes().empty(); })) << job(id).dump();
  agent(n).kill_hard();
  ASSERT_TRUE(eventually([&] { return job_processes().empty(); })) << agent(n).log();
  EXPECT_EQ(node_state(), "up") << "the job was gone before berthd could time its node out";
  EXPECT_EQ(state(id), "RUNNING");
  EXPECT_NE(agent(n).log().find("lease ran out"), std::string::npos) << agent(n).log();
  EXPECT_TRUE(eventually([&] { return watchdogs() == 0; })) << "its work done, it leaves";
  // berthd times the node out and requeues the job, which waits for the node.
  ASSERT_TRUE(eventually([&] { return node_state() == "down"; })) << node(n).dump();
  EXPECT_EQ(state(id), "PENDING") << job(id).dump();
  EXPECT_EQ(job(id).value("restarts", -1), 1) << job(id).dump();
}

TEST_F(AgentWatchdogTest, AStoppedAgentsRequeueableJobIsStoppedAndRequeuedWhenItContinues) {
  start_agents({n});
  const uint64_t id = submit_sleep("--requeue");
  ASSERT_TRUE(eventually([&] { return !job_processes().empty(); })) << job(id).dump();
  ::kill(agent(n).pid(), SIGSTOP);
  const bool gone = eventually([&] { return job_processes().empty(); });
  const std::string seen = node_state();
  ::kill(agent(n).pid(), SIGCONT);
  ASSERT_TRUE(gone) << agent(n).log();
  EXPECT_EQ(seen, "up") << "the job was gone before berthd could time its node out";
  // The agent, back, reports the end as lost (fenced), so berthd requeues the job, which
  // starts again on its node.
  ASSERT_TRUE(eventually([&] {
    return job(id).value("restarts", -1) == 1 && state(id) == "RUNNING" && !job_processes().empty();
  })) << job(id).dump()
      << agent(n).log();
  EXPECT_EQ(node_state(), "up");
}

TEST_F(AgentWatchdogTest, AJobThatIsNotFenceableRunsOnUntilTheRestartedAgentKillsItAndItsCgroup) {
  start_agents({n});
  const std::string isolation = node(n).value("isolation", "");
  // setsid: the process leaves the job's process group, so only its cgroup still holds it.
  const uint64_t id = submit_sleep("", "setsid");
  ASSERT_TRUE(eventually([&] { return !job_processes().empty(); })) << job(id).dump();
  const pid_t first = agent(n).pid();
  agent(n).kill_hard();
  ASSERT_TRUE(eventually([&] { return watchdogs() == 0; }))
      << "nothing fenceable: the watchdog leaves with its agent";
  ASSERT_TRUE(eventually([&] { return node_state() == "down"; })) << node(n).dump();
  EXPECT_FALSE(job_processes().empty()) << "not --requeue: it runs through the agent's absence";
  EXPECT_EQ(state(id), "NODE_FAIL") << job(id).dump();

  agent(n).start();
  ASSERT_TRUE(eventually([&] { return heard(n); })) << agent(n).log();
  if (isolation.rfind("cgroup", 0) != 0) {
    kill_jobs_of_run(daemon->state_dir());
    GTEST_SKIP() << "jobs run without cgroups here (" << isolation << ")";
  }
  EXPECT_TRUE(eventually([&] { return job_processes().empty(); }))
      << "the process that left its group dies with its cgroup\n"
      << agent(n).log();
  const std::string old_base = "agent-" + n + "-" + std::to_string(first);
  EXPECT_NE(agent(n).log().find(old_base), std::string::npos) << agent(n).log();
}

}  // namespace
}  // namespace berth::testing
