// What a scheduling pass asks of whoever owns the jobs: the Engine in berthd, `berth sim` and
// `berth bench sched` (through the Engine), or a test's fake.
//
// The scheduler decides the order and the placement; the host decides everything that needs
// money, caps or the job table, and records the outcome. A pass calls it from one thread.
#pragma once

#include <cstdint>
#include <vector>

#include "common/ids.h"
#include "core/model.h"

namespace berth::core {

class SchedulerHost {
 public:
  virtual ~SchedulerHost() = default;

  // The job with this id; the scheduler only asks for jobs it was given (queued or running).
  virtual Job& job(JobId id) = 0;

  // Admission for a job that fits on `nodes` (one per node it asked for, in node order):
  // returns kNone after starting it (GPUs allocated, money held, Scheduler::running told), or
  // the reason it must wait.
  virtual PendingReason admit(Job& job, const std::vector<NodeId>& nodes) = 0;

  // Records why a job that was not started waits, and when it is expected to start (0: unknown).
  virtual void wait(Job& job, PendingReason reason, int64_t expected_start_ms) = 0;

  // Why a job that does not fit now could not start even if it did (caps, money), or kNone.
  // Such a job waits with that reason and gets no reservation, as Slurm's backfill skips jobs
  // held by limits: reserving GPUs it cannot use would only keep others off them.
  virtual PendingReason refusal(const Job&) { return PendingReason::kNone; }

  // Whether this host can stop running jobs. One that cannot is never asked to preempt, and
  // the pass reserves no nodes for preemption.
  virtual bool can_preempt() const { return false; }
  // Asks a running job to stop so a job ahead of it can have its GPUs (see preemption in
  // scheduler.h). Called only when can_preempt().
  virtual void preempt(Job&) {}
};

}  // namespace berth::core
