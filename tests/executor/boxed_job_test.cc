// Jobs in this machine's real cgroups (root only; skipped, saying why, elsewhere): the memory
// limit ends a job through the OOM killer and its end says so, a process that left the job's
// group (setsid) dies with the job, the cgroup goes at the end, and the devices controller
// lets a job open only its own GPUs.
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "executor/cgroup.h"
#include "executor/cgroup_files.h"
#include "executor/reports.h"

namespace berth::executor {
namespace {

namespace fs = std::filesystem;

class BoxedJobTest : public ExecutorTest {
 protected:
  void SetUp() override {
    ExecutorTest::SetUp();
    base_ = "berth/test-" + std::to_string(::getpid());
    Result<std::unique_ptr<Cgroups>> cgroups = detect_cgroups(base_);
    if (!cgroups.ok()) GTEST_SKIP() << "no cgroups to test: " << cgroups.status().message();
    kind_ = (*cgroups)->kind();
    executor_ = std::make_unique<LocalExecutor>([this](const JobExit& e) { reports_.add(e); },
                                                std::move(*cgroups));
  }
  void TearDown() override {
    ExecutorTest::TearDown();
    if (kind_.empty()) return;
    for (const std::string& d : base_dirs()) {
      (void)cgroup_files::remove_dir(d);
      ::rmdir(d.substr(0, d.rfind('/')).c_str());  // "berth", once nothing else uses it
    }
  }
  // The base folder in each v1 controller (or the v2 one), under this process's own cgroups.
  std::vector<std::string> base_dirs() const {
    if (kind_ == "cgroup2") return {"/sys/fs/cgroup/" + base_};
    const std::string self = cgroup_files::read("/proc/self/cgroup");
    std::vector<std::string> out;
    for (const char* c : {"memory", "cpu", "devices", "freezer"}) {
      const std::string own = own_cgroup_path(self, c);
      out.push_back("/sys/fs/cgroup/" + std::string(c) + (own == "/" ? "" : own) + "/" + base_);
    }
    return out;
  }

  LaunchSpec spec(uint64_t job, const std::string& text) {
    const fs::path path = dir_ / ("job" + std::to_string(job) + ".sh");
    std::ofstream(path) << text;
    LaunchSpec s;
    s.job = JobId(job);
    s.script_path = path.string();
    s.workdir = dir_.string();
    s.stdout_path = s.stderr_path = (dir_ / ("job" + std::to_string(job) + ".out")).string();
    s.allow_root = true;
    return s;
  }

  std::string base_;
  std::string kind_;
};

TEST_F(BoxedJobTest, OverItsMemoryTheJobEndsByTheOomKiller) {
  LaunchSpec s = spec(1, "#!/bin/sh\nhead -c 300M /dev/zero | tail\necho survived\n");
  s.memory_mb = 64;
  ASSERT_TRUE(executor_->launch(s).ok());
  std::optional<JobExit> end = reports_.wait_for(JobId(1));
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->oom) << read_file(s.stdout_path);
}

TEST_F(BoxedJobTest, WithinItsMemoryNoOom) {
  LaunchSpec s = spec(2, "#!/bin/sh\nhead -c 8M /dev/zero | tail | wc -c\n");
  s.memory_mb = 64;
  ASSERT_TRUE(executor_->launch(s).ok());
  std::optional<JobExit> end = reports_.wait_for(JobId(2));
  ASSERT_TRUE(end.has_value());
  EXPECT_FALSE(end->oom);
  EXPECT_EQ(end->exit_code, 0);
  EXPECT_EQ(read_file(s.stdout_path), "8388608\n");
}

TEST_F(BoxedJobTest, AProcessThatLeftTheGroupDiesWithTheJobAndTheCgroupGoes) {
  const fs::path pid_file = dir_ / "escapee.pid";
  LaunchSpec s = spec(3, "#!/bin/sh\nsetsid sleep 1000 </dev/null >/dev/null 2>&1 &\necho $! > " +
                             pid_file.string() + "\n");
  ASSERT_TRUE(executor_->launch(s).ok());
  ASSERT_TRUE(reports_.wait_for(JobId(3)).has_value());
  const int pid = std::stoi(read_file(pid_file));
  for (int i = 0; i < 3000 && !process_dead(pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(process_dead(pid));
  for (const std::string& d : base_dirs()) EXPECT_FALSE(fs::exists(d + "/3_0")) << d;
}

TEST_F(BoxedJobTest, AJobOpensOnlyItsOwnGpus) {
  if (kind_ != "cgroup1") GTEST_SKIP() << "device filtering is built for cgroup v1 only";
  const fs::path gpu = dir_ / "nvidia3";
  ASSERT_EQ(::mknod(gpu.c_str(), S_IFCHR | 0666, makedev(kNvidiaMajor, 3)), 0);
  const std::string text = "#!/bin/sh\nexec 3<" + gpu.string() + "\n";
  LaunchSpec other = spec(4, text);
  other.gpus = {1};
  LaunchSpec own = spec(5, text);
  own.gpus = {3};
  ASSERT_TRUE(executor_->launch(other).ok());
  ASSERT_TRUE(executor_->launch(own).ok());
  ASSERT_TRUE(reports_.wait_for(JobId(4)).has_value());
  ASSERT_TRUE(reports_.wait_for(JobId(5)).has_value());
  EXPECT_NE(read_file(other.stdout_path).find("Operation not permitted"), std::string::npos)
      << read_file(other.stdout_path);
  // Allowed: with no driver behind it, the device itself answers "No such device".
  EXPECT_EQ(read_file(own.stdout_path).find("Operation not permitted"), std::string::npos)
      << read_file(own.stdout_path);
}

// A daemon killed while it swept a job's cgroup leaves it frozen, where SIGKILL waits; the
// next daemon's orphan killing thaws it.
TEST_F(BoxedJobTest, AnOrphanLeftFrozenIsKilled) {
  if (kind_ != "cgroup1") GTEST_SKIP() << "the freezer is cgroup v1's";
  Result<int> pgid = executor_->launch(spec(6, "#!/bin/sh\nsleep 1000\n"));
  ASSERT_TRUE(pgid.ok());
  const std::string freezer =
      own_cgroup_path(cgroup_files::read("/proc/" + std::to_string(*pgid) + "/cgroup"), "freezer");
  ASSERT_NE(freezer, "");
  ASSERT_TRUE(
      cgroup_files::write("/sys/fs/cgroup/freezer" + freezer, "freezer.state", "FROZEN\n").ok());
  EXPECT_TRUE(kill_orphan_job(*pgid, JobId(6)));
  std::optional<JobExit> end = reports_.wait_for(JobId(6));
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->term_signal, SIGKILL);
}

}  // namespace
}  // namespace berth::executor
