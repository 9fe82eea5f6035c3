// `berth run` on a berthd without agents ([agents] local = false and no listen): berthd's own
// executor runs each job as one process on its machine, so a command on every one of several
// nodes is refused at submit with the reason, and on one node it runs as usual.
#include <gtest/gtest.h>

#include "harness.h"

namespace berth::testing {
namespace {

class RunWithoutAgentsTest : public DaemonTest {
 protected:
  // The embedded default without local agents, and a second node like the first.
  std::string config() override {
    return default_config_without_local_agents() +
           "\n[[nodes]]\nname = \"local2\"\ngpu_model = \"H100\"\ngpus = 8\ncpus = 16\n"
           "memory_mb = 65536\n";
  }
  void SetUp() override {
    DaemonTest::SetUp();
    must("org create hku --kind university");
    must("project create vision --org hku");
    must("topup vision 10000 --reference INV-1");
  }
};

TEST_F(RunWithoutAgentsTest, ACommandOnEveryOfTwoNodesIsRefusedSayingWhy) {
  const CliResult r = cli("run -A vision -N 2 -G 2 -- hostname 2>&1");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("a command on every node of 2 nodes (berth run -N) cannot run here: this "
                       "berthd runs jobs on its own machine, without node agents"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(daemon->api("GET", "/v1/jobs").second.value("jobs", json::array()).size(), 0u);
}

TEST_F(RunWithoutAgentsTest, ACommandOnOneNodeRuns) {
  const CliResult r = cli("run -A vision -N 1 -G 1 -- echo ran-here 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ran-here"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace berth::testing
