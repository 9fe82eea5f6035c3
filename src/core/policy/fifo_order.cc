#include "core/policy/queue_order.h"

namespace berth::core {

namespace {

// Every job the same priority: the queue's tie-break, submit time, decides.
class FifoOrder final : public QueueOrderPolicy {
 public:
  int64_t priority(const Job&, const QueueInputs& in) const override {
    return in.demoted ? -kDemotedOffset : 0;
  }
};

}  // namespace

const QueueOrderPolicy& fifo_order() {
  static const FifoOrder order;
  return order;
}

}  // namespace berth::core
