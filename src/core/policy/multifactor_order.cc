#include "core/policy/queue_order.h"

namespace berth::core {

namespace {

class MultifactorOrder final : public QueueOrderPolicy {
 public:
  int64_t priority(const Job& job, const QueueInputs& in) const override {
    const int64_t p = job_priority(job, in.weights, in.fairshare, in.total_gpus, in.now_ms);
    return p - (in.demoted ? kDemotedOffset : 0);
  }
};

}  // namespace

const QueueOrderPolicy& multifactor_order() {
  static const MultifactorOrder order;
  return order;
}

}  // namespace berth::core
