#include "sim/policy_table.h"

#include <iterator>

namespace berth::sim {

namespace {

// The blocked-job policies the table uses, as the scheduler's flags choose them
// (core::make_blocked_job_policy).
enum class Blocked { kStrict, kEasy };

struct PolicyRow {
  Policy policy;
  const char* description;  // for people: --help, the report (docs/sim.md says the same)
  core::QueueOrder order;
  Blocked blocked;
  bool least_attained;  // demotion after demote_after_gpu_s, and preemption of demoted jobs
};

// Traces have no tiers, so only least attained service preempts (demoted jobs).
constexpr PolicyRow kPolicyTable[] = {
    {Policy::kFifo,
     "submit order, strict: the first job that cannot start blocks all behind it; no backfill",
     core::QueueOrder::kFifo, Blocked::kStrict, false},
    {Policy::kEasy,
     "submit order with EASY backfill: the first blocked job gets a reservation, and later "
     "jobs start early only if they do not delay it",
     core::QueueOrder::kFifo, Blocked::kEasy, false},
    {Policy::kMultifactor, "Slurm-like priority (age and decayed fair share) with EASY backfill",
     core::QueueOrder::kPriority, Blocked::kEasy, false},
    {Policy::kSjf,
     "smallest GPU-time (GPUs x true runtime) first with EASY backfill, planned with the true "
     "runtimes: a reference that knows the future",
     core::QueueOrder::kShortest, Blocked::kEasy, false},
    {Policy::kDefault,
     "berth's best without an oracle: least attained service with preemption where the "
     "finished jobs show it pays, then smallest planned GPU-time first (submit order where "
     "jobs are alike), with EASY backfill",
     core::QueueOrder::kShortest, Blocked::kEasy, true},
};

const PolicyRow& row_for(Policy policy) {
  for (const PolicyRow& row : kPolicyTable)
    if (row.policy == policy) return row;
  return std::end(kPolicyTable)[-1];
}

}  // namespace

const char* policy_description(Policy policy) { return row_for(policy).description; }

core::SchedulerConfig scheduling_for(const ReplayConfig& config) {
  const PolicyRow& row = row_for(config.policy);
  core::SchedulerConfig s;
  s.predict_runtimes = config.estimates == Estimates::kPredict;
  s.predict_with_limit = config.estimates == Estimates::kPredict;
  s.order = row.order;
  s.strict = row.blocked == Blocked::kStrict;
  s.backfill = row.blocked != Blocked::kStrict;
  s.conservative = false;
  s.preemption = false;
  if (row.least_attained) {
    s.demote_after_gpu_s = config.demote_after_gpu_s;
    s.preemption = config.demote_after_gpu_s > 0;
    s.preempt_exempt_s = config.preempt_exempt_s;
    s.adapt_demotion = config.adapt_demotion && config.demote_after_gpu_s > 0;
    s.starve_after_s = config.starve_after_s;
  }
  return s;
}

}  // namespace berth::sim
