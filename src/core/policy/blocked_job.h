// What a pass does with a job that cannot start for want of GPUs: the queue policy part of
// backfill, apart from where jobs fit (Cluster) and how reservations are found (Scheduler).
//
// A pass walks the queue in order. The first job that cannot start is "the first blocked job";
// every later one that cannot start is also blocked. For each, the pass asks its policy:
//   plans(first)  whether it is planned for: asked whether it could start at all (the host's
//                 refusal: caps, money; a refused job waits with that reason) and, where the
//                 policy reserves, given a reservation and an expected start;
//   reserves()    whether a planned job gets a reservation (nodes held for it from the time
//                 running jobs are planned to free them), which later jobs may not delay;
//   ends_pass()   whether the pass stops at the first blocked job (nothing passes it).
// A job not planned for waits for Priority with no expected start.
//
// One file per policy (strict_order.cc, easy_backfill.cc, ...); a new policy is a new file and
// a line in make_blocked_job_policy.
#pragma once

#include <memory>

namespace berth::core {

class BlockedJobPolicy {
 public:
  virtual ~BlockedJobPolicy() = default;
  virtual bool plans(bool first) const = 0;
  virtual bool reserves() const = 0;
  virtual bool ends_pass() const = 0;
  virtual const char* name() const = 0;
};

// Strict order (FIFO as batch systems mean it): the pass ends at the first blocked job. With
// `reserve`, that job still gets a reservation, which only gives it an expected start.
std::unique_ptr<BlockedJobPolicy> strict_order(bool reserve);
// EASY backfill: the first blocked job gets a reservation; later jobs start where they fit
// and cannot delay it.
std::unique_ptr<BlockedJobPolicy> easy_backfill();
// Conservative backfill: every blocked job gets a reservation (on nodes not already reserved
// for a job ahead), so a job starts early only if it delays no job ahead of it.
std::unique_ptr<BlockedJobPolicy> conservative_backfill();
// No backfill: no reservations; every job starts where it fits, in queue order. With
// `ask_every`, every blocked job is asked its refusal, not only the first (the configuration
// `conservative = true` with `backfill = false`).
std::unique_ptr<BlockedJobPolicy> no_backfill(bool ask_every);

// The policy berthd's flags name ([scheduler] backfill, conservative; the simulator's strict).
std::unique_ptr<BlockedJobPolicy> make_blocked_job_policy(bool backfill, bool conservative,
                                                          bool strict);

}  // namespace berth::core
