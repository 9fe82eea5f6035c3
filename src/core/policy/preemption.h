// Who a blocked job may stop to make room, and in what order: the preemption part of the
// scheduling policy, apart from how the scheduler finds the nodes that stopping jobs would free
// (Scheduler::preempt_for) and who stops them (SchedulerHost::preempt).
//
// A pass lists its victims once (list_victims), from the running jobs the scheduler keeps for
// it: the spot jobs, and the jobs that may be demoted (demotable) once they are. For each job
// that cannot start for want of GPUs, it asks whether that job may preempt at all
// (may_preempt) and then how many of the list, from the front, it may stop (usable). The
// scheduler stops them in list order, only where that makes room.
//
// One file per policy (no_preemption.cc, spot_then_demoted.cc); a new policy is a new file and
// a line in make_preemption_policy.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "core/model.h"

namespace berth::core {

// Running jobs by (start time, job id).
using RunningSet = std::set<std::pair<int64_t, uint64_t>>;

// The jobs a pass may stop, in the order it stops them: (order key, job id) pairs, of which
// the first `spot` are spot jobs and the first `low` the jobs of no higher than normal tier.
struct Victims {
  std::vector<std::pair<int64_t, uint64_t>> order;
  size_t spot = 0;
  size_t low = 0;
};

class PreemptionPolicy {
 public:
  virtual ~PreemptionPolicy() = default;
  virtual const char* name() const = 0;
  // Whether a running job that is not spot may become a victim (once demoted): the scheduler
  // keeps such jobs in a RunningSet for list_victims.
  virtual bool demotable(const Job& job) const = 0;
  // Whether `job`, which cannot start for want of GPUs, may look for jobs to stop;
  // `after_blocked`: a job ahead of it in this pass could not start either.
  virtual bool may_preempt(const Job& job, bool after_blocked, int64_t now_ms) const = 0;
  // This pass's victims, from the running spot jobs and the demotable ones.
  virtual void list_victims(const RunningSet& spot, const RunningSet& demotable,
                            const std::function<const Job&(JobId)>& lookup, int64_t now_ms,
                            Victims* out) const = 0;
  // How many of `victims`, from the front, `job` may stop.
  virtual size_t usable(const Job& job, const Victims& victims, int64_t now_ms) const = 0;
  // The scheduler learned least attained service's threshold (0: demote nothing) and the
  // starvation limit anew (SchedulerConfig). Which jobs are demotable does not change with
  // them, so the scheduler's running sets stay right.
  virtual void set_limits(int64_t /*demote_after_gpu_s*/, int64_t /*starve_after_s*/) {}
};

// Nothing is ever stopped.
std::unique_ptr<PreemptionPolicy> no_preemption();
// Spot jobs, youngest first, may be stopped by the first blocked job of normal or high tier;
// with least attained service (demote_after_gpu_s > 0), then demoted jobs that asked to be
// requeued, by any blocked job not demoted itself (see scheduler.h). A job is left alone in
// its first `exempt_s` seconds of a run.
std::unique_ptr<PreemptionPolicy> spot_then_demoted(int64_t demote_after_gpu_s, int64_t exempt_s);

// The policy berthd's flags name ([scheduler] preemption, demote_after_hours, preempt_exempt).
std::unique_ptr<PreemptionPolicy> make_preemption_policy(bool preemption,
                                                         int64_t demote_after_gpu_s,
                                                         int64_t exempt_s);

}  // namespace berth::core
