// The watchdog with real processes standing for the agent and its jobs (`sleep`, each leading a
// process group of its own) and the clock given to each poll: it fences only once the lease has
// run out, only the launches listed and only while their leader is the process recorded, and it
// leaves when its agent is replaced, or gone with nothing left to fence.
#include "agent/watchdog.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

namespace berth::agent {
namespace {

namespace fs = std::filesystem;

class WatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-watchdog-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    agent_ = spawn();
  }
  void TearDown() override {
    for (pid_t pid : children_) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    fs::remove_all(dir_);
  }
  // A `sleep 600` leading a process group of its own, as a job's leader does.
  ProcessId spawn() {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      ::execl("/bin/sleep", "sleep", "600", nullptr);
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    children_.push_back(pid);
    return {pid, wait_for_ticks(pid)};
  }
  static uint64_t wait_for_ticks(pid_t pid) {
    uint64_t ticks = 0;
    while ((ticks = process_start_ticks(pid)) == 0) ::usleep(1000);
    return ticks;
  }
  // Whether the child has not ended (reaped here if it has).
  bool alive(const ProcessId& p) {
    if (::waitpid(p.pid, nullptr, WNOHANG) == 0) return true;
    forget(p);
    return false;
  }
  // Whether the child ends (killed) within 10 s; reaped.
  bool ends(const ProcessId& p) {
    for (int i = 0; i < 10'000; ++i, ::usleep(1000))
      if (!alive(p)) return true;
    return false;
  }
  void end(const ProcessId& p) {
    ::kill(p.pid, SIGKILL);
    ::waitpid(p.pid, nullptr, 0);
    forget(p);
  }
  void forget(const ProcessId& p) { std::erase(children_, p.pid); }
  void write(int64_t lease_until_ms, const std::vector<FenceTarget>& launches,
             ProcessId agent = {}) {
    FenceFile f;
    f.agent = agent.pid ? agent : agent_;
    f.lease_until_ms = lease_until_ms;
    f.launches = launches;
    ASSERT_TRUE(write_fence_file(dir_, f).ok());
  }

  std::string dir_;
  ProcessId agent_;
  std::vector<pid_t> children_;
};

TEST_F(WatchdogTest, AGroupIsSignalledOnlyWhileItsLeaderIsTheProcessRecorded) {
  const ProcessId job = spawn();
  EXPECT_FALSE(signal_launch_group({job.pid, job.start_ticks + 1}, SIGKILL)) << "a reused pid";
  EXPECT_FALSE(signal_launch_group({job.pid, 0}, SIGKILL)) << "an unknown start time";
  EXPECT_TRUE(alive(job));
  EXPECT_TRUE(signal_launch_group(job, SIGKILL));
  EXPECT_TRUE(ends(job));
  EXPECT_FALSE(signal_launch_group(job, 0)) << "gone, group and all";
}

TEST_F(WatchdogTest, ItFencesTheListedLaunchesOnceTheLeaseHasRunOutAndMarksThem) {
  const ProcessId job = spawn(), other = spawn();
  write(1'000, {{{42, 0, 0, 0}, job, 0}});
  Watchdog w(dir_, agent_);
  EXPECT_TRUE(w.poll(1'000));
  EXPECT_TRUE(alive(job)) << "the lease still holds";
  EXPECT_EQ(w.wait_ms(900), 101) << "it wakes just after the lease's end";
  EXPECT_TRUE(w.poll(1'001));
  EXPECT_TRUE(ends(job));
  EXPECT_TRUE(alive(other)) << "not listed: not fenceable";
  EXPECT_TRUE(alive(agent_)) << "a stopped agent is left alone";
  EXPECT_TRUE(take_fence_mark(dir_, {42, 0, 0, 0}));
}

TEST_F(WatchdogTest, ALeaderWhosePidIsAnotherProcessNowIsNotKilled) {
  const ProcessId job = spawn();
  write(1'000, {{{42, 0, 0, 0}, {job.pid, job.start_ticks + 1}, 0}});
  Watchdog w(dir_, agent_);
  EXPECT_TRUE(w.poll(5'000));
  EXPECT_TRUE(alive(job));
}

TEST_F(WatchdogTest, WithoutALeaseNothingIsFencedAndItLeavesWithItsAgent) {
  const ProcessId job = spawn();
  write(0, {{{42, 0, 0, 0}, job, 0}});
  Watchdog w(dir_, agent_);
  EXPECT_TRUE(w.poll(1'000'000));
  end(agent_);
  EXPECT_FALSE(w.poll(1'000'001));
  EXPECT_TRUE(alive(job));
}

TEST_F(WatchdogTest, ADeadAgentsLaunchesAreFencedWhenItsLeaseRunsOutThenItLeaves) {
  const ProcessId job = spawn();
  write(1'000, {{{42, 0, 0, 0}, job, 0}});
  end(agent_);
  Watchdog w(dir_, agent_);
  EXPECT_TRUE(w.poll(500)) << "it waits for the lease";
  EXPECT_TRUE(alive(job));
  EXPECT_FALSE(w.poll(1'001)) << "fenced: nothing left";
  EXPECT_TRUE(ends(job));
}

TEST_F(WatchdogTest, ItLeavesWhenANewAgentHasWrittenTheFile) {
  const ProcessId job = spawn(), next = spawn();
  write(1'000, {{{42, 0, 0, 0}, job, 0}}, next);
  Watchdog w(dir_, agent_);
  EXPECT_FALSE(w.poll(5'000));
  EXPECT_TRUE(alive(job)) << "the new agent deals with its predecessor's launches";
}

TEST_F(WatchdogTest, AGoneAgentWithoutAFileLeavesAndALiveOneIsWaitedFor) {
  Watchdog w(dir_, agent_);
  EXPECT_TRUE(w.poll(0));
  end(agent_);
  EXPECT_FALSE(w.poll(1));
}

}  // namespace
}  // namespace berth::agent
