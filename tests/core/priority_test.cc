// The queue orders' names, as berthd's configuration and the scenarios write them.
#include "core/priority.h"

#include <gtest/gtest.h>

#include "common/enum_names_testing.h"

namespace berth::core {
namespace {

TEST(QueueOrderNames, NameEveryOrder) {
  enum_testing::expect_every_enumerator_named(kQueueOrderNames);
  EXPECT_STREQ(queue_order_name(QueueOrder::kShortest), "shortest");
  QueueOrder order = QueueOrder::kPriority;
  EXPECT_TRUE(parse_queue_order("fifo", &order));
  EXPECT_EQ(order, QueueOrder::kFifo);
  EXPECT_FALSE(parse_queue_order("lifo", &order));
  EXPECT_EQ(order, QueueOrder::kFifo);
  EXPECT_EQ(kQueueOrderNames.choices(), "priority, fifo or shortest");
}

}  // namespace
}  // namespace berth::core
