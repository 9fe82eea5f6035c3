// The job runner with the real LocalExecutor: real processes, a real agent.db; the messages it
// would send to berthd are captured. Waits are for events (an end arriving), never for time.
#include "agent/job_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>

#include "executor/local_executor.h"

namespace berth::agent {
namespace {

namespace pb = ::berth::agent::v1;
namespace fs = std::filesystem;

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("berth-runner-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/work");
    open();
  }
  // The runner leaves its jobs running when it goes (as an agent does): what a test left
  // running is killed here, found by this test's mark in its environment.
  void TearDown() override {
    runner_.reset();
    const std::string mark = "BERTH_TEST_RUN=" + dir_;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
      const std::string pid = e.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(e.path() / "environ");
      const std::string env(std::istreambuf_iterator<char>(in), {});
      if (env.find(mark) != std::string::npos) ::kill(std::stoi(pid), SIGKILL);
    }
    fs::remove_all(dir_);
  }
  void open() {
    runner_.reset();
    auto r = JobRunner::Open(
        dir_ + "/agent", clock_,
        [](executor::ExitCallback cb) {
          return std::make_unique<executor::LocalExecutor>(std::move(cb));
        },
        [this](const pb::FromAgent& m) {
          std::lock_guard<std::mutex> lock(mu_);
          sent_.push_back(m);
          cv_.notify_all();
        });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    runner_ = std::move(*r);
  }
  pb::Launch launch(uint64_t job, const std::string& script, uint64_t epoch = 1) {
    pb::Launch l;
    l.mutable_id()->set_job(job);
    l.set_epoch(epoch);
    pb::JobSpec* s = l.mutable_spec();
    s->set_script(script);
    s->set_workdir(dir_ + "/work");
    s->set_stdout_path(dir_ + "/work/out-" + std::to_string(job));
    s->set_stderr_path(dir_ + "/work/out-" + std::to_string(job));
    s->set_allow_root(true);
    s->set_grace_ms(1000);
    (*s->mutable_env())["BERTH_TEST_RUN"] = dir_;  // finds this test's processes alone
    return l;
  }
  // Waits for the next JobEnded of `job` sent from now on; fails the test without one.
  pb::JobEnded wait_end(uint64_t job) {
    std::unique_lock<std::mutex> lock(mu_);
    pb::JobEnded found;
    const bool got = cv_.wait_for(lock, std::chrono::seconds(60), [&] {
      for (size_t i = seen_; i < sent_.size(); ++i)
        if (sent_[i].has_ended() && sent_[i].ended().id().job() == job) {
          found = sent_[i].ended();
          seen_ = i + 1;
          return true;
        }
      return false;
    });
    EXPECT_TRUE(got) << "no end of job " << job;
    return found;
  }
  size_t count(bool (pb::FromAgent::*has)() const, uint64_t job) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& m : sent_)
      if ((m.*has)() && (m.has_started() ? m.started().id().job() : m.ended().id().job()) == job)
        ++n;
    return n;
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ + "/work/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string dir_;
  ManualClock clock_{1'800'000'000'000};
  std::unique_ptr<JobRunner> runner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<pb::FromAgent> sent_;
  size_t seen_ = 0;
};

TEST_F(JobRunnerTest, ALaunchRunsOnceAndItsEndIsResentUntilAcknowledged) {
  const std::string script = "#!/bin/sh\necho ran >> " + dir_ + "/work/runs\nexit 3\n";
  ASSERT_TRUE(runner_->on_launch(launch(1, script)));
  const pb::JobEnded end = wait_end(1);
  EXPECT_EQ(end.exit_code(), 3);
  EXPECT_EQ(end.end_seq(), 1u);
  EXPECT_FALSE(end.launch_failed());
  EXPECT_EQ(count(&pb::FromAgent::has_started, 1), 1u);
  // Sent again (a controller that did not get the answer): answered, never run again.
  ASSERT_TRUE(runner_->on_launch(launch(1, script)));
  EXPECT_EQ(wait_end(1).end_seq(), 1u);
  runner_->resend_ends();
  EXPECT_EQ(wait_end(1).end_seq(), 1u);
  EXPECT_EQ(read("runs"), "ran\n");
  // Acknowledged: settled, held no more.
  runner_->on_ack(1);
  pb::Register reg;
  runner_->fill_register(&reg);
  EXPECT_EQ(reg.held_size(), 0);
  EXPECT_EQ(reg.max_epoch_seen(), 1u);
}

TEST_F(JobRunnerTest, AReplacedControllersLaunchIsRefusedAndNothingRuns) {
  ASSERT_TRUE(runner_->on_launch(launch(1, "#!/bin/sh\nexit 0\n", 5)));
  wait_end(1);
  EXPECT_FALSE(runner_->on_launch(launch(2, "#!/bin/sh\ntouch " + dir_ + "/work/ran\n", 4)));
  EXPECT_FALSE(fs::exists(dir_ + "/work/ran"));
  EXPECT_EQ(count(&pb::FromAgent::has_started, 2), 0u);
}

TEST_F(JobRunnerTest, ALaunchThatCannotStartEndsWithTheReason) {
  pb::Launch l = launch(1, "#!/bin/sh\nexit 0\n");
  l.mutable_spec()->set_workdir(dir_ + "/no-such-dir");
  ASSERT_TRUE(runner_->on_launch(l));
  const pb::JobEnded end = wait_end(1);
  EXPECT_TRUE(end.launch_failed());
  EXPECT_NE(end.reason().find("no-such-dir"), std::string::npos) << end.reason();
  EXPECT_EQ(count(&pb::FromAgent::has_started, 1), 0u);
}

TEST_F(JobRunnerTest, ASignalStopsTheLaunchAndTheEndSaysSo) {
  ASSERT_TRUE(runner_->on_launch(launch(1, "#!/bin/sh\nexec sleep 600\n")));
  pb::Signal stop;
  stop.mutable_id()->set_job(1);
  stop.set_epoch(1);
  stop.set_signal(SIGTERM);
  stop.set_grace_ms(1000);
  ASSERT_TRUE(runner_->on_signal(stop));
  const pb::JobEnded end = wait_end(1);
  EXPECT_TRUE(end.stopped());
  EXPECT_EQ(end.signal(), SIGTERM);
}

TEST_F(JobRunnerTest, TheFenceStopsFenceableLaunchesOnlyAndTheirEndsAreLost) {
  pb::Launch requeueable = launch(1, "#!/bin/sh\nexec sleep 600\n");
  requeueable.set_fenceable(true);
  ASSERT_TRUE(runner_->on_launch(requeueable));
  ASSERT_TRUE(runner_->on_launch(launch(2, "#!/bin/sh\nexec sleep 600\n")));
  EXPECT_EQ(runner_->fence(), 1u);
  EXPECT_EQ(runner_->fence(), 0u) << "already being stopped";
  const pb::JobEnded end = wait_end(1);
  EXPECT_TRUE(end.lost());
  EXPECT_EQ(end.reason(), "fenced: berthd was silent past the lease");
  EXPECT_EQ(runner_->running(), 1u) << "the other job runs on";
}

// The watchdog's side (watchdog.h): the runner lists each fenceable launch as it starts and
// ends, and the end of a launch the watchdog signalled (its fence mark) is lost too.
TEST_F(JobRunnerTest, TheWatchdogIsToldOfFenceableLaunchesAndWhatItStopsEndsLost) {
  std::vector<std::vector<FenceRecorder::Running>> lists;
  runner_->on_fenceable_change([&](const std::vector<FenceRecorder::Running>& running) {
    std::lock_guard<std::mutex> lock(mu_);
    lists.push_back(running);
    cv_.notify_all();
  });
  pb::Launch requeueable = launch(1, "#!/bin/sh\nexec sleep 600\n");
  requeueable.set_fenceable(true);
  ASSERT_TRUE(runner_->on_launch(requeueable));
  ASSERT_TRUE(runner_->on_launch(launch(2, "#!/bin/sh\nexec sleep 600\n")));
  std::unique_lock<std::mutex> lock(mu_);
  ASSERT_EQ(lists.size(), 1u) << "only the fenceable launch";
  ASSERT_EQ(lists[0].size(), 1u);
  const FenceRecorder::Running listed = lists[0][0];
  EXPECT_EQ(listed.key, (LaunchKey{1, 0, 0, 0}));
  EXPECT_EQ(listed.grace_ms, 1000);
  ASSERT_GT(listed.pgid, 0);
  lock.unlock();
  leave_fence_mark(dir_ + "/agent", listed.key);
  ::kill(-listed.pgid, SIGTERM);  // as the watchdog does
  const pb::JobEnded end = wait_end(1);
  EXPECT_TRUE(end.lost());
  EXPECT_EQ(end.reason(), "fenced: berthd was silent past the lease");
  EXPECT_FALSE(take_fence_mark(dir_ + "/agent", listed.key)) << "taken by the runner";
  lock.lock();  // the runner tells the watchdog just after it sends the end
  ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(60), [&] { return lists.size() == 2; }));
  EXPECT_TRUE(lists[1].empty());
}

TEST_F(JobRunnerTest, WhatBerthdAlreadyEndedIsKilledAtRegistration) {
  ASSERT_TRUE(runner_->on_launch(launch(1, "#!/bin/sh\nexec sleep 600\n")));
  pb::Register reg;
  runner_->fill_register(&reg);
  ASSERT_EQ(reg.held_size(), 1);
  EXPECT_FALSE(reg.held(0).ended());
  pb::Registered registered;
  registered.set_epoch(2);
  registered.add_kill()->set_job(1);
  runner_->on_registered(registered);
  EXPECT_TRUE(wait_end(1).stopped());
}

TEST_F(JobRunnerTest, ARestartedAgentEndsWhatItCanNoLongerWatchAndKillsIt) {
  ASSERT_TRUE(runner_->on_launch(launch(1, "#!/bin/sh\nexec sleep 600\n")));
  ASSERT_EQ(count(&pb::FromAgent::has_started, 1), 1u);
  runner_.reset();  // the agent goes away; its job's process stays
  open();
  const pb::JobEnded end = wait_end(1);
  EXPECT_TRUE(end.stopped());
  EXPECT_EQ(end.reason(), "berth-agent restarted");
  EXPECT_TRUE(end.lost());
  EXPECT_EQ(end.end_seq(), 1u);
  pb::Register reg;
  runner_->fill_register(&reg);
  ASSERT_EQ(reg.held_size(), 1);
  EXPECT_TRUE(reg.held(0).ended());
  // Nothing of it is left: no process has this test's environment any more (a process just
  // killed may take a moment to leave /proc).
  const std::string survivors =
      "grep -l 'BERTH_TEST_RUN=" + dir_ + "' /proc/[0-9]*/environ 2>/dev/null | wc -l";
  int left = -1;
  for (int i = 0; i < 3000 && left != 0; ++i) {
    FILE* p = popen(survivors.c_str(), "r");
    char buf[32] = {0};
    left = fgets(buf, sizeof buf, p) ? std::atoi(buf) : -1;
    pclose(p);
    if (left != 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(left, 0);
}

}  // namespace
}  // namespace berth::agent
