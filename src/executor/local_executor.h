// LocalExecutor: runs jobs as processes on this machine.
//
// launch() starts the job as the leader of a new process group (pgid == pid), as the spec's
// user (job_process.h: the child drops privileges before it touches the file system), with a
// clean environment, stdin from /dev/null, stdout/stderr to the spec's files (regular files or
// /dev/null only, never through a final symlink), the spec's workdir as cwd, a clean signal
// state (empty mask, default dispositions) and no descriptor of berthd beyond 0-3. berthd reads
// the script and passes a copy as fd 3: a script whose first bytes are "#!" runs under that
// interpreter as `interpreter [arg] /dev/fd/3 args...`; any other as `/bin/sh /dev/fd/3 args...`.
// launch() blocks on the file system as the job's user (a hung NFS workdir): call it from a
// thread that serves nothing else (LaunchQueue).
//
// Two threads serve all jobs:
//  - the reaper waits (poll on one pidfd per job, no busy polling) for each leader to exit, then
//    SIGKILLs the rest of its group — before reaping the leader, so the pgid cannot have been
//    reused — so that nothing of a finished job keeps holding its GPUs; it then reports the end
//    exactly once through the callback. pidfds wait only for this executor's own children, so
//    several executors (and other child processes) can live in one process.
//  - the timer sleeps until the earliest deadline (a warning signal before the time limit, the
//    time limit, or the end of a grace period) and sends the warning (to the group, or the
//    leader alone), SIGTERM or SIGKILL to the whole group.
//
// Given Cgroups (cgroup.h), each launch gets its own cgroup (`<job>_<attempt>`, a step
// `<job>_<attempt>_step<n>`) with the spec's CPUs, memory and GPUs, which the child joins before it
// drops privileges; when the leader has exited, the whole cgroup is swept too (so processes that
// left the group with setsid or setpgid die), the OOM killer's work read into JobExit::oom, and the
// cgroup removed. A launch whose cgroup cannot be made fails with the reason. Without Cgroups,
// processes that leave the group escape the sweep.
//
// Thread-safety: all methods may be called from any thread, including from the callback.
// running() drops just before the callback for that job runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <map>
#include <utility>

#include "executor/cgroup.h"
#include "executor/executor.h"

namespace berth::executor {

class LocalExecutor final : public Executor {
 public:
  // `cgroups` null: jobs run without a cgroup.
  explicit LocalExecutor(ExitCallback on_exit, std::unique_ptr<Cgroups> cgroups = nullptr);
  // Stops the threads; it does NOT end running jobs (a restarted berthd recovers them with
  // kill_orphan_job) and reports nothing more. Call kill_all() first to end them. The cgroups'
  // base folder is removed when no job's cgroup is left in it.
  ~LocalExecutor() override;
  LocalExecutor(const LocalExecutor&) = delete;
  LocalExecutor& operator=(const LocalExecutor&) = delete;

  // Errors: kInvalidArgument, whose message is the reason fit for the job's user, for an
  // unusable spec (invalid job id, unknown user, root not allowed, missing or unreadable script,
  // a workdir the user cannot enter, an output it cannot open or that is not a regular file, a
  // malformed env name), kConflict if the job is already running, kInternal if the fork itself
  // fails. On error nothing is left running and nothing will be reported.
  Result<int> launch(const LaunchSpec& spec) override;
  // kNotFound if the job is not running (or its end is already being reported).
  Status terminate(JobId job, int64_t grace_ms) override;
  Status terminate_step(JobId job, uint32_t step, int64_t grace_ms) override;
  size_t running() const override;
  // How jobs are boxed: "cgroup1", "cgroup2" or "none".
  std::string isolation() const;

  // Ends every running job as terminate() would (cancelled = true): SIGTERM now, SIGKILL after
  // grace_ms. Blocks until every end has been reported through the callback; returns false if
  // some job was still unreported wait_ms after the SIGKILL (a process stuck in the kernel).
  bool kill_all(int64_t grace_ms = 0, int64_t wait_ms = 30'000);

 private:
  using Clock = std::chrono::steady_clock;
  enum class NextSignal { kNone, kWarn, kTerm, kKill };

  // A launch: the job's own (step 0) or one of its steps (LaunchSpec::step).
  using Key = std::pair<uint64_t, uint32_t>;  // (job id, step)

  struct Job {
    Key key;
    int pgid = 0;
    int pidfd = -1;
    Clock::time_point start;
    int64_t grace_ms = 0;
    bool timed_out = false;
    bool cancelled = false;
    NextSignal next = NextSignal::kNone;  // what the timer sends at next_at
    Clock::time_point next_at;
    Clock::time_point limit_at;  // when the time limit is reached (for after a warning)
    int warn_signal = 0;
    bool warn_leader_only = false;
    std::unique_ptr<JobCgroup> box;  // null: no cgroup
  };

  void reaper_loop();
  void timer_loop();
  // Reports the job if its leader has exited. Called on the reaper thread only.
  void reap(Key key);
  // Replaces the job's pending signal. Requires mu_.
  void schedule(Job& job, NextSignal next, Clock::time_point at);
  // SIGTERM now, SIGKILL at now + grace unless one is due sooner. Requires mu_.
  void cancel_locked(Job& job, int64_t grace_ms);
  void wake_reaper();
  // The launch's cgroup, or null when jobs run without one.
  Result<std::unique_ptr<JobCgroup>> make_box(const LaunchSpec& spec);
  // Sweeps and removes a finished job's cgroup; whether the OOM killer killed in it.
  static bool close_box(JobCgroup& box);

  const ExitCallback on_exit_;
  const std::unique_ptr<Cgroups> cgroups_;
  const int wake_fd_;  // eventfd: tells the reaper the job set changed or it must stop

  std::mutex launch_mu_;  // serialises launch(), so a job id is checked and added atomically
  mutable std::mutex mu_;
  std::condition_variable timer_cv_;
  std::condition_variable idle_cv_;  // signalled after each report, for kill_all()
  bool stop_ = false;
  std::map<Key, Job> jobs_;
  std::set<std::pair<Clock::time_point, Key>> deadlines_;  // (next_at, launch)
  size_t reporting_ = 0;  // jobs removed from jobs_ whose callback has not returned yet

  std::thread reaper_;
  std::thread timer_;
};

// Crash recovery: SIGKILLs process group `pgid` if it still belongs to `job`, that is if its
// leader — or, once the leader is gone, any member of the group — has BERTH_JOB_ID=<job> in its
// /proc/<pid>/environ. A pid reused by an unrelated process is therefore never killed, nor is
// berthd's own group. A v1 freezer cgroup the group was left frozen in (its daemon died while
// sweeping it) is thawed, so that the SIGKILL takes effect. Returns whether a group was
// signalled.
bool kill_orphan_job(int pgid, JobId job);

}  // namespace berth::executor
