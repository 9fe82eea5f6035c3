#include "core/policy/preemption.h"

namespace berth::core {

// Without preemption nothing is demotable: least attained service then only orders the queue.
std::unique_ptr<PreemptionPolicy> make_preemption_policy(bool preemption,
                                                         int64_t demote_after_gpu_s,
                                                         int64_t exempt_s) {
  if (!preemption) return no_preemption();
  return spot_then_demoted(demote_after_gpu_s, exempt_s);
}

}  // namespace berth::core
