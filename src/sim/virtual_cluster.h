// VirtualCluster: a core::Engine driven by a virtual clock, with simulated job processes.
//
// It plays the part berthd's executor plays, without processes or a wall clock: a job may be
// given a true runtime (how long its simulated process would run); when the scheduler starts
// the job, its end is booked at start + min(runtime, time limit). A job without a runtime, or
// one whose runtime is over its limit, is stopped at its limit and ends TIMEOUT; one whose
// runtime is within its limit ends with its exit code (0 -> COMPLETED, else FAILED).
//
// A job the scheduler preempts (Engine::take_preemptions: a spot job, or a demoted one under
// least attained service) is sent TERM: its process stops preempt_grace_ms later (or at its
// own end, if sooner) and the engine requeues it. A requeued process runs again from the
// start, unless it checkpoints (SimProcess::checkpoints, as training jobs do): then it resumes
// with the work it has left, after restart_overhead_ms of loading its checkpoint, and a job
// whose node is lost keeps the work done until then, too.
//
// Time only moves through advance_to / advance_by. Commands (submit, submit_array, hold,
// release, cancel, set_node_state, or anything done on engine() directly) happen at now_ms()
// and form one batch, like one berthd batch: the scheduling pass for them runs at the next
// flush(), which advance_to calls first. While advancing, events are processed in time order
// and the scheduler runs:
//   - after each batch of simultaneous job ends (in job id order), at their exact time;
//   - at each award's start and end, and when a progress report falls overdue (subsidy appears
//     or goes: what can start changes), when a job waits for money (core::waits_for_money).
// It runs at no other time: not at the target of an advance unless commands are waiting, nor
// for stale events, nor at an award boundary that no waiting job cares about (so that money
// with no job short of it leaves every decision as it is without money). Priorities drift
// with time (age, decayed fair share), so a pass at an arbitrary moment could decide
// differently; running passes only when something happened makes a run give the same results
// however far one advances at a time.
//
// A job's end events carry the attempt they were booked for; a job that is cancelled, lost
// to a node going down or restarted after a requeue moves to a new attempt, and its stale
// events are skipped when they come due (as are events of a job no longer RUNNING).
//
// Deterministic: no clock, no randomness; ties are broken by job id. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <vector>

#include "common/status.h"
#include "core/engine.h"

namespace berth::sim {

struct SimOptions {
  core::SchedulerConfig scheduling;
  int64_t preempt_grace_ms = 0;     // from TERM to the end of a preempted job's process
  int64_t restart_overhead_ms = 0;  // a checkpointing process's restart, before it carries on
};

// How a simulated job's process behaves once started.
struct SimProcess {
  std::optional<int64_t> runtime_ms;  // absent: runs until its time limit
  int exit_code = 0;                  // when it ends on its own within its limit
  bool checkpoints = false;  // requeued, it resumes where it stopped (after the restart overhead)
  bool oom = false;          // the OOM killer ends it (SIGKILL) at its runtime: OUT_OF_MEMORY
};

class VirtualCluster {
 public:
  // A fresh engine for `config`, its clock at start_ms.
  static Result<std::unique_ptr<VirtualCluster>> Create(core::ClusterConfig config,
                                                        int64_t start_ms, SimOptions options = {});

  VirtualCluster(const VirtualCluster&) = delete;
  VirtualCluster& operator=(const VirtualCluster&) = delete;

  int64_t now_ms() const { return now_ms_; }
  // The engine, for administration (orgs, projects, awards, top-ups) and queries. Commands
  // given to it directly happen at now_ms(); call mark_dirty() (or use the wrappers below) so
  // the next flush schedules for them.
  core::Engine& engine() { return *engine_; }
  const core::Engine& engine() const { return *engine_; }
  void mark_dirty() { dirty_ = true; }

  // Submits a job at now_ms(); its process behaves as `process` once started.
  Result<JobId> submit(const core::JobRequest& request, const SimProcess& process = {});
  // Submits a job array at now_ms() (Engine::submit_array: all tasks or none, at most
  // `throttle` running at once, 0 = no cap). `processes` has one entry per index, task i
  // behaving as processes[i], or a single entry all tasks share. Returns the tasks' ids in
  // index order.
  Result<std::vector<JobId>> submit_array(const core::JobRequest& request,
                                          const std::vector<int>& indices, int throttle,
                                          const std::vector<SimProcess>& processes);
  // Holds a pending job at now_ms() (it is not scheduled until released), or releases it.
  // Holding a job that is not pending, or releasing one that is not held, is a Conflict.
  Status hold(JobId job);
  Status release(JobId job);
  // Cancels a job at now_ms(): a pending one is CANCELLED; a running one ends now, CANCELLED,
  // charged for the time it ran. Returns whether it was running.
  Result<bool> cancel(JobId job);
  // Changes a node's state at now_ms(); going down ends its running jobs as lost (NODE_FAIL,
  // or requeued when they asked). Returns the jobs that ended.
  Result<std::vector<JobId>> set_node_state(NodeId node, core::NodeState state);

  // Carries out what is due at now_ms(): the scheduling pass if commands arrived since the
  // last one, and the events (such as preempted jobs stopping at once) it leads to.
  void flush();
  // Moves the clock to t_ms (>= now_ms()), processing every event up to and including t_ms.
  Status advance_to(int64_t t_ms);
  Status advance_by(int64_t duration_ms);

  // The earliest time something is booked to happen (a job end or an award boundary), or
  // nullopt when nothing is; a replayer may advance there.
  std::optional<int64_t> next_event_ms();
  // Jobs ended by their booked events so far (stale events not counted), and jobs preempted.
  uint64_t job_ends() const { return job_ends_; }
  uint64_t preemptions() const { return preemptions_; }
  // When a job first started (a requeued job's start_ms is its last attempt's), or 0.
  int64_t first_start_ms(JobId id) const {
    return known(id) ? jobs_[id.value - 1].first_start_ms : 0;
  }
  // The (start, end) of each attempt of a job that was stopped early (preempted, or its node
  // lost) and requeued, first first; its last attempt is the job's own start_ms and end_ms.
  const std::vector<std::pair<int64_t, int64_t>>& stopped_runs_ms(JobId id) const {
    static const std::vector<std::pair<int64_t, int64_t>> kNone;
    return known(id) ? jobs_[id.value - 1].stopped_runs_ms : kNone;
  }

 private:
  struct EndEvent {
    int64_t at_ms;
    uint64_t job;
    uint32_t attempt;
    bool preempted;  // the end of a TERM's grace period, not of the process's own run
    // Ordered for a min-heap: earliest first, then by job id (then a fixed order of the rest).
    bool operator>(const EndEvent& o) const {
      if (at_ms != o.at_ms) return at_ms > o.at_ms;
      if (job != o.job) return job > o.job;
      if (attempt != o.attempt) return attempt > o.attempt;
      return preempted > o.preempted;
    }
  };
  struct SimJob {
    SimProcess process;
    uint32_t attempt = 0;
    int64_t first_start_ms = 0;
    int64_t done_ms = 0;      // work done in earlier attempts, for a process that checkpoints
    int64_t overhead_ms = 0;  // this attempt's restart overhead
    bool times_out = false;   // this attempt reaches the time limit first
    std::vector<std::pair<int64_t, int64_t>> stopped_runs_ms;
  };
  bool known(JobId id) const { return id.valid() && id.value <= jobs_.size(); }

  VirtualCluster(std::unique_ptr<core::Engine> engine, int64_t start_ms, SimOptions options);
  SimJob& sim_job(JobId id);
  // Moves a job to a new attempt, so its booked end (if any) is ignored.
  void invalidate(JobId id) { sim_job(id).attempt += 1; }
  // Before a running job stops early (preempted, or its node lost) at at_ms: records the
  // attempt, and a process that checkpoints keeps the work done so far.
  void stopping(const core::Job& job, int64_t at_ms);
  void pass();
  // Processes everything due up to and including t_ms (>= now_ms_); the clock ends at the
  // last event processed.
  void run_until(int64_t t_ms);
  void book_end(JobId id);
  // Ends the job of a due event; false when the event was stale.
  bool end_job(const EndEvent& event);
  // The first award start or end strictly after now_ms_, or INT64_MAX.
  int64_t next_award_boundary_ms();  // an award starting or ending, or a report falling overdue
  bool money_waiting() const;        // whether a pending job waits for money

  std::unique_ptr<core::Engine> engine_;
  int64_t now_ms_;
  int64_t preempt_grace_ms_;
  int64_t restart_overhead_ms_;
  bool dirty_ = true;
  std::vector<SimJob> jobs_;  // index = job id - 1
  std::priority_queue<EndEvent, std::vector<EndEvent>, std::greater<EndEvent>> ends_;
  std::vector<int64_t> award_boundaries_ms_;  // sorted, unique
  size_t awards_seen_ = 0;
  uint64_t job_ends_ = 0;
  uint64_t preemptions_ = 0;
};

}  // namespace berth::sim
