// Executors run what the scheduler decided.
//
// An Executor starts a job's command in its own process group, as the job's Unix user, with
// a clean environment (the spec's env, the user's HOME/USER/LOGNAME/SHELL/PATH, its GPUs in
// CUDA_VISIBLE_DEVICES and BERTH_JOB_ID; nothing of berthd's own), sends stdout and stderr to
// files, enforces the time limit (SIGTERM, a grace period, then SIGKILL) and reports each job's end
// exactly once through the callback given at construction. The callback runs on an executor thread;
// it must be cheap and thread-safe (berthd only queues an event for its core thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/status.h"

namespace berth::executor {

struct LaunchSpec {
  JobId job;
  // Where and which: the job's first node (its batch script runs there, as sbatch's does) and
  // its attempt (times requeued when it started), for an executor of many nodes (berthd's
  // RemoteExecutor); a local executor runs everything here and ignores them.
  std::string node;
  uint32_t attempt = 0;
  // A step inside the running job (`berth run` within its script; 0: the job's own launch): its
  // own process group and cgroup beside the job's, known to the executor as (job, step).
  uint32_t step = 0;
  // berthd may requeue it elsewhere when its node goes silent (--requeue, spot): its agent
  // stops it when its lease runs out, so that it never runs twice (src/agent/README.md §3).
  bool fenceable = false;
  // A gang job's ranks past 0 (rank 0 is `node` with `gpus`), for an executor of many nodes; a
  // local executor runs rank 0 only. every_node: every rank runs the script (`berth run`, as
  // srun does); otherwise rank 0 runs the batch script and the others hold their nodes.
  struct Rank {
    std::string node;
    std::vector<int> gpus;
  };
  std::vector<Rank> more_ranks;
  bool every_node = false;
  std::string script_path;        // the script to run (with a #! line or not); read by berthd
  std::vector<std::string> args;  // extra arguments to the script
  std::string workdir;            // cwd of the job; must exist and be enterable by its user
  std::string stdout_path;        // created/truncated as the job's user, mode 0600; a regular file
  std::string stderr_path;        // may equal stdout_path (then both go to one file)
  bool append_output = false;     // appended to, never truncated (every rank writes to them)
  std::vector<int> gpus;          // GPU indices on this node, for CUDA_VISIBLE_DEVICES
  // What its cgroup allows on this node, when the executor boxes jobs (cgroup.h). 0: no limit.
  int cpus = 0;
  int64_t memory_mb = 0;
  std::map<std::string, std::string> env;  // the job's environment, beyond what the executor sets
  std::string user;           // Unix user to run as (needs root); empty: the executor's own user
  bool allow_root = false;    // false: a job that would run as uid 0 is refused
  int64_t time_limit_ms = 0;  // > 0: SIGTERM to the group at the limit, SIGKILL after grace
  int64_t grace_ms = 10'000;
  // Slurm's --signal (job_signal.h): warn_signal (0: none) warn_before_ms before the time limit
  // (at once when that is already past), to the whole group, or to the leader (the batch
  // script) only when warn_leader_only.
  int warn_signal = 0;
  int64_t warn_before_ms = 0;
  bool warn_leader_only = false;
};

struct JobExit {
  JobId job;
  uint32_t step = 0;       // LaunchSpec::step
  int exit_code = 0;       // when exited normally
  int term_signal = 0;     // when killed by a signal (0 otherwise)
  bool timed_out = false;  // the executor ended it for its time limit
  bool cancelled = false;  // the executor ended it because terminate() was called
  bool oom = false;        // the OOM killer killed a process of its cgroup
  int64_t runtime_ms = 0;  // measured by the executor's monotonic clock
  std::string reason;      // why it ended, when the executor knows (e.g. it could not start)
};

using ExitCallback = std::function<void(const JobExit&)>;

class Executor {
 public:
  virtual ~Executor() = default;
  // Starts the job; may block on the file system (run it off any thread that serves requests).
  // Returns the process group id (== pid of the leader); an error's message is the reason the
  // job could not start, fit to show its user.
  virtual Result<int> launch(const LaunchSpec& spec) = 0;
  // Asks a running job to stop: SIGTERM to its group, SIGKILL after grace_ms.
  // Its end is still reported through the callback, with cancelled = true.
  virtual Status terminate(JobId job, int64_t grace_ms) = 0;
  // The same for a step of the job (LaunchSpec::step; step 0 is terminate()). An executor
  // that runs no steps has none running.
  virtual Status terminate_step(JobId job, uint32_t step, int64_t grace_ms) {
    if (step == 0) return terminate(job, grace_ms);
    return Status::NotFound("job " + std::to_string(job.value) + " has no step " +
                            std::to_string(step) + " running");
  }
  // Jobs launched and not yet reported.
  virtual size_t running() const = 0;
};

}  // namespace berth::executor
