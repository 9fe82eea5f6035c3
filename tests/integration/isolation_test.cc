// Each job as its user, in its own box (issue 13, src/agent/README.md §6), through berthd's own
// executor as root: two Unix users made for the test (and removed after it, failed or not),
// a token for each. A job cannot read another user's output, sees no BERTH_TOKEN and cannot
// read the admin token or berthd's state directory; over its --mem it ends OUT_OF_MEMORY; it
// sees only its GPUs, and (cgroup v1) cannot open another GPU's device.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "harness.h"

namespace berth::testing {
namespace {

constexpr int kNvidiaMajor = 195;

class IsolationTest : public DaemonTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: jobs run as users the test makes";
    DaemonTest::SetUp();
    const std::string suffix = std::to_string(::getpid() % 100000);
    alice_user = std::make_unique<TemporaryUser>("bxa" + suffix);
    bob_user = std::make_unique<TemporaryUser>("bxb" + suffix);
    ASSERT_TRUE(alice_user->ok() && bob_user->ok()) << "useradd failed";
    must("org create hku --kind university");
    must("project create vision --org hku");
    must("topup vision 10000 --reference INV-1");
    alice = token_for("alice", alice_user->name());
    bob = token_for("bob", bob_user->name());
  }
  void TearDown() override {
    if (::geteuid() != 0) return;
    if (daemon) daemon->stop();  // an orderly stop ends every job, so the users can go
    DaemonTest::TearDown();
    alice_user.reset();
    bob_user.reset();
  }
  std::string token_for(const std::string& user, const std::string& unix_user) {
    const json b = {{"user", user}, {"org", "hku"}, {"role", "member"}, {"unix_user", unix_user}};
    return must_succeed(*daemon, "POST", "/v1/tokens", b.dump()).value("token", "");
  }
  // Submits `script` (written into the work folder) with `berth submit OPTIONS` as `token`.
  uint64_t submit_as(const std::string& token, const std::string& name, const std::string& script,
                     const std::string& options = "") {
    std::ofstream(work + "/" + name + ".sh") << script;
    const std::string gpus = options.find("--gpus") == std::string::npos ? "--gpus 1 " : "";
    const CliResult r = cli("submit --parsable -A vision -t 10 -o " + name + ".out " + gpus +
                                options + " " + name + ".sh",
                            token);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return std::strtoull(r.out.c_str(), nullptr, 10);
  }
  bool ends(uint64_t id, const std::string& final_state) {
    return eventually([&] { return state(id) == final_state; });
  }
  // The state the job ends in, once it has ended.
  std::string ended(uint64_t id) {
    std::string s;
    eventually([&] {
      s = state(id);
      return s != "PENDING" && s != "RUNNING";
    });
    return s;
  }
  std::string out(const std::string& name) { return read_file(work + "/" + name + ".out"); }

  std::unique_ptr<TemporaryUser> alice_user, bob_user;
  std::string alice, bob;
};

TEST_F(IsolationTest, AUserCannotReadAnotherUsersOutput) {
  const uint64_t b = submit_as(bob, "bob", "#!/bin/sh\necho bob-secret\n");
  ASSERT_TRUE(ends(b, "COMPLETED")) << job(b).dump();
  ASSERT_EQ(out("bob"), "bob-secret\n");
  struct stat st {};
  ASSERT_EQ(::stat((work + "/bob.out").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const uint64_t a = submit_as(alice, "alice", "#!/bin/sh\nid -un\ncat bob.out 2>&1\nexit 0\n");
  ASSERT_TRUE(ends(a, "COMPLETED")) << job(a).dump();
  EXPECT_EQ(out("alice").rfind(alice_user->name() + "\n", 0), 0u) << out("alice");
  EXPECT_NE(out("alice").find("Permission denied"), std::string::npos) << out("alice");
  EXPECT_EQ(out("alice").find("bob-secret"), std::string::npos) << out("alice");
}

TEST_F(IsolationTest, AJobSeesNoTokenAndCannotReadBerthdsState) {
  const std::string state = daemon->state_dir();
  const uint64_t a = submit_as(alice, "alice",
                               "#!/bin/sh\necho \"token=${BERTH_TOKEN:-none}\"\n"
                               "cat " +
                                   state +
                                   "/admin.token >/dev/null 2>&1 && echo READ-ADMIN\n"
                                   "ls " +
                                   state +
                                   " >/dev/null 2>&1 && echo LISTED-STATE\n"
                                   "env | grep -cF " +
                                   daemon->admin_token().substr(0, 16) + "\n");
  ASSERT_NE(ended(a), "RUNNING") << job(a).dump();
  EXPECT_EQ(out("alice"), "token=none\n0\n");
}

TEST_F(IsolationTest, OverItsMemoryAJobEndsOutOfMemory) {
  const uint64_t big =
      submit_as(alice, "big", "#!/bin/sh\nhead -c 256M /dev/zero | tail\n", "--mem 64M");
  const uint64_t small =
      submit_as(alice, "small", "#!/bin/sh\nhead -c 8M /dev/zero | tail | wc -c\n", "--mem 64M");
  ASSERT_TRUE(ends(big, "OUT_OF_MEMORY")) << job(big).dump();
  ASSERT_TRUE(ends(small, "COMPLETED")) << job(small).dump();
  EXPECT_EQ(out("small"), "8388608\n");
  // The CLI shows the state as Slurm does.
  EXPECT_NE(cli("history").out.find("OUT_OF_MEMORY"), std::string::npos) << cli("history").out;
}

TEST_F(IsolationTest, AJobSeesOnlyItsGpusAndCannotOpenAnothers) {
  // Every GPU's device node, in a folder the job can reach; with no driver behind them, one
  // the cgroup lets the job open answers "No such device or address".
  const std::string devices = work + "/dev";
  fs::create_directories(devices);
  for (int minor = 0; minor < 8; ++minor) {
    const std::string node = devices + "/nvidia" + std::to_string(minor);
    ASSERT_EQ(::mknod(node.c_str(), S_IFCHR | 0666, makedev(kNvidiaMajor, minor)), 0) << node;
  }
  const uint64_t holder = submit_as(bob, "holder", "#!/bin/sh\nsleep 300\n", "--gpus 3");
  ASSERT_TRUE(ends(holder, "RUNNING")) << job(holder).dump();
  const uint64_t a =
      submit_as(alice, "gpus",
                "#!/bin/sh\necho \"visible=$CUDA_VISIBLE_DEVICES\"\n"
                "for m in 0 1 2 3 4 5 6 7; do cat dev/nvidia$m 2>&1 | sed \"s/^/$m /\"; done\n",
                "--gpus 2");
  ASSERT_NE(ended(a), "RUNNING") << job(a).dump();
  std::string visible;
  std::set<int> own;
  const json mine = job(a);
  for (const json& g : mine["gpu_ids"]) {
    own.insert(g.get<int>());
    visible += (visible.empty() ? "" : ",") + std::to_string(g.get<int>());
  }
  ASSERT_EQ(own.size(), 2u) << mine.dump();
  const std::string text = out("gpus");
  EXPECT_EQ(text.rfind("visible=" + visible + "\n", 0), 0u) << text;
  const json held = job(holder);
  for (const json& g : held["gpu_ids"]) EXPECT_FALSE(own.count(g.get<int>()));
  const bool filtered = fs::exists("/sys/fs/cgroup/devices/devices.allow");
  for (int m = 0; m < 8; ++m) {
    const std::string line_start = "\n" + std::to_string(m) + " ";
    const size_t at = ("\n" + text).find(line_start);
    ASSERT_NE(at, std::string::npos) << text;
    const std::string line =
        ("\n" + text).substr(at + 1, ("\n" + text).find('\n', at + 1) - at - 1);
    if (own.count(m)) {
      EXPECT_NE(line.find("No such device"), std::string::npos) << line;
    } else if (filtered) {
      EXPECT_NE(line.find("Operation not permitted"), std::string::npos) << line;
    }
  }
}

TEST_F(IsolationTest, ATokenWhoseUserWasRemovedCannotSubmit) {
  auto carol_user = std::make_unique<TemporaryUser>("bxc" + std::to_string(::getpid() % 100000));
  ASSERT_TRUE(carol_user->ok());
  const std::string name = carol_user->name();
  const std::string carol = token_for("carol", name);
  carol_user.reset();  // userdel
  const json b = {
      {"project", "vision"}, {"gpus", 1}, {"workdir", work}, {"script", "#!/bin/sh\ntrue\n"}};
  auto [status, reply] = daemon->api("POST", "/v1/jobs", b.dump(), carol);
  EXPECT_EQ(status, 400) << reply.dump();
  EXPECT_NE(reply.dump().find("'" + name + "'"), std::string::npos) << reply.dump();
}

}  // namespace
}  // namespace berth::testing
