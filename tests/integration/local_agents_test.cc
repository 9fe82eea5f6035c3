// berthd's local agents ([agents] local = true, the embedded default that `make run` starts):
// one berth-agent process per node, not berthd's child, that runs the jobs, so that they
// outlive berthd; started once, found again by the next berthd, gone once idle after an
// orderly stop.
#include "integration/harness.h"

namespace berth::testing {
namespace {

class LocalAgentsTest : public DaemonTest {
 protected:
  bool local_agents() const override { return true; }
  void SetUp() override {
    DaemonTest::SetUp();
    make_two_funded_orgs();
  }
  // The pids of the local agents of this berthd (not their watchdogs).
  std::vector<int> agents() {
    std::vector<int> pids;
    const std::string needle = daemon->state_dir() + "/agents/local";
    for (const auto& [pid, cmdline] : processes_named(bin_dir() + "/berth-agent"))
      if (cmdline.find(needle) != std::string::npos &&
          cmdline.find(" --watchdog ") == std::string::npos)
        pids.push_back(pid);
    return pids;
  }
  static std::map<int, std::string> processes_named(const std::string& program) {
    std::map<int, std::string> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
      const std::string pid = e.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string cmdline = read_file(e.path().string() + "/cmdline");
      if (cmdline.rfind(program + '\0', 0) != 0) continue;
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      found[std::stoi(pid)] = cmdline;
    }
    return found;
  }
  json node_local() {
    for (const json& n : daemon->api("GET", "/v1/nodes").second.value("nodes", json::array()))
      if (n.value("name", "") == "local") return n;
    return json::object();
  }
  bool up() {
    const json n = node_local();
    return n.value("state", "") == "up" && n.value("agent_version", "") != "";
  }
  uint64_t submit(const std::string& args) {
    const CliResult r = cli("submit --parsable -A pa -G 1 " + args);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return std::strtoull(r.out.c_str(), nullptr, 10);
  }
  std::string agent_log() { return read_file(daemon->state_dir() + "/agents/local/agent.log"); }
};

TEST_F(LocalAgentsTest, BerthdStartsAnAgentOfItsOwnThatRunsTheJobs) {
  ASSERT_TRUE(eventually([&] { return up(); })) << node_local().dump() << agent_log();
  ASSERT_EQ(agents().size(), 1u);
  const std::string parent = read_file("/proc/" + std::to_string(agents()[0]) + "/stat");
  const uint64_t id = submit("--wrap 'tr \"\\\\0\" \" \" < /proc/$PPID/cmdline'");
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "COMPLETED") << job(id).dump();
  const std::string out = read_file(work + "/berth-" + std::to_string(id) + ".out");
  EXPECT_NE(out.find("berth-agent --node local"), std::string::npos) << "its parent: " << out;
  // The agent is in a session of its own, not berthd's child.
  const pid_t berthd = daemon->pid();
  std::istringstream stat(parent.substr(parent.rfind(')') + 2));
  std::string state_char;
  pid_t ppid = 0;
  stat >> state_char >> ppid;
  EXPECT_NE(ppid, berthd);
}

TEST_F(LocalAgentsTest, AJobOutlivesAKilledBerthdWhoseNextStartFindsTheSameAgent) {
  ASSERT_TRUE(eventually([&] { return up(); })) << agent_log();
  const std::vector<int> before = agents();
  ASSERT_EQ(before.size(), 1u);
  const std::string flag = work + "/go";
  const uint64_t id = submit("--wrap 'while [ ! -e " + flag + " ]; do sleep 0.1; done; echo done'");
  ASSERT_TRUE(eventually([&] { return state(id) == "RUNNING"; })) << job(id).dump();
  daemon->kill_hard();
  daemon->start();
  ASSERT_TRUE(eventually([&] { return up(); })) << agent_log();
  EXPECT_EQ(agents(), before) << "not started twice";
  std::ofstream(flag) << "go\n";
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump();
  EXPECT_EQ(state(id), "COMPLETED") << job(id).dump();
  EXPECT_EQ(read_file(work + "/berth-" + std::to_string(id) + ".out"), "done\n");
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/reconcile", "").value("ok", false));
}

TEST_F(LocalAgentsTest, AfterAnOrderlyStopTheAgentExitsOnceItsJobHasEnded) {
  ASSERT_TRUE(eventually([&] { return up(); })) << agent_log();
  const std::string flag = work + "/go";
  const uint64_t id = submit("--wrap 'while [ ! -e " + flag + " ]; do sleep 0.1; done; echo done'");
  ASSERT_TRUE(eventually([&] { return state(id) == "RUNNING"; })) << job(id).dump();
  daemon->stop();
  EXPECT_EQ(agents().size(), 1u) << "its job still runs";
  std::ofstream(flag) << "go\n";
  ASSERT_TRUE(eventually([&] { return agents().empty(); })) << agent_log();
  EXPECT_EQ(read_file(work + "/berth-" + std::to_string(id) + ".out"), "done\n");
  daemon->start();  // a new agent sends the end it kept
  ASSERT_TRUE(eventually([&] { return ended(id); })) << job(id).dump() << agent_log();
  EXPECT_EQ(state(id), "COMPLETED") << job(id).dump();
}

}  // namespace
}  // namespace berth::testing
