// Steps: `berth run` within a job's script, as srun within an allocation. The node's agent
// checks the caller, berthd sends the step to every node of the job, each rank appends to the
// job's output, and berth run returns the worst rank's status. Real berthd, real agents.
#include "integration/agent_cluster.h"

namespace berth::testing {
namespace {

class AgentStepsTest : public AgentsTest {
 protected:
  void SetUp() override {
    AgentsTest::SetUp();
    make_two_funded_orgs();
    start_addressed_agents();
    berth = bin_dir() + "/berth";
  }
  // A 2-node job running `script`; its id.
  uint64_t batch(const std::string& script) {
    std::ofstream(work + "/job.sh") << "#!/bin/sh\n" << script;
    const CliResult r = cli("submit --parsable -A pa -N 2 -G 2 job.sh");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return std::strtoull(r.out.c_str(), nullptr, 10);
  }
  static size_t count(const std::string& text, const std::string& part) {
    size_t n = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
  }
  std::string berth;
};

TEST_F(AgentStepsTest, AStepRunsOnEveryNodeOfTheJobBetweenTheScriptsLines) {
  const uint64_t id =
      batch("echo before\n" + berth +
            " run sh -c 'echo step=$BERTH_STEP_ID rank=$NODE_RANK job=$BERTH_JOB_ID "
            "gpus=$CUDA_VISIBLE_DEVICES agent=$(tr \"\\0\" \" \" < /proc/$PPID/cmdline | cut "
            "-d\" \" -f1-3)'\necho status=$?\necho after\n");
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "COMPLETED") << job(id).dump();
  const std::string out = output(id);
  const std::string j = "job=" + std::to_string(id);
  EXPECT_EQ(count(out, "step=1 rank=0 " + j), 1u) << out;
  EXPECT_EQ(count(out, "step=1 rank=1 " + j), 1u) << out;
  EXPECT_NE(out.find("berth-agent --node n1"), std::string::npos) << out;
  EXPECT_NE(out.find("berth-agent --node n2"), std::string::npos) << out;
  // The script waited for both ranks, and no line overwrote another.
  const size_t before = out.find("before\n"), status = out.find("status=0\nafter\n");
  ASSERT_NE(before, std::string::npos) << out;
  ASSERT_NE(status, std::string::npos) << out;
  EXPECT_LT(before, out.find("step=1")) << out;
  EXPECT_LT(out.rfind("step=1"), status) << out;
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/reconcile", "").value("ok", false));
}

TEST_F(AgentStepsTest, BerthRunWithinAJobGivesTheWorstRanksStatusAndNumbersSteps) {
  const uint64_t id = batch(berth + " run sh -c 'exit $((NODE_RANK * 5))'\necho first=$?\n" +
                            berth + " run sh -c 'kill -TERM $$'\necho second=$?\n" + berth +
                            " run true\necho third=$? step=$BERTH_STEP_ID\n" + berth +
                            " run -N 1 true 2>&1\necho flags=$?\n");
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  const std::string out = output(id);
  EXPECT_NE(out.find("first=5\n"), std::string::npos) << out;
  EXPECT_NE(out.find("step 1 of job " + std::to_string(id) + " exited 5"), std::string::npos)
      << out;
  EXPECT_NE(out.find("second=143\n"), std::string::npos) << out;  // 128 + SIGTERM
  EXPECT_NE(out.find("third=0 step=\n"), std::string::npos) << out;
  EXPECT_NE(out.find("takes no job flags"), std::string::npos) << out;
  EXPECT_NE(out.find("flags=1\n"), std::string::npos) << out;
}

TEST_F(AgentStepsTest, OnlyAProcessOfTheJobMayAskForAStep) {
  const std::string flag = work + "/go";
  const uint64_t id =
      batch("echo socket=$BERTH_STEP_SOCKET\nwhile [ ! -e " + flag + " ]; do sleep 0.1; done\n");
  std::string socket;
  ASSERT_TRUE(eventually([&] {
    const std::string out = output(id);
    const size_t at = out.find("socket=");
    if (at == std::string::npos || out.find('\n', at) == std::string::npos) return false;
    socket = out.substr(at + 7, out.find('\n', at) - at - 7);
    return true;
  })) << job(id).dump();
  ASSERT_EQ(socket.rfind("@berth-agent-n1-", 0), 0u) << socket;
  // This test's own process is not the job's, though it names the job and its socket.
  const CliResult forged =
      run_shell("BERTH_STEP_SOCKET='" + socket + "' BERTH_JOB_ID=" + std::to_string(id) + " " +
                berth + " run touch " + work + "/forged 2>&1");
  EXPECT_NE(forged.exit_code, 0) << forged.out;
  EXPECT_NE(forged.out.find("is not"), std::string::npos) << forged.out;
  EXPECT_FALSE(fs::exists(work + "/forged"));
  std::ofstream(flag) << "go\n";
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "COMPLETED") << job(id).dump();
}

TEST_F(AgentStepsTest, AStepEndsWithItsJob) {
  const uint64_t id = batch(berth + " run sh -c 'echo $$ > " + work +
                            "/step-$NODE_RANK.pid; exec sleep 300'\necho never\n");
  ASSERT_TRUE(eventually([&] {
    return fs::exists(work + "/step-0.pid") && fs::exists(work + "/step-1.pid");
  })) << job(id).dump()
      << output(id);
  EXPECT_EQ(processes_with_env("BERTH_STEP_ID=1").size(), 2u);
  must("cancel " + std::to_string(id));
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "CANCELLED");
  EXPECT_TRUE(eventually([&] { return processes_with_env("BERTH_STEP_ID=1").empty(); }))
      << "every rank of the step is stopped with the job";
  EXPECT_EQ(output(id).find("never"), std::string::npos);
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/reconcile", "").value("ok", false));
}

// A step that cannot start (here its working directory cannot be entered by the job's user)
// fails with the reason; the job goes on.
TEST_F(AgentStepsTest, AStepThatCannotStartFailsWithTheReasonAndTheJobGoesOn) {
  const uint64_t id = batch("mkdir -p closed && cd closed && chmod 000 . && " + berth +
                            " run true\necho status=$?\ncd .. && chmod 700 closed\n");
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "COMPLETED") << job(id).dump();
  const std::string out = output(id);
  EXPECT_NE(out.find("status=1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("step 1 of job " + std::to_string(id) + ": rank "), std::string::npos) << out;
  EXPECT_NE(out.find("closed"), std::string::npos) << "the reason names the directory: " << out;
}

}  // namespace
}  // namespace berth::testing
