// Real berth-agent processes beside a real berthd (harness.h), for the agent tests.
//
// Each agent is the berth-agent binary, started with posix_spawn, its log in a file of its own;
// nothing is faked. AgentsTest gives berthd a configuration of two nodes (n1, n2) with agents
// on a fixed loopback port, so that a restarted berthd is found again at the same address, and
// a short node timeout; its agents talk in plaintext (tls = "none") unless a test's tls()
// says otherwise.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>

#include "integration/harness.h"

namespace berth::testing {

// A TCP port on 127.0.0.1 free at the moment of asking.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("no free port");
  ::close(fd);
  return ntohs(a.sin_port);
}

class AgentProcess {
 public:
  // `state_dir` holds its book of launches; its log is `state_dir`.log.
  AgentProcess(std::string node, std::string server, std::string state_dir)
      : node_(std::move(node)),
        server_(std::move(server)),
        state_dir_(std::move(state_dir)),
        log_(state_dir_ + ".log") {}
  ~AgentProcess() {
    kill_hard();
    for (int pid : watchdogs()) ::kill(pid, SIGKILL);  // it outlives its agent (watchdog.h)
  }

  // Runs it in that network namespace (ip netns exec) from the next start on.
  void in_netns(const std::string& netns) { netns_ = netns; }

  void start(const std::vector<std::string>& extra = {}) {
    // The node's figures as berthd's configuration has them: fewer would drain it.
    std::vector<std::string> args = {bin_dir() + "/berth-agent",
                                     "--node",
                                     node_,
                                     "--server",
                                     server_,
                                     "--state-dir",
                                     state_dir_};
    for (const char* a : {"--gpus=8", "--gpu-model=H100", "--cpus=16", "--memory-mb=65536"})
      args.push_back(a);
    args.insert(args.end(), extra.begin(), extra.end());
    if (!netns_.empty()) args.insert(args.begin(), {"/usr/bin/ip", "netns", "exec", netns_});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start berth-agent");
  }
  void kill_hard() { signal_and_wait(SIGKILL); }
  // SIGSTOP / SIGCONT: an agent that hangs, then goes on.
  void pause() const { ::kill(pid_, SIGSTOP); }
  void resume() const { ::kill(pid_, SIGCONT); }
  void stop() { signal_and_wait(SIGTERM); }
  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  pid_t pid() const { return pid_; }
  // The pids of this agent's watchdogs (their command lines name its state directory).
  std::vector<int> watchdogs() const {
    std::vector<int> pids;
    const std::string needle = " --state-dir " + state_dir_ + " ";
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
      std::string cmdline = read_file(e.path().string() + "/cmdline");
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      if (cmdline.find(" --watchdog ") != std::string::npos &&
          cmdline.find(needle) != std::string::npos)
        pids.push_back(std::atoi(e.path().filename().c_str()));
    }
    return pids;
  }
  std::string log() const { return read_file(log_); }

 private:
  void signal_and_wait(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string node_, server_, state_dir_, log_, netns_;
  pid_t pid_ = -1;
};

// berthd with two nodes of 8 GPUs, n1 and n2, whose agents dial 127.0.0.1:agent_port.
class AgentsTest : public DaemonTest {
 protected:
  // Short, for the tests that wait for a node to go down; a test of jobs that outlive berthd
  // sets a longer one in its constructor.
  int node_timeout_s = 3;
  int grace_s = 10;  // berthd's stop grace period ([executor] grace_s)
  int launch_timeout_s = 30;
  // Where berthd listens for agents: loopback, or an address of a network the test made.
  std::string agent_host = "127.0.0.1";

  // The [agents] tls line of berthd's configuration.
  virtual std::string tls() const { return R"(tls = "none")"; }

  std::string config() override {
    agent_port = free_port();
    return R"([agents]
)" + tls() +
           R"(
listen = ")" +
           agent_host + ":" + std::to_string(agent_port) + R"("
node_timeout_s = )" +
           std::to_string(node_timeout_s) + R"(
heartbeat_s = 0.5
launch_timeout_s = )" +
           std::to_string(launch_timeout_s) + R"(

[executor]
grace_s = )" +
           std::to_string(grace_s) + R"(

[[gpu_models]]
name = "H100"
price_per_gpu_hour = "30.0000"

[[nodes]]
name = "n1"
gpu_model = "H100"
gpus = 8
cpus = 16
memory_mb = 65536

[[nodes]]
name = "n2"
gpu_model = "H100"
gpus = 8
cpus = 16
memory_mb = 65536

[[partitions]]
name = "gpu"
max_time = "1-00:00:00"
default_time = "1:00:00"
default = true
)";
  }
  void TearDown() override {
    agents.clear();
    kill_jobs_of_run(daemon->state_dir());
    DaemonTest::TearDown();
  }

  AgentProcess& agent(const std::string& node) {
    auto& a = agents[node];
    if (!a)
      a = std::make_unique<AgentProcess>(node, agent_host + ":" + std::to_string(agent_port),
                                         dir + "/agent-" + node);
    return *a;
  }
  // GET /v1/nodes: the node named `name` ("{}" when absent).
  json node(const std::string& name) {
    for (const json& n : daemon->api("GET", "/v1/nodes").second.value("nodes", json::array()))
      if (n.value("name", "") == name) return n;
    return json::object();
  }
  // Whether the node's agent has registered and been heard, and the node is up.
  bool heard(const std::string& name) {
    const json n = node(name);
    return n.value("agent_version", "") != "" && !n.value("last_heartbeat", json()).is_null() &&
           n.value("state", "") == "up";
  }
  // Starts the agents of `nodes` and waits until each node is up.
  void start_agents(const std::vector<std::string>& nodes) {
    for (const std::string& n : nodes) agent(n).start();
    for (const std::string& n : nodes)
      ASSERT_TRUE(eventually([&] { return heard(n); })) << node(n).dump() << agent(n).log();
  }
  // n1 and n2, each saying where its ranks are reached (127.0.1.1, 127.0.1.2) as on a real
  // network, up.
  void start_addressed_agents() {
    agent("n1").start({"--address", "127.0.1.1"});
    agent("n2").start({"--address", "127.0.1.2"});
    for (const char* n : {"n1", "n2"})
      ASSERT_TRUE(eventually([&] { return heard(n); })) << node(n).dump() << agent(n).log();
  }
  // `berth submit --parsable -A pa -G 1 ARGS`: the job's id (0 when refused).
  uint64_t submit_pa(const std::string& args) {
    const CliResult r = cli("submit --parsable -A pa -G 1 " + args);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return std::strtoull(r.out.c_str(), nullptr, 10);
  }

  int agent_port = 0;
  std::map<std::string, std::unique_ptr<AgentProcess>> agents;
};

}  // namespace berth::testing
