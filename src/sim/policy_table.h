// `berth sim`'s policies as the scheduler's objects: each names a queue order
// (core/policy/queue_order.h), what a pass does with a blocked job (core/policy/blocked_job.h)
// and whether least attained service (demotion, and preemption of demoted jobs) is on. One
// table, in policy_table.cc; a new policy is a row there.
#pragma once

#include "core/priority.h"
#include "sim/replay.h"

namespace berth::sim {

// One sentence saying what the policy does, for people (--help, the report; docs/sim.md's
// Policies section says the same).
const char* policy_description(Policy policy);

// The scheduler's settings for `config.policy` under `config.estimates`.
core::SchedulerConfig scheduling_for(const ReplayConfig& config);

}  // namespace berth::sim
