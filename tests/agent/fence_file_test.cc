// The fence file the agent writes for its watchdog, and the marks the watchdog leaves: what is
// written reads back the same, a damaged file is refused, and the recorder keeps the file up to
// date with the lease and the launches (the leader's start time read from /proc).
#include "agent/fence_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace berth::agent {
namespace {

namespace fs = std::filesystem;

class FenceFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-fence-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

FenceFile sample() {
  FenceFile f;
  f.agent = {4242, 987654};
  f.cgroup_base = "berth/agent-gpu-01-4242";
  f.lease_until_ms = 123'456'789;
  f.launches.push_back({{42, 1, 0, 0}, {5000, 1111}, 30'000});
  f.launches.push_back({{43, 0, 2, 1}, {5001, 0}, 0});
  return f;
}

TEST_F(FenceFileTest, WhatIsWrittenReadsBackTheSame) {
  ASSERT_TRUE(write_fence_file(dir_, sample()).ok());
  const Result<FenceFile> back = read_fence_file(dir_);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, sample());
  FenceFile bare;
  bare.agent = {7, 8};
  ASSERT_TRUE(write_fence_file(dir_, bare).ok());
  EXPECT_EQ(*read_fence_file(dir_), bare);  // no cgroups, no lease, no launch
  EXPECT_FALSE(fs::exists(fence_file_path(dir_) + ".tmp"));
}

TEST_F(FenceFileTest, AMissingOrDamagedFileIsRefused) {
  EXPECT_EQ(read_fence_file(dir_).status().code(), Code::kNotFound);
  const std::string good = format_fence_file(sample());
  EXPECT_FALSE(parse_fence_file("").ok());
  EXPECT_FALSE(parse_fence_file("berth-fence 2\n").ok());
  EXPECT_FALSE(parse_fence_file(good + "launch 1 2 3\n").ok());
  EXPECT_FALSE(parse_fence_file(good + "lease_until_ms soon\n").ok());
  EXPECT_FALSE(parse_fence_file(good + "agent 1 2 3\n").ok());
  EXPECT_FALSE(parse_fence_file(good + "shim 1\n").ok());
}

TEST_F(FenceFileTest, AMarkIsTakenOnceAndClearedWithTheRest) {
  const LaunchKey a{42, 1, 0, 0}, b{43, 0, 0, 0};
  EXPECT_FALSE(take_fence_mark(dir_, a));
  leave_fence_mark(dir_, a);
  leave_fence_mark(dir_, b);
  EXPECT_TRUE(take_fence_mark(dir_, a));
  EXPECT_FALSE(take_fence_mark(dir_, a));
  clear_fence_marks(dir_);
  EXPECT_FALSE(take_fence_mark(dir_, b));
}

TEST_F(FenceFileTest, TheRecorderWritesTheLeaseAndTheLaunchesWithTheirLeadersStartTimes) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execl("/bin/sleep", "sleep", "600", nullptr);
    ::_exit(127);
  }
  FenceRecorder recorder(dir_, {4242, 99}, "berth/agent-n1-4242");
  ASSERT_TRUE(recorder.start().ok());
  FenceFile expected;
  expected.agent = {4242, 99};
  expected.cgroup_base = "berth/agent-n1-4242";
  EXPECT_EQ(*read_fence_file(dir_), expected) << "a new agent: no lease, no launch";

  recorder.lease_renewed(5'000);
  recorder.launches_changed({{{42, 0, 0, 0}, child, 2'000}});
  expected.lease_until_ms = 5'000;
  const uint64_t ticks = process_start_ticks(child);
  ASSERT_GT(ticks, 0u);
  expected.launches.push_back({{42, 0, 0, 0}, {child, ticks}, 2'000});
  EXPECT_EQ(*read_fence_file(dir_), expected);

  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  // The leader is known from when it was first seen, even once it is gone.
  recorder.launches_changed({{{42, 0, 0, 0}, child, 2'000}, {{44, 0, 0, 0}, 0, 0}});
  expected.launches.push_back({{44, 0, 0, 0}, {0, 0}, 0});
  EXPECT_EQ(*read_fence_file(dir_), expected);
  recorder.launches_changed({});
  expected.launches.clear();
  EXPECT_EQ(*read_fence_file(dir_), expected);
}

}  // namespace
}  // namespace berth::agent
