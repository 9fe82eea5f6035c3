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
  // A job on n1 whose process (`sleep`, after `prefix`) carries this test's mark.
  uint64_t submit_sleep(const std::string& flags, const std::string& prefix = "exec") {
    return submit_pa(flags + " -w n1 --wrap '" + prefix + " env " + mark() + " sleep 600'");
  }
  std::string mark() const { return "BERTH_WATCHDOG_TEST=" + work; }
  std::map<int, std::string> job_processes() { return processes_with_env(mark()); }
  size_t watchdogs() { return agent("n1").watchdogs().size(); }
  std::string n1_state() { return node("n1").value("state", ""); }
};

TEST_F(AgentWatchdogTest, AKilledAgentsRequeueableJobIsStoppedBeforeItsNodeTimesOut) {
  start_agents({"n1"});
  ASSERT_TRUE(eventually([&] { return watchdogs() == 1; })) << agent("n1").log();
  const uint64_t id = submit_sleep("--requeue");
  ASSERT_TRUE(eventually([&] { return !job_processes().empty(); })) << job(id).dump();
  agent("n1").kill_hard();
  ASSERT_TRUE(eventually([&] { return job_processes().empty(); })) << agent("n1").log();
  EXPECT_EQ(n1_state(), "up") << "the job was gone before berthd could time its node out";
  EXPECT_EQ(state(id), "RUNNING");
  EXPECT_NE(agent("n1").log().find("lease ran out"), std::string::npos) << agent("n1").log();
  EXPECT_TRUE(eventually([&] { return watchdogs() == 0; })) << "its work done, it leaves";
  // berthd times n1 out and requeues the job, which waits for n1.
  ASSERT_TRUE(eventually([&] { return n1_state() == "down"; })) << node("n1").dump();
  EXPECT_EQ(state(id), "PENDING") << job(id).dump();
  EXPECT_EQ(job(id).value("restarts", -1), 1) << job(id).dump();
}

TEST_F(AgentWatchdogTest, AStoppedAgentsRequeueableJobIsStoppedAndRequeuedWhenItContinues) {
  start_agents({"n1"});
  const uint64_t id = submit_sleep("--requeue");
  ASSERT_TRUE(eventually([&] { return !job_processes().empty(); })) << job(id).dump();
  ::kill(agent("n1").pid(), SIGSTOP);
  const bool gone = eventually([&] { return job_processes().empty(); });
  const std::string seen = n1_state();
  ::kill(agent("n1").pid(), SIGCONT);
  ASSERT_TRUE(gone) << agent("n1").log();
  EXPECT_EQ(seen, "up") << "the job was gone before berthd could time its node out";
  // The agent, back, reports the end as lost (fenced), so berthd requeues the job, which
  // starts again on n1.
  ASSERT_TRUE(eventually([&] {
    return job(id).value("restarts", -1) == 1 && state(id) == "RUNNING" && !job_processes().empty();
  })) << job(id).dump()
      << agent("n1").log();
  EXPECT_EQ(n1_state(), "up");
}

TEST_F(AgentWatchdogTest, AJobThatIsNotFenceableRunsOnUntilTheRestartedAgentKillsItAndItsCgroup) {
  start_agents({"n1"});
  const std::string isolation = node("n1").value("isolation", "");
  // setsid: the process leaves the job's process group, so only its cgroup still holds it.
  const uint64_t id = submit_sleep("", "setsid");
  ASSERT_TRUE(eventually([&] { return !job_processes().empty(); })) << job(id).dump();
  const pid_t first = agent("n1").pid();
  agent("n1").kill_hard();
  ASSERT_TRUE(eventually([&] { return watchdogs() == 0; }))
      << "nothing fenceable: the watchdog leaves with its agent";
  ASSERT_TRUE(eventually([&] { return n1_state() == "down"; })) << node("n1").dump();
  EXPECT_FALSE(job_processes().empty()) << "not --requeue: it runs through the agent's absence";
  EXPECT_EQ(state(id), "NODE_FAIL") << job(id).dump();

  agent("n1").start();
  ASSERT_TRUE(eventually([&] { return heard("n1"); })) << agent("n1").log();
  if (isolation.rfind("cgroup", 0) != 0) {
    kill_jobs_of_run(daemon->state_dir());
    GTEST_SKIP() << "jobs run without cgroups here (" << isolation << ")";
  }
  EXPECT_TRUE(eventually([&] { return job_processes().empty(); }))
      << "the process that left its group dies with its cgroup\n"
      << agent("n1").log();
  const std::string old_base = "agent-n1-" + std::to_string(first);
  EXPECT_NE(agent("n1").log().find(old_base), std::string::npos) << agent("n1").log();
}

}  // namespace
}  // namespace berth::testing
