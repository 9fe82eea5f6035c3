// The job's process as its user sees it: a clean environment, outputs opened as that user and
// never through a symlink or into a FIFO, the reason a start failed, and the run-as user when
// the tests run as root (a temporary Unix user is created and removed).
#include "executor/job_process.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/temporary_user.h"
#include "executor/launch_queue.h"
#include "executor/local_executor.h"
#include "executor/reports.h"

namespace berth::executor {
namespace {

namespace fs = std::filesystem;

using berth::testing::TemporaryUser;

class JobProcessTest : public ExecutorTest {
 protected:
  std::string script(const std::string& text) {
    const fs::path path = dir_ / ("script" + std::to_string(++scripts_));
    std::ofstream(path) << text;
    fs::permissions(path, fs::perms(0600));
    return path.string();
  }
  LaunchSpec spec(uint64_t job, const std::string& text) {
    LaunchSpec s;
    s.job = JobId(job);
    s.script_path = script(text);
    s.workdir = dir_.string();
    s.stdout_path = (dir_ / ("job" + std::to_string(job) + ".out")).string();
    s.stderr_path = s.stdout_path;
    s.allow_root = true;
    return s;
  }
  JobExit run(const LaunchSpec& s) {
    Result<int> pgid = executor_->launch(s);
    EXPECT_TRUE(pgid.ok()) << pgid.status().ToString();
    return reports_.wait_for(s.job).value_or(JobExit{});
  }

  int scripts_ = 0;
};

TEST_F(JobProcessTest, EnvironmentHoldsTheJobsVariablesAndNothingOfTheParents) {
  ::setenv("BERTH_TOKEN", "parent-secret", 1);
  ::setenv("BERTH_STATE_DIR", "/parent/state", 1);
  LaunchSpec s = spec(5, "#!/bin/sh\nenv\n");
  s.env = {{"WANTED", "yes"}};
  s.gpus = {2};
  EXPECT_EQ(run(s).exit_code, 0);
  ::unsetenv("BERTH_TOKEN");
  ::unsetenv("BERTH_STATE_DIR");
  const std::string env = read_file(s.stdout_path);
  EXPECT_EQ(env.find("parent-secret"), std::string::npos) << env;
  EXPECT_EQ(env.find("BERTH_STATE_DIR"), std::string::npos) << env;
  for (const char* wanted : {"WANTED=yes\n", "BERTH_JOB_ID=5\n", "CUDA_VISIBLE_DEVICES=2\n",
                             "HOME=", "USER=", "LOGNAME=", "SHELL=", "PATH="}) {
    EXPECT_NE(env.find(wanted), std::string::npos) << wanted << " missing from\n" << env;
  }
}

TEST_F(JobProcessTest, OutputThroughASymlinkIsRefusedAndItsTargetUntouched) {
  const fs::path target = dir_ / "precious";
  std::ofstream(target) << "keep me\n";
  fs::create_symlink(target, dir_ / "link.out");
  LaunchSpec s = spec(1, "#!/bin/sh\necho overwritten\n");
  s.stdout_path = s.stderr_path = (dir_ / "link.out").string();
  Result<int> r = executor_->launch(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("symbolic link"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("link.out"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(read_file(target), "keep me\n");
  EXPECT_EQ(executor_->running(), 0u);
}

TEST_F(JobProcessTest, FifoOutputIsRefusedWithoutBlocking) {
  const fs::path fifo = dir_ / "fifo.out";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
  LaunchSpec s = spec(1, "#!/bin/sh\necho x\n");
  s.stdout_path = s.stderr_path = fifo.string();
  // Launched on another thread so that a launch that blocks fails the test instead of hanging it.
  auto launched = std::async(std::launch::async, [&] { return executor_->launch(s); });
  if (launched.wait_for(kWait) != std::future_status::ready) {
    const int unblock = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    launched.wait();
    ::close(unblock);
    FAIL() << "launch blocked on a FIFO";
  }
  Result<int> r = launched.get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos)
      << r.status().ToString();

  // With a reader waiting the open succeeds; fstat refuses it all the same.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  Result<int> with_reader = executor_->launch(s);
  ::close(reader);
  ASSERT_FALSE(with_reader.ok());
  EXPECT_NE(with_reader.status().message().find("is not a regular file"), std::string::npos)
      << with_reader.status().ToString();
}

TEST_F(JobProcessTest, DevNullIsAnAcceptedOutput) {
  LaunchSpec s = spec(1, "#!/bin/sh\necho gone\n");
  s.stdout_path = s.stderr_path = "/dev/null";
  EXPECT_EQ(run(s).exit_code, 0);
}

TEST_F(JobProcessTest, AFailedStartNamesTheStepThePathAndTheUser) {
  LaunchSpec s = spec(1, "#!/bin/sh\ntrue\n");
  s.workdir = (dir_ / "gone").string();
  Result<int> r = executor_->launch(s);
  ASSERT_FALSE(r.ok());
  const Result<Identity> self = resolve_identity("", true);
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(r.status().message(), "cannot enter workdir " + s.workdir + " as " + self->name +
                                      ": No such file or directory");

  LaunchSpec missing_interpreter = spec(2, "#!/no/such/interpreter\n");
  Result<int> r2 = executor_->launch(missing_interpreter);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("cannot run /no/such/interpreter"), std::string::npos)
      << r2.status().ToString();
}

TEST_F(JobProcessTest, UnknownUserIsRefused) {
  LaunchSpec s = spec(1, "#!/bin/sh\ntrue\n");
  s.user = "no-such-user-berth";
  Result<int> r = executor_->launch(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown Unix user 'no-such-user-berth'"), std::string::npos)
      << r.status().ToString();
}

TEST_F(JobProcessTest, RootIsRefusedUnlessAllowed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  LaunchSpec s = spec(1, "#!/bin/sh\ntouch ran\n");
  s.allow_root = false;
  Result<int> r = executor_->launch(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("allow_root"), std::string::npos) << r.status().ToString();
  s.user = "root";
  EXPECT_FALSE(executor_->launch(s).ok());
  EXPECT_FALSE(fs::exists(dir_ / "ran"));
}

TEST_F(JobProcessTest, RunsAsTheGivenUserWhoCannotReadBerthdsFiles) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a user and switch to it";
  TemporaryUser user("berthjp" + std::to_string(::getpid() % 100000));
  ASSERT_TRUE(user.ok()) << "useradd failed";
  // dir_ is berthd's: mode 0700, holding the script and a secret. The job works elsewhere.
  std::ofstream(dir_ / "secret") << "root only\n";
  fs::permissions(dir_ / "secret", fs::perms(0600));
  char tmpl[] = "/tmp/berth-jobproc-work-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path work = tmpl;
  fs::permissions(work, fs::perms::all | fs::perms::sticky_bit);
  LaunchSpec s = spec(1, "#!/bin/sh\nid -u\necho \"$USER $HOME\"\ncat " +
                             (dir_ / "secret").string() + " 2>/dev/null || echo no-secret\ntouch " +
                             (dir_ / "planted").string() + " 2>/dev/null || echo no-plant\n");
  s.user = user.name();
  s.allow_root = false;
  s.workdir = work.string();
  s.stdout_path = s.stderr_path = (work / "out").string();
  EXPECT_EQ(run(s).exit_code, 0);
  const std::string out = read_file(work / "out");
  EXPECT_EQ(out.substr(0, out.find('\n')), std::to_string(user.uid())) << out;
  EXPECT_NE(out.find(user.name() + " "), std::string::npos) << out;
  EXPECT_NE(out.find("no-secret"), std::string::npos) << out;
  EXPECT_NE(out.find("no-plant"), std::string::npos) << out;
  struct stat st {};
  ASSERT_EQ(::stat((work / "out").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, user.uid());  // created as the user, not as root

  // An output where the user may not write: the reason names the path and the user.
  LaunchSpec denied = s;
  denied.job = JobId(2);
  denied.stdout_path = denied.stderr_path = (dir_ / "x.out").string();
  Result<int> r = executor_->launch(denied);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot open output " + denied.stdout_path + " as " +
                                      user.name() + ": Permission denied");
  EXPECT_FALSE(fs::exists(dir_ / "x.out"));
  std::error_code ec;
  fs::remove_all(work, ec);
}

TEST_F(JobProcessTest, LaunchQueueReportsAFailedLaunchAsTheJobsEndWithItsReason) {
  LaunchQueue queue(*executor_, [this](const JobExit& e) { reports_.add(e); });
  LaunchSpec s = spec(9, "#!/bin/sh\ntrue\n");
  s.workdir = (dir_ / "gone").string();
  queue.launch(s);
  std::optional<JobExit> exit = reports_.wait_for(JobId(9));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, 127);
  EXPECT_NE(exit->reason.find("cannot enter workdir " + s.workdir), std::string::npos)
      << exit->reason;
}

TEST_F(JobProcessTest, LaunchQueueStopsAJobCancelledRightAfterItsLaunch) {
  LaunchQueue queue(*executor_, [this](const JobExit& e) { reports_.add(e); });
  queue.launch(spec(3, "#!/bin/sh\nsleep 60\n"));
  queue.terminate(JobId(3), 0);  // queued behind the launch, so it reaches a running job
  std::optional<JobExit> exit = reports_.wait_for(JobId(3));
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->cancelled);
}

}  // namespace
}  // namespace berth::executor
