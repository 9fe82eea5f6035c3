#include "core/policy/queue_order.h"

#include <algorithm>

namespace berth::core {

namespace {

// Tier first (high, normal, spot); within a tier, starving jobs first (oldest first: they all
// have the same priority, so submit time decides), then jobs not demoted before demoted ones;
// then the smallest planned GPU-time (GPUs x planned runtime).
class ShortestOrder final : public QueueOrderPolicy {
 public:
  int64_t priority(const Job& job, const QueueInputs& in) const override {
    constexpr int64_t kTierStep = int64_t{1} << 52;  // above any GPU-time: 64 GPUs x 2^44 s
    constexpr int64_t kBand = kTierStep / 4;  // within a tier: starving, not demoted, demoted
    const int64_t tier = (2 - static_cast<int64_t>(job.tier)) * kTierStep;
    if (in.starving) return tier + 3 * kBand;
    const int64_t gpu_s = std::min<int64_t>(int64_t{job.gpus} * job.planned_s(), kBand - 1);
    return tier + (in.demoted ? kBand : 2 * kBand) - gpu_s;
  }
};

}  // namespace

const QueueOrderPolicy& shortest_order() {
  static const ShortestOrder order;
  return order;
}

}  // namespace berth::core
