#include "core/policy/blocked_job.h"

namespace berth::core {

// Strict order ends the pass at its first blocked job, so whether later ones would be planned
// for (conservative) never arises; backfill only decides whether that job gets a reservation.
std::unique_ptr<BlockedJobPolicy> make_blocked_job_policy(bool backfill, bool conservative,
                                                          bool strict) {
  if (strict) return strict_order(backfill);
  if (!backfill) return no_backfill(conservative);
  return conservative ? conservative_backfill() : easy_backfill();
}

}  // namespace berth::core
