// A network partition: one agent in a network namespace of its own, cut off from berthd
// (`ip link set ... down` inside it) for longer than the node timeout, then healed. Its
// --requeue job is requeued on the other node; the cut-off agent has stopped it by then (its
// fencing lease ran out), so the job never runs twice at once, and the books reconcile.
#include <unistd.h>

#include "integration/agent_cluster.h"

namespace berth::testing {
namespace {

// A network namespace with a veth pair to the test's own: 10.77.N.1 here, 10.77.N.2 there.
// Removed with the object.
class Netns {
 public:
  Netns() {
    const int n = static_cast<int>(::getpid() % 250) + 1;
    name_ = "berth-part-" + std::to_string(::getpid());
    host_if_ = "bph" + std::to_string(::getpid());
    ns_if_ = "bpn" + std::to_string(::getpid());
    host_ = "10.77." + std::to_string(n) + ".1";
    peer_ = "10.77." + std::to_string(n) + ".2";
    ok_ = sh("ip netns add " + name_) &&
          sh("ip link add " + host_if_ + " type veth peer name " + ns_if_) &&
          sh("ip link set " + ns_if_ + " netns " + name_) &&
          sh("ip addr add " + host_ + "/24 dev " + host_if_) &&
          sh("ip link set " + host_if_ + " up") &&
          sh("ip -n " + name_ + " addr add " + peer_ + "/24 dev " + ns_if_) &&
          sh("ip -n " + name_ + " link set " + ns_if_ + " up") &&
          sh("ip -n " + name_ + " link set lo up");
  }
  ~Netns() {
    sh("ip link del " + host_if_ + " 2>/dev/null");
    sh("ip netns del " + name_ + " 2>/dev/null");
  }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  const std::string& host() const { return host_; }
  const std::string& peer() const { return peer_; }
  // Cuts the namespace off (its side of the link down), or heals it.
  bool cut(bool down) {
    return sh("ip -n " + name_ + " link set " + ns_if_ + (down ? " down" : " up"));
  }

 private:
  static bool sh(const std::string& command) { return run_shell(command + " 2>&1").exit_code == 0; }
  std::string name_, host_if_, ns_if_, host_, peer_;
  bool ok_ = false;
};

class AgentPartitionTest : public AgentsTest {
 protected:
  AgentPartitionTest() {
    // The lease (node timeout - grace - 2 heartbeats = 6 s) runs out 2 s before the node's
    // timeout, and the job is gone 1 s (its grace) after that.
    node_timeout_s = 8;
    grace_s = 1;
    if (::geteuid() == 0) {
      netns_ = std::make_unique<Netns>();
      if (netns_->ok()) agent_host = netns_->host();
    }
  }
  void SetUp() override {
    if (!netns_ || !netns_->ok()) GTEST_SKIP() << "needs root and ip netns";
    AgentsTest::SetUp();
    make_two_funded_orgs();
  }
  void TearDown() override {
    if (!netns_ || !netns_->ok()) return;
    netns_->cut(false);
    AgentsTest::TearDown();
  }
  // "start A T" and "alive A T" lines of attempt A at time T (ns): each attempt's first start
  // and last sign of life.
  struct Span {
    int64_t first = 0, last = 0;
  };
  std::map<int, Span> spans(const std::string& log) {
    std::map<int, Span> out;
    std::istringstream in(log);
    std::string what;
    int attempt = 0;
    int64_t t = 0;
    while (in >> what >> attempt >> t) {
      Span& s = out[attempt];
      if (s.first == 0 || t < s.first) s.first = t;
      s.last = std::max(s.last, t);
    }
    return out;
  }
  std::unique_ptr<Netns> netns_;
};

TEST_F(AgentPartitionTest, ACutOffNodesRequeuedJobNeverRunsTwiceAndTheBooksReconcile) {
  agent("n2").in_netns(netns_->name());
  agent("n2").start({"--address", netns_->peer()});
  ASSERT_TRUE(eventually([&] { return heard("n2"); })) << node("n2").dump() << agent("n2").log();
  const std::string log = work + "/runs.log";
  const std::string flag = work + "/done";
  std::ofstream(work + "/job.sh") << "#!/bin/sh\na=${SLURM_RESTART_COUNT:-0}\n"
                                  << "echo start $a $(date +%s%N) >> " << log << "\n"
                                  << "while [ ! -e " << flag << " ]; do\n"
                                  << "  echo alive $a $(date +%s%N) >> " << log << "\n"
                                  << "  sleep 0.1\n"
                                  << "done\n";
  const CliResult r = cli("submit --parsable -A pa -G 1 --requeue job.sh");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const uint64_t id = std::strtoull(r.out.c_str(), nullptr, 10);
  ASSERT_TRUE(eventually([&] { return spans(read_file(log)).count(0) == 1; })) << job(id).dump();
  EXPECT_EQ(job(id).value("node", ""), "n2");
  start_agents({"n1"});

  ASSERT_TRUE(netns_->cut(true));
  // berthd puts n2 down and requeues the job, which starts again on n1 (attempt 1).
  ASSERT_TRUE(eventually([&] { return spans(read_file(log)).count(1) == 1; }))
      << job(id).dump() << node("n2").dump() << read_file(log);
  EXPECT_EQ(node("n2").value("state", ""), "down");
  EXPECT_EQ(job(id).value("node", ""), "n1");
  ASSERT_TRUE(netns_->cut(false));
  ASSERT_TRUE(eventually([&] { return heard("n2"); })) << node("n2").dump() << agent("n2").log();

  std::ofstream(flag) << "done\n";
  ASSERT_TRUE(eventually([&] { return state(id) == "COMPLETED"; })) << job(id).dump();
  const auto s = spans(read_file(log));
  ASSERT_EQ(s.size(), 2u) << read_file(log);
  EXPECT_LT(s.at(0).last, s.at(1).first) << "attempt 0 was still alive when attempt 1 started:\n"
                                         << read_file(log);
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/reconcile", "").value("ok", false));
}

}  // namespace
}  // namespace berth::testing
