// The cgroup code against a temporary directory standing for the kernel's cgroup file systems:
// the folders it makes, the values it writes (every write is appended, so the order shows),
// the sweep, and how it reads the OOM killer's count on v1 and v2.
#include "executor/cgroup.h"
#include "executor/cgroup_leftovers.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "executor/reports.h"

namespace berth::executor {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProcDevices =
    "Character devices:\n  1 mem\n  4 tty\n136 pts\n195 nvidia-frontend\n"
    "511 nvidia-uvm\n\nBlock devices:\n  7 loop\n259 blkext\n";

class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cgroup-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    std::ofstream(root_ / "devices.txt") << kProcDevices;
  }
  void TearDown() override { fs::remove_all(root_); }

  CgroupSettings settings() const {
    CgroupSettings s;
    s.root = (root_ / "fs").string();
    s.base = "berth/test";
    s.proc_devices = (root_ / "devices.txt").string();
    return s;
  }
  void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  fs::path root_;
};

TEST(CgroupParse, OomKillsFromV1OomControlAndV2Events) {
  EXPECT_EQ(parse_oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 3);
  EXPECT_EQ(parse_oom_kills("low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n"), 1);
  EXPECT_EQ(parse_oom_kills("low 0\noom_group_kill 4\n"), -1);
  EXPECT_EQ(parse_oom_kills("oom_kill_disable 0\nunder_oom 0\n"), -1);  // before Linux 4.13
  EXPECT_EQ(parse_oom_kills(""), -1);
}

TEST(CgroupParse, CharacterMajorsOnlyAndEachOnce) {
  EXPECT_EQ(parse_char_majors(kProcDevices), (std::vector<int>{1, 4, 136, 195, 511}));
  EXPECT_TRUE(parse_char_majors("").empty());
}

TEST(CgroupParse, OwnCgroupPerController) {
  const std::string text = "9:name=systemd:/\n4:memory:/a/b\n1:cpu,cpuacct:/c\n0::/u\n";
  EXPECT_EQ(own_cgroup_path(text, "memory"), "/a/b");
  EXPECT_EQ(own_cgroup_path(text, "cpuacct"), "/c");
  EXPECT_EQ(own_cgroup_path(text, "freezer"), "");
}

TEST_F(CgroupTest, V1WritesLimitsAndDevicesInEachController) {
  auto cgroups = make_cgroup_v1(settings());
  EXPECT_EQ(cgroups->kind(), "cgroup1");
  auto job = cgroups->create("7_0", {512 << 20, 1500, {2, 5}});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  const fs::path fs = root_ / "fs";
  EXPECT_EQ(read_file(fs / "memory/berth/test/7_0/memory.limit_in_bytes"), "536870912\n");
  EXPECT_EQ(read_file(fs / "cpu/berth/test/7_0/cpu.cfs_period_us"), "100000\n");
  EXPECT_EQ(read_file(fs / "cpu/berth/test/7_0/cpu.cfs_quota_us"), "150000\n");
  EXPECT_EQ(read_file(fs / "devices/berth/test/7_0/devices.deny"), "a\n");
  // Everything but NVIDIA's major, then the job's own GPUs and nvidiactl.
  EXPECT_EQ(read_file(fs / "devices/berth/test/7_0/devices.allow"),
            "b *:* rwm\nc 1:* rwm\nc 4:* rwm\nc 136:* rwm\nc 511:* rwm\n"
            "c 195:2 rwm\nc 195:5 rwm\nc 195:255 rwm\n");
  EXPECT_TRUE(fs::is_directory(fs / "freezer/berth/test/7_0"));
  EXPECT_EQ((*job)->procs_files(),
            (std::vector<std::string>{(fs / "memory/berth/test/7_0/cgroup.procs").string(),
                                      (fs / "cpu/berth/test/7_0/cgroup.procs").string(),
                                      (fs / "devices/berth/test/7_0/cgroup.procs").string(),
                                      (fs / "freezer/berth/test/7_0/cgroup.procs").string()}));
}

TEST_F(CgroupTest, V1WithoutLimitsWritesNoLimitButStillFiltersDevices) {
  auto job = make_cgroup_v1(settings())->create("8_1", {});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  const fs::path fs = root_ / "fs";
  EXPECT_FALSE(fs::exists(fs / "memory/berth/test/8_1/memory.limit_in_bytes"));
  EXPECT_FALSE(fs::exists(fs / "cpu/berth/test/8_1/cpu.cfs_quota_us"));
  EXPECT_EQ(read_file(fs / "devices/berth/test/8_1/devices.deny"), "a\n");
  EXPECT_NE(read_file(fs / "devices/berth/test/8_1/devices.allow").find("c 195:255 rwm\n"),
            std::string::npos);
  EXPECT_EQ(read_file(fs / "devices/berth/test/8_1/devices.allow").find("c 195:0 "),
            std::string::npos);
}

TEST_F(CgroupTest, V1NestsUnderTheProcessOwnCgroups) {
  write(root_ / "self", "4:memory:/daemon/x\n3:cpu,cpuacct:/\n");
  CgroupSettings s = settings();
  s.own_cgroups = (root_ / "self").string();
  ASSERT_TRUE(make_cgroup_v1(s)->create("1_0", {}).ok());
  EXPECT_TRUE(fs::is_directory(root_ / "fs/memory/daemon/x/berth/test/1_0"));
  EXPECT_TRUE(fs::is_directory(root_ / "fs/cpu/berth/test/1_0"));
}

TEST_F(CgroupTest, V1SweepFreezesKillsEveryListedProcessThenThaws) {
  auto job = make_cgroup_v1(settings())->create("9_0", {});
  ASSERT_TRUE(job.ok());
  const fs::path dir = root_ / "fs/freezer/berth/test/9_0";
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  write(dir / "cgroup.procs", "0\n1\n" + std::to_string(child) + "\n");  // 0 and 1 are spared
  (*job)->sweep();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(read_file(dir / "freezer.state"), "FROZEN\nTHAWED\n");
}

TEST_F(CgroupTest, V1OomFromOomControlElseFailcntAtTheLimit) {
  auto job = make_cgroup_v1(settings())->create("3_0", {64 << 20, 0, {}});
  ASSERT_TRUE(job.ok());
  const fs::path memory = root_ / "fs/memory/berth/test/3_0";
  EXPECT_FALSE((*job)->oom());
  write(memory / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
  EXPECT_FALSE((*job)->oom());
  write(memory / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  EXPECT_TRUE((*job)->oom());
  // An older kernel counts no kills: a failed charge with the peak at the limit.
  write(memory / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
  write(memory / "memory.limit_in_bytes", "67108864\n");
  write(memory / "memory.failcnt", "5\n");
  write(memory / "memory.max_usage_in_bytes", "1000\n");
  EXPECT_FALSE((*job)->oom());
  write(memory / "memory.max_usage_in_bytes", "67108864\n");
  EXPECT_TRUE((*job)->oom());
}

TEST_F(CgroupTest, V1RemoveTakesEveryControllerFolder) {
  auto job = make_cgroup_v1(settings())->create("4_0", {});
  ASSERT_TRUE(job.ok());
  // The kernel's control files vanish with their folder; a plain directory must be emptied.
  for (const char* c : {"memory", "cpu", "devices", "freezer"})
    for (const auto& f : fs::directory_iterator(root_ / "fs" / c / "berth/test/4_0"))
      fs::remove(f.path());
  EXPECT_TRUE((*job)->remove().ok());
  for (const char* c : {"memory", "cpu", "devices", "freezer"})
    EXPECT_FALSE(fs::exists(root_ / "fs" / c / "berth/test/4_0")) << c;
  EXPECT_TRUE((*job)->remove().ok());  // already gone
}

TEST_F(CgroupTest, TheBaseGoesOnlyOnceNoJobCgroupIsLeft) {
  for (auto make : {make_cgroup_v1, make_cgroup_v2}) {
    auto cgroups = make(settings());
    auto job = cgroups->create("2_0", {});
    ASSERT_TRUE(job.ok());
    const std::vector<std::string> procs = (*job)->procs_files();
    const fs::path base = fs::path(procs.front()).parent_path().parent_path();
    cgroups->remove_base();
    EXPECT_TRUE(fs::is_directory(base)) << cgroups->kind();
    for (const std::string& p : procs)
      for (const auto& f : fs::directory_iterator(fs::path(p).parent_path())) fs::remove(f.path());
    for (const auto& f : fs::directory_iterator(base))
      if (!f.is_directory()) fs::remove(f.path());  // v2's subtree_control
    ASSERT_TRUE((*job)->remove().ok());
    cgroups->remove_base();
    EXPECT_FALSE(fs::exists(base)) << cgroups->kind();
  }
}

TEST_F(CgroupTest, CreateThatFailsSaysWhatAndLeavesNothing) {
  write(root_ / "fs/memory/berth/test", "not a folder");
  auto job = make_cgroup_v1(settings())->create("5_0", {});
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().message().find("cannot make"), std::string::npos)
      << job.status().message();
  EXPECT_FALSE(fs::exists(root_ / "fs/cpu/berth/test/5_0"));
}

TEST_F(CgroupTest, V2EnablesControllersAndWritesLimits) {
  auto cgroups = make_cgroup_v2(settings());
  EXPECT_EQ(cgroups->kind(), "cgroup2");
  auto job = cgroups->create("7_2", {256 << 20, 2000, {1}});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  const fs::path fs = root_ / "fs";
  for (const fs::path& d : {fs, fs / "berth", fs / "berth/test"})
    EXPECT_EQ(read_file(d / "cgroup.subtree_control"), "+cpu +memory\n") << d;
  const fs::path dir = fs / "berth/test/7_2";
  EXPECT_EQ(read_file(dir / "memory.max"), "268435456\n");
  EXPECT_EQ(read_file(dir / "memory.swap.max"), "0\n");
  EXPECT_EQ(read_file(dir / "cpu.max"), "200000 100000\n");
  EXPECT_FALSE(fs::exists(dir / "cgroup.subtree_control"));  // a leaf: its processes live here
  EXPECT_EQ((*job)->procs_files(), (std::vector<std::string>{(dir / "cgroup.procs").string()}));
}

TEST_F(CgroupTest, V2SweepKillsTheCgroupAndReadsOomFromEvents) {
  auto job = make_cgroup_v2(settings())->create("6_0", {});
  ASSERT_TRUE(job.ok());
  const fs::path dir = root_ / "fs/berth/test/6_0";
  EXPECT_FALSE(fs::exists(dir / "memory.max"));
  (*job)->sweep();
  EXPECT_EQ(read_file(dir / "cgroup.kill"), "1\n");
  write(dir / "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n");
  EXPECT_FALSE((*job)->oom());
  write(dir / "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  EXPECT_TRUE((*job)->oom());
  for (const auto& f : fs::directory_iterator(dir)) fs::remove(f.path());
  EXPECT_TRUE((*job)->remove().ok());
  EXPECT_FALSE(fs::exists(dir));
}

// The executor with cgroups on a temporary tree: the job's process joins each controller's
// cgroup (it writes "0", itself) before it runs, and its cgroup is swept at the end.
TEST_F(CgroupTest, LocalExecutorJobJoinsItsCgroupBeforeRunning) {
  Reports reports;
  LocalExecutor executor([&](const JobExit& e) { reports.add(e); }, make_cgroup_v1(settings()));
  EXPECT_EQ(executor.isolation(), "cgroup1");
  std::ofstream(root_ / "job.sh") << "#!/bin/sh\nexit 0\n";
  LaunchSpec spec;
  spec.job = JobId(11);
  spec.attempt = 2;
  spec.script_path = (root_ / "job.sh").string();
  spec.workdir = root_.string();
  spec.stdout_path = spec.stderr_path = (root_ / "out").string();
  spec.allow_root = true;
  spec.memory_mb = 64;
  ASSERT_TRUE(executor.launch(spec).ok());
  ASSERT_TRUE(reports.wait_for(JobId(11)).has_value());
  for (const char* c : {"memory", "cpu", "devices", "freezer"})
    EXPECT_EQ(read_file(root_ / "fs" / c / "berth/test/11_2/cgroup.procs"), "0") << c;
  EXPECT_EQ(read_file(root_ / "fs/memory/berth/test/11_2/memory.limit_in_bytes"), "67108864\n");
  EXPECT_EQ(read_file(root_ / "fs/freezer/berth/test/11_2/freezer.state"), "FROZEN\nTHAWED\n");
}

TEST_F(CgroupTest, LocalExecutorRefusesAJobWhoseCgroupCannotBeMade) {
  write(root_ / "fs/memory/berth", "not a folder");
  Reports reports;
  LocalExecutor executor([&](const JobExit& e) { reports.add(e); }, make_cgroup_v1(settings()));
  std::ofstream(root_ / "job.sh") << "#!/bin/sh\nexit 0\n";
  LaunchSpec spec;
  spec.job = JobId(12);
  spec.script_path = (root_ / "job.sh").string();
  spec.workdir = root_.string();
  spec.stdout_path = spec.stderr_path = (root_ / "out").string();
  spec.allow_root = true;
  Result<int> launched = executor.launch(spec);
  ASSERT_FALSE(launched.ok());
  EXPECT_NE(launched.status().message().find("cannot create the job's cgroup"), std::string::npos)
      << launched.status().message();
  EXPECT_EQ(executor.running(), 0u);
  EXPECT_FALSE(fs::exists(root_ / "out"));
}

TEST_F(CgroupTest, ACgroupMadeByAnotherProcessIsOpenedByNameAndListed) {
  for (auto make : {make_cgroup_v1, make_cgroup_v2}) {
    auto maker = make(settings());
    ASSERT_TRUE(maker->create(job_cgroup_name(7, 2), {}).ok());
    EXPECT_EQ(job_cgroup_name(7, 2, 3), "7_2_step3");
    ASSERT_TRUE(maker->create("8_0", {}).ok());
    auto other = make(settings());  // as a watchdog or the next agent sees the same base
    EXPECT_EQ(other->names(), (std::vector<std::string>{"7_2", "8_0"})) << other->kind();
    EXPECT_EQ(
        other->base_dir(),
        (root_ / "fs" / (other->kind() == "cgroup1" ? "memory/" : "") / "berth/test").string());
    auto opened = other->open("7_2");
    ASSERT_NE(opened, nullptr) << other->kind();
    EXPECT_EQ(opened->procs_files(), (*maker->create("7_2", {}))->procs_files());
    EXPECT_EQ(other->open("9_0"), nullptr) << other->kind();
    fs::remove_all(root_ / "fs");
  }
}

TEST(CgroupLeftovers, AnEarlierAgentOfTheSameNodeIsFoundButNotOneThatRuns) {
  char tmpl[] = "/tmp/berth-leftovers-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path parent = tmpl;
  EXPECT_EQ(agent_cgroup_base("gpu-01", 42), "berth/agent-gpu-01-42");
  for (const char* name :
       {"agent-gpu-01-42", "agent-gpu-01-100", "agent-gpu-01-200", "agent-gpu-01-7",
        "agent-gpu-01-x1", "agent-gpu-01-", "agent-gpu-1-9", "agent-gpu-01-node-3", "berthd-55"})
    fs::create_directories(parent / name);
  std::ofstream(parent / "agent-gpu-01-300") << "a file, not a cgroup";
  const auto runs = [](int pid) { return pid == 200; };
  EXPECT_EQ(find_leftover_agent_bases(parent.string(), "gpu-01", 42, runs),
            (std::vector<std::string>{"agent-gpu-01-100", "agent-gpu-01-7"}));
  EXPECT_EQ(find_leftover_agent_bases(parent.string(), "gpu", 42, runs), std::vector<std::string>{})
      << "gpu-01's agents are not gpu's";
  EXPECT_EQ(find_leftover_agent_bases((parent / "missing").string(), "gpu-01", 42, runs),
            std::vector<std::string>{});
  fs::remove_all(parent);
}

TEST_F(CgroupTest, EmptyingABaseKillsWhatRunsInEachCgroup) {
  auto cgroups = make_cgroup_v1(settings());
  ASSERT_TRUE(cgroups->create("3_0", {}).ok());
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  write(root_ / "fs/freezer/berth/test/3_0/cgroup.procs", std::to_string(child) + "\n");
  EXPECT_EQ(empty_cgroups(*cgroups), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

}  // namespace
}  // namespace berth::executor
