// Jobs on several nodes, run by real berth-agent processes: every node gets its rank, the ranks
// learn where to meet (torchrun's variables), a batch job's other ranks hold their nodes until
// rank 0 ends, and `berth run` runs a command on every node.
#include "integration/agent_cluster.h"

namespace berth::testing {
namespace {

class AgentGangsTest : public AgentsTest {
 protected:
  void SetUp() override {
    AgentsTest::SetUp();
    make_two_funded_orgs();
    start_addressed_agents();
    std::ofstream(work + "/ranks.sh")
        << "echo rank=$NODE_RANK nodeid=$SLURM_NODEID nodes=$SLURM_NNODES "
           "list=$SLURM_JOB_NODELIST master=$MASTER_ADDR port=$MASTER_PORT "
           "world=$WORLD_SIZE local=$LOCAL_WORLD_SIZE gpus=$CUDA_VISIBLE_DEVICES "
           "agent=$(tr '\\0' ' ' < /proc/$PPID/cmdline | cut -d' ' -f1-3)\n";
  }
  // The lines of `text` that contain `part`.
  static std::vector<std::string> lines_with(const std::string& text, const std::string& part) {
    std::vector<std::string> found;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      if (line.find(part) != std::string::npos) found.push_back(line);
    return found;
  }
};

TEST_F(AgentGangsTest, BerthRunRunsTheCommandOnEveryNodeWithItsRankAndWaitsForAll) {
  const CliResult r = cli("run -A pa -N 2 -G 4 -- sh ranks.sh 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rank0 = lines_with(r.out, "rank=0 ");
  const auto rank1 = lines_with(r.out, "rank=1 ");
  ASSERT_EQ(rank0.size(), 1u) << r.out;
  ASSERT_EQ(rank1.size(), 1u) << r.out;
  for (const std::string& line : {rank0[0], rank1[0]}) {
    EXPECT_NE(line.find("nodes=2 list=n1,n2 master=127.0.1.1 port="), std::string::npos) << line;
    EXPECT_NE(line.find("world=4 local=2 gpus="), std::string::npos) << line;
  }
  EXPECT_NE(rank0[0].find("nodeid=0 "), std::string::npos) << rank0[0];
  EXPECT_NE(rank0[0].find("berth-agent --node n1"), std::string::npos) << rank0[0];
  EXPECT_NE(rank1[0].find("nodeid=1 "), std::string::npos) << rank1[0];
  EXPECT_NE(rank1[0].find("berth-agent --node n2"), std::string::npos) << rank1[0];
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/reconcile", "").value("ok", false));
}

TEST_F(AgentGangsTest, BerthRunGivesTheWorstExitOfItsRanks) {
  const CliResult r = cli("run -A pa -N 2 -G 2 -- sh -c 'exit $((NODE_RANK * 3))' 2>&1");
  EXPECT_EQ(r.exit_code, 3) << r.out;
}

TEST_F(AgentGangsTest, ABatchJobsOtherRankHoldsItsNodeUntilRankZeroEnds) {
  const std::string flag = work + "/go";
  const CliResult r = cli("submit --parsable -A pa -N 2 -G 4 --wrap 'sh ranks.sh; while [ ! -e " +
                          flag + " ]; do sleep 0.1; done'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const uint64_t id = std::strtoull(r.out.c_str(), nullptr, 10);
  ASSERT_GT(id, 0u);
  ASSERT_TRUE(eventually([&] { return state(id) == "RUNNING"; })) << job(id).dump();
  const std::string job_env = "BERTH_JOB_ID=" + std::to_string(id);
  auto holders = [&] {
    int n = 0;
    for (const auto& [pid, cmdline] : processes_with_env(job_env))
      if (cmdline.rfind("sleep infinity", 0) == 0) ++n;
    return n;
  };
  ASSERT_TRUE(eventually([&] { return holders() == 1; })) << "rank 1 holds n2";
  std::ofstream(flag) << "go\n";
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "COMPLETED") << job(id).dump();
  EXPECT_TRUE(eventually([&] { return holders() == 0; })) << "rank 1 is stopped with the job";
  const std::string out = read_file(work + "/berth-" + std::to_string(id) + ".out");
  EXPECT_EQ(lines_with(out, "rank=").size(), 1u) << "only rank 0 runs the script: " << out;
  EXPECT_NE(out.find("rank=0 nodeid=0 nodes=2 list=n1,n2 master=127.0.1.1"), std::string::npos)
      << out;
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/reconcile", "").value("ok", false));
}

class AgentGangsOutliveBerthdTest : public AgentGangsTest {
 protected:
  AgentGangsOutliveBerthdTest() { node_timeout_s = 30; }
};

// A rank that ended before berthd was killed is not taken, after the restart, for one that was
// never sent: it does not run again, and the job ends once rank 0 has too.
TEST_F(AgentGangsOutliveBerthdTest, ARankThatEndedBeforeBerthdRestartedRunsOnce) {
  const std::string flag = work + "/go";
  const std::string starts = work + "/starts";
  std::ofstream(work + "/gang.sh")
      << "echo start $NODE_RANK >> " << starts << "\n"
      << "if [ $NODE_RANK = 0 ]; then while [ ! -e " << flag << " ]; do sleep 0.1; done; fi\n";
  // In the background, its output to a file: berth run itself does not outlive berthd's kill.
  ASSERT_EQ(cli("run -A pa -N 2 -G 2 -- sh gang.sh > run.out 2>&1 &").exit_code, 0);
  ASSERT_TRUE(eventually([&] { return lines_with(read_file(starts), "start").size() == 2; }))
      << read_file(starts) << read_file(work + "/run.out");
  const json running = daemon->api("GET", "/v1/jobs?state=RUNNING").second;
  ASSERT_EQ(running.value("jobs", json::array()).size(), 1u) << running.dump();
  const uint64_t id = running["jobs"][0].value("id", uint64_t{0});
  const std::string rank1 = "NODE_RANK=1";
  ASSERT_TRUE(eventually([&] {
    for (const auto& [pid, cmd] : processes_with_env("BERTH_JOB_ID=" + std::to_string(id)))
      if (processes_with_env(rank1).count(pid)) return false;
    return true;
  })) << "rank 1 ended";
  daemon->kill_hard();
  daemon->start();
  ASSERT_TRUE(eventually([&] { return heard("n1") && heard("n2"); }));
  EXPECT_EQ(state(id), "RUNNING");
  std::ofstream(flag) << "go\n";
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "COMPLETED") << job(id).dump();
  const std::string s = read_file(starts);
  EXPECT_EQ(lines_with(s, "start 0").size(), 1u) << s;
  EXPECT_EQ(lines_with(s, "start 1").size(), 1u) << "rank 1 ran once: " << s;
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/reconcile", "").value("ok", false));
}

}  // namespace
}  // namespace berth::testing
