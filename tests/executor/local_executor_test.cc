// LocalExecutor against real processes. Every wait is on an event (a report, a file appearing,
// a process disappearing) with a generous limit; no test asserts how fast anything happens.
#include "executor/local_executor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "executor/reports.h"

namespace berth::executor {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Polls for a condition the test cannot be notified of (a file written by a job, a process
// gone); the limit is generous and only bounds a failing test.
template <typename Pred>
bool eventually(Pred pred, std::chrono::nanoseconds timeout = kWait) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

class LocalExecutorTest : public ExecutorTest {
 protected:
  // Writes a script into the test directory.
  std::string script(const std::string& name, const std::string& text,
                     fs::perms mode = fs::perms(0700)) {
    fs::path path = dir_ / name;
    std::ofstream(path) << text;
    fs::permissions(path, mode);
    return path.string();
  }

  LaunchSpec spec(uint64_t job, const std::string& script_path) {
    LaunchSpec s;
    s.job = JobId(job);
    s.script_path = script_path;
    s.workdir = dir_.string();
    s.stdout_path = (dir_ / ("job" + std::to_string(job) + ".out")).string();
    s.stderr_path = (dir_ / ("job" + std::to_string(job) + ".err")).string();
    s.allow_root = true;  // these tests run as whoever runs them, root included
    return s;
  }

  JobExit run(const LaunchSpec& s) {
    Result<int> pgid = executor_->launch(s);
    EXPECT_TRUE(pgid.ok()) << pgid.status().ToString();
    std::optional<JobExit> exit = reports_.wait_for(s.job);
    EXPECT_TRUE(exit.has_value()) << "job " << s.job.value << " was not reported";
    return exit.value_or(JobExit{});
  }
};

TEST_F(LocalExecutorTest, ReportsExitCode) {
  JobExit exit = run(spec(1, script("s", "#!/bin/sh\nexit 3\n")));
  EXPECT_EQ(exit.job, JobId(1));
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_EQ(exit.term_signal, 0);
  EXPECT_FALSE(exit.timed_out);
  EXPECT_FALSE(exit.cancelled);
  EXPECT_GE(exit.runtime_ms, 0);
  EXPECT_EQ(executor_->running(), 0u);
}

TEST_F(LocalExecutorTest, ReportsKillingSignal) {
  JobExit exit = run(spec(1, script("s", "#!/bin/sh\nkill -KILL $$\n")));
  EXPECT_EQ(exit.term_signal, SIGKILL);
  EXPECT_FALSE(exit.timed_out);
  EXPECT_FALSE(exit.cancelled);
}

TEST_F(LocalExecutorTest, RuntimeCoversTheJob) {
  JobExit exit = run(spec(1, script("s", "#!/bin/sh\nsleep 0.3\n")));
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_GE(exit.runtime_ms, 300);  // a lower bound only: the job really slept that long
}

TEST_F(LocalExecutorTest, CapturesStdoutAndStderrSeparately) {
  LaunchSpec s = spec(1, script("s", "#!/bin/sh\necho to-out\necho to-err >&2\n"));
  // An existing output file is truncated.
  std::ofstream(s.stdout_path) << "old content that must disappear\n";
  EXPECT_EQ(run(s).exit_code, 0);
  EXPECT_EQ(read_file(s.stdout_path), "to-out\n");
  EXPECT_EQ(read_file(s.stderr_path), "to-err\n");
  struct stat st {};
  ASSERT_EQ(::stat(s.stderr_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // a job of another user cannot read it
}

TEST_F(LocalExecutorTest, CapturesStdoutAndStderrIntoOneFile) {
  LaunchSpec s = spec(1, script("s", "#!/bin/sh\necho one\necho two >&2\necho three\n"));
  s.stderr_path = s.stdout_path;
  EXPECT_EQ(run(s).exit_code, 0);
  EXPECT_EQ(read_file(s.stdout_path), "one\ntwo\nthree\n");
}

TEST_F(LocalExecutorTest, JobSeesGpusJobIdAndExtraEnv) {
  LaunchSpec s = spec(42, script("s",
                                 "#!/bin/sh\n"
                                 "echo \"gpus=$CUDA_VISIBLE_DEVICES\"\n"
                                 "echo \"job=$BERTH_JOB_ID\"\n"
                                 "echo \"extra=$BERTH_TEST_EXTRA\"\n"
                                 "echo \"path=${PATH:+set}\"\n"));
  s.gpus = {1, 3};
  s.env = {{"BERTH_TEST_EXTRA", "hello world"}, {"BERTH_JOB_ID", "999"}};
  EXPECT_EQ(run(s).exit_code, 0);
  // A PATH is set (the run-as user's); the job id cannot be overridden by the spec.
  EXPECT_EQ(read_file(s.stdout_path), "gpus=1,3\njob=42\nextra=hello world\npath=set\n");
}

TEST_F(LocalExecutorTest, NoGpusGivesEmptyCudaVisibleDevices) {
  LaunchSpec s = spec(7, script("s", "#!/bin/sh\necho \"[${CUDA_VISIBLE_DEVICES-unset}]\"\n"));
  EXPECT_EQ(run(s).exit_code, 0);
  EXPECT_EQ(read_file(s.stdout_path), "[]\n");
}

TEST_F(LocalExecutorTest, RunsInWorkdirWithStdinFromDevNull) {
  fs::create_directory(dir_ / "work");
  LaunchSpec s = spec(1, script("s", "#!/bin/sh\npwd\ncat\necho end\n"));
  s.workdir = (dir_ / "work").string();
  EXPECT_EQ(run(s).exit_code, 0);
  EXPECT_EQ(read_file(s.stdout_path), fs::canonical(dir_ / "work").string() + "\nend\n");
}

TEST_F(LocalExecutorTest, JobInheritsNoOtherDescriptorOfTheParent) {
  // A descriptor without close-on-exec, like a listening socket a library opened carelessly.
  int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::dup2(fd, 100), 100);
  ::close(fd);
  LaunchSpec s = spec(
      1,
      script("s", "#!/bin/sh\nif [ -e /proc/$$/fd/100 ]; then echo leaked; else echo clean; fi\n"));
  EXPECT_EQ(run(s).exit_code, 0);
  ::close(100);
  EXPECT_EQ(read_file(s.stdout_path), "clean\n");
}

TEST_F(LocalExecutorTest, ScriptWithoutShebangRunsViaShWithArgs) {
  // Not executable, no #!: run as /bin/sh script args.
  LaunchSpec s = spec(1, script("plain", "echo \"$# $1 $2\"\n", fs::perms(0600)));
  s.args = {"a b", "c"};
  EXPECT_EQ(run(s).exit_code, 0);
  EXPECT_EQ(read_file(s.stdout_path), "2 a b c\n");
}

TEST_F(LocalExecutorTest, TimeLimitSendsTermAndReportsTimedOut) {
  LaunchSpec s = spec(1, script("s", "#!/bin/sh\nsleep 60\n"));
  s.time_limit_ms = 200;
  s.grace_ms = 200;
  JobExit exit = run(s);
  EXPECT_TRUE(exit.timed_out);
  EXPECT_FALSE(exit.cancelled);
  EXPECT_EQ(exit.term_signal, SIGTERM);
  EXPECT_GE(exit.runtime_ms, 200);
}

TEST_F(LocalExecutorTest, TimeLimitKillsJobIgnoringTermAfterGrace) {
  LaunchSpec s =
      spec(1, script("s", "#!/bin/sh\ntrap '' TERM\n: > ready\nwhile :; do sleep 1; done\n"));
  s.time_limit_ms = 200;
  s.grace_ms = 200;
  JobExit exit = run(s);
  EXPECT_TRUE(exit.timed_out);
  // "ready" is written once TERM is ignored; without it the TERM came first (a very slow start).
  EXPECT_EQ(exit.term_signal, fs::exists(dir_ / "ready") ? SIGKILL : SIGTERM);
}

TEST_F(LocalExecutorTest, TerminateKillsJobIgnoringTermAfterGrace) {
  LaunchSpec s =
      spec(1, script("s", "#!/bin/sh\ntrap '' TERM\n: > ready\nwhile :; do sleep 1; done\n"));
  ASSERT_TRUE(executor_->launch(s).ok());
  ASSERT_TRUE(eventually([&] { return fs::exists(dir_ / "ready"); }));
  ASSERT_TRUE(executor_->terminate(JobId(1), 200).ok());
  std::optional<JobExit> exit = reports_.wait_for(JobId(1));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->term_signal, SIGKILL);
  EXPECT_TRUE(exit->cancelled);
  EXPECT_FALSE(exit->timed_out);
}

TEST_F(LocalExecutorTest, TerminateReportsCancelled) {
  LaunchSpec s = spec(1, script("s", "#!/bin/sh\nsleep 60\n"));
  ASSERT_TRUE(executor_->launch(s).ok());
  EXPECT_EQ(executor_->running(), 1u);
  ASSERT_TRUE(executor_->terminate(JobId(1), 10'000).ok());
  std::optional<JobExit> exit = reports_.wait_for(JobId(1));
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->cancelled);
  EXPECT_FALSE(exit->timed_out);
  EXPECT_EQ(exit->term_signal, SIGTERM);
  EXPECT_EQ(executor_->running(), 0u);
  EXPECT_EQ(executor_->terminate(JobId(1), 0).code(), Code::kNotFound);
}

TEST_F(LocalExecutorTest, TerminateUnknownJobIsNotFound) {
  EXPECT_EQ(executor_->terminate(JobId(5), 0).code(), Code::kNotFound);
}

// A step runs beside its job (LaunchSpec::step): both are known by (job, step), stopped and
// reported apart, and a step appending to the job's output never overwrites the script's lines.
TEST_F(LocalExecutorTest, AStepRunsBesideItsJobAndStopsAlone) {
  LaunchSpec job = spec(1, script("job",
                                  "#!/bin/sh\necho before\n: > job-ready\n"
                                  "while [ ! -e step-done ]; do sleep 0.05; done\n"
                                  "echo after\n"));
  ASSERT_TRUE(executor_->launch(job).ok());
  ASSERT_TRUE(eventually([&] { return fs::exists(dir_ / "job-ready"); }));
  LaunchSpec step = spec(1, script("step", "#!/bin/sh\necho from-step\nsleep 60\n"));
  step.step = 1;
  step.stdout_path = job.stdout_path;
  step.append_output = true;
  ASSERT_TRUE(executor_->launch(step).ok());
  EXPECT_EQ(executor_->launch(step).status().code(), Code::kConflict);  // one step 1 at a time
  EXPECT_EQ(executor_->running(), 2u);
  ASSERT_TRUE(eventually(
      [&] { return read_file(job.stdout_path).find("from-step") != std::string::npos; }));
  ASSERT_TRUE(executor_->terminate_step(JobId(1), 1, 0).ok());
  ASSERT_TRUE(reports_.wait_for_count(1));
  const JobExit step_exit = reports_.all().front();
  EXPECT_EQ(step_exit.job, JobId(1));
  EXPECT_EQ(step_exit.step, 1u);
  EXPECT_TRUE(step_exit.cancelled);
  EXPECT_EQ(executor_->running(), 1u);  // the job runs on
  std::ofstream(dir_ / "step-done") << "";
  ASSERT_TRUE(reports_.wait_for_count(2));
  EXPECT_EQ(reports_.all().back().step, 0u);
  EXPECT_EQ(reports_.all().back().exit_code, 0);
  EXPECT_EQ(read_file(job.stdout_path), "before\nfrom-step\nafter\n");
  EXPECT_EQ(executor_->terminate_step(JobId(1), 1, 0).code(), Code::kNotFound);
}

TEST_F(LocalExecutorTest, BackgroundedGrandchildDoesNotOutliveLeader) {
  LaunchSpec s = spec(
      1, script("s", "#!/bin/sh\nsleep 300 >/dev/null 2>&1 &\necho $! > grandchild.pid\nexit 0\n"));
  EXPECT_EQ(run(s).exit_code, 0);
  int grandchild = std::atoi(read_file(dir_ / "grandchild.pid").c_str());
  ASSERT_GT(grandchild, 1);
  EXPECT_TRUE(eventually([&] { return process_dead(grandchild); }))
      << "grandchild " << grandchild << " still runs";
}

TEST_F(LocalExecutorTest, MissingWorkdirIsAnError) {
  LaunchSpec s = spec(1, script("s", "#!/bin/sh\ntrue\n"));
  s.workdir = (dir_ / "no-such-dir").string();
  Result<int> r = executor_->launch(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no-such-dir"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(executor_->running(), 0u);
}

TEST_F(LocalExecutorTest, MissingScriptIsAnError) {
  Result<int> r = executor_->launch(spec(1, (dir_ / "missing.sh").string()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing.sh"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(executor_->running(), 0u);
}

TEST_F(LocalExecutorTest, ShebangScriptRunsUnderItsInterpreterWithoutTheExecuteBit) {
  // berthd hands the job a copy of the script (fd 3), so the file's own mode does not matter.
  LaunchSpec s = spec(
      1, script("s", "#!/bin/sh -e\necho \"$0 $1\"\nfalse\necho not-reached\n", fs::perms(0600)));
  s.args = {"arg"};
  EXPECT_EQ(run(s).exit_code, 1);  // -e from the #! line stopped it at `false`
  EXPECT_EQ(read_file(s.stdout_path), "/dev/fd/3 arg\n");
}

TEST_F(LocalExecutorTest, UnopenableOutputFileIsAnError) {
  LaunchSpec s = spec(1, script("s", "#!/bin/sh\ntouch started\n"));
  s.stderr_path = (dir_ / "no-such-dir" / "err").string();
  Result<int> r = executor_->launch(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("stderr"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(executor_->running(), 0u);
  EXPECT_FALSE(fs::exists(dir_ / "started"));
}

TEST_F(LocalExecutorTest, AnOutputInAMissingFolderSaysTheFolderMustExist) {
  LaunchSpec s = spec(1, script("s", "#!/bin/sh\ntouch started\n"));
  s.stdout_path = (dir_ / "logs" / "train-1.out").string();
  s.stderr_path = s.stdout_path;
  Result<int> r = executor_->launch(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot open output " + s.stdout_path), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(
      r.status().message().find("No such file or directory (its directory " +
                                (dir_ / "logs").string() + "/ must exist before the job starts)"),
      std::string::npos)
      << r.status().ToString();
}

// The warning comes warn_before_ms before the limit. The script counts as warned if it caught
// the signal, or — when it had not yet set its trap (a very slow start) — was ended by it; either
// way it was the warning, not the time limit's TERM.
TEST_F(LocalExecutorTest, SignalBeforeTheTimeLimitWarnsTheJob) {
  LaunchSpec s = spec(1, script("s",
                                "#!/bin/sh\ntrap 'echo warned > warned; exit 0' USR1\n"
                                "while :; do sleep 0.05; done\n"));
  s.time_limit_ms = 60'000;
  s.warn_signal = SIGUSR1;
  s.warn_before_ms = 59'800;
  JobExit exit = run(s);
  EXPECT_FALSE(exit.timed_out);
  if (exit.term_signal == 0) {
    EXPECT_EQ(exit.exit_code, 0);
    EXPECT_EQ(read_file((dir_ / "warned").string()), "warned\n");
  } else {
    EXPECT_EQ(exit.term_signal, SIGUSR1);
  }
}

TEST_F(LocalExecutorTest, ABatchOnlySignalWarnsTheScriptButNotItsChildren) {
  // The child would write child-warned on USR1; the script, warned, waits for its child to
  // have set its trap, then ends.
  LaunchSpec s = spec(1, script("s",
                                "#!/bin/sh\n"
                                "sh -c \"trap 'echo x > child-warned' USR1; : > child-ready; "
                                "while :; do sleep 0.05; done\" &\n"
                                "trap 'echo warned > warned' USR1\n"
                                "while [ ! -e warned ]; do sleep 0.05; done\n"
                                "sleep 0.3\n"));
  s.time_limit_ms = 60'000;
  s.warn_signal = SIGUSR1;
  s.warn_before_ms = 59'500;
  s.warn_leader_only = true;
  JobExit exit = run(s);
  EXPECT_FALSE(exit.timed_out);
  if (exit.term_signal == 0) {
    EXPECT_EQ(read_file((dir_ / "warned").string()), "warned\n");
    EXPECT_FALSE(fs::exists(dir_ / "child-warned"));
  } else {
    EXPECT_EQ(exit.term_signal, SIGUSR1);
  }
}

TEST_F(LocalExecutorTest, RunningJobIdIsAConflict) {
  ASSERT_TRUE(executor_->launch(spec(1, script("s", "#!/bin/sh\nsleep 60\n"))).ok());
  EXPECT_EQ(executor_->launch(spec(1, script("s2", "#!/bin/sh\ntrue\n"))).status().code(),
            Code::kConflict);
  EXPECT_EQ(executor_->running(), 1u);
}

TEST_F(LocalExecutorTest, ManyShortJobsAreEachReportedOnce) {
  constexpr int kJobs = 200;
  std::string path = script("t", "true\n", fs::perms(0600));
  for (int i = 1; i <= kJobs; ++i) {
    LaunchSpec s = spec(i, path);
    s.stdout_path = s.stderr_path = (dir_ / "shared.out").string();
    Result<int> r = executor_->launch(s);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  ASSERT_TRUE(reports_.wait_for_count(kJobs, seconds(120)));
  EXPECT_TRUE(executor_->kill_all(0));
  executor_.reset();  // joins the threads: nothing more can be reported
  std::map<uint64_t, int> seen;
  for (const JobExit& e : reports_.all()) {
    ++seen[e.job.value];
    EXPECT_EQ(e.exit_code, 0);
  }
  EXPECT_EQ(reports_.all().size(), size_t{kJobs});
  EXPECT_EQ(seen.size(), size_t{kJobs});
  for (const auto& [job, count] : seen) EXPECT_EQ(count, 1) << "job " << job;
}

TEST_F(LocalExecutorTest, KillAllEndsEveryJob) {
  std::string path = script("s", "#!/bin/sh\nsleep 60\n");
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(executor_->launch(spec(i, path)).ok());
  EXPECT_TRUE(executor_->kill_all(1000));
  EXPECT_EQ(executor_->running(), 0u);
  std::vector<JobExit> all = reports_.all();
  ASSERT_EQ(all.size(), 3u);
  for (const JobExit& e : all) EXPECT_TRUE(e.cancelled);
}

TEST_F(LocalExecutorTest, DestructorLeavesJobsRunning) {
  Result<int> pgid = executor_->launch(spec(1, script("s", "#!/bin/sh\nsleep 60\n")));
  ASSERT_TRUE(pgid.ok());
  executor_.reset();
  EXPECT_FALSE(process_dead(*pgid));
  EXPECT_TRUE(reports_.all().empty());
  // Clean up by hand, as a restarted berthd would.
  EXPECT_TRUE(kill_orphan_job(*pgid, JobId(1)));
  int status = 0;
  EXPECT_EQ(::waitpid(*pgid, &status, 0), *pgid);
  EXPECT_TRUE(WIFSIGNALED(status));
}

TEST_F(LocalExecutorTest, KillOrphanJobRefusesGroupOfAnotherJob) {
  Result<int> pgid = executor_->launch(spec(5, script("s", "#!/bin/sh\nsleep 60\n")));
  ASSERT_TRUE(pgid.ok());
  EXPECT_FALSE(kill_orphan_job(*pgid, JobId(6)));
  EXPECT_FALSE(kill_orphan_job(*pgid, JobId(50)));  // no prefix match either
  EXPECT_EQ(executor_->running(), 1u);
  EXPECT_TRUE(kill_orphan_job(*pgid, JobId(5)));
  std::optional<JobExit> exit = reports_.wait_for(JobId(5));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->term_signal, SIGKILL);
}

TEST_F(LocalExecutorTest, KillOrphanJobRefusesUnrelatedProcesses) {
  EXPECT_FALSE(kill_orphan_job(::getpid(), JobId(1)));  // the test itself: no BERTH_JOB_ID
  EXPECT_FALSE(kill_orphan_job(1, JobId(1)));
  EXPECT_FALSE(kill_orphan_job(0, JobId(1)));
  EXPECT_FALSE(kill_orphan_job(-1, JobId(1)));
}

// After a berthd crash the leader may be gone (reaped by init) while its group still runs.
TEST(KillOrphanJob, FindsGroupWhoseLeaderIsGone) {
  char tmpl[] = "/tmp/berth-exec-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  fs::path dir = tmpl;
  std::string pid_file = (dir / "member.pid").string();
  std::string command = "sleep 300 >/dev/null 2>&1 & echo $! > " + pid_file + ".tmp && mv " +
                        pid_file + ".tmp " + pid_file;
  std::vector<std::string> args = {"/bin/sh", "-c", command};
  std::vector<std::string> env = {"BERTH_JOB_ID=9", "PATH=/usr/bin:/bin"};
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawnattr_t attr;
  ASSERT_EQ(posix_spawnattr_init(&attr), 0);
  ASSERT_EQ(posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP), 0);
  ASSERT_EQ(posix_spawnattr_setpgroup(&attr, 0), 0);
  pid_t leader = 0;
  ASSERT_EQ(posix_spawn(&leader, "/bin/sh", nullptr, &attr, argv.data(), envp.data()), 0);
  posix_spawnattr_destroy(&attr);
  int status = 0;
  ASSERT_EQ(::waitpid(leader, &status, 0), leader);
  ASSERT_TRUE(eventually([&] { return fs::exists(pid_file); }));
  int member = std::atoi(read_file(pid_file).c_str());
  ASSERT_GT(member, 1);

  EXPECT_FALSE(kill_orphan_job(leader, JobId(8)));
  EXPECT_FALSE(process_dead(member));
  EXPECT_TRUE(kill_orphan_job(leader, JobId(9)));
  EXPECT_TRUE(eventually([&] { return process_dead(member); }));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace berth::executor
