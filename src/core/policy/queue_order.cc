#include "core/policy/queue_order.h"

namespace berth::core {

const QueueOrderPolicy& queue_order_policy(QueueOrder order) {
  switch (order) {
    case QueueOrder::kPriority:
      return multifactor_order();
    case QueueOrder::kFifo:
      return fifo_order();
    case QueueOrder::kShortest:
      return shortest_order();
  }
  return multifactor_order();
}

}  // namespace berth::core
