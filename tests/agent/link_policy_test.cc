#include "agent/link_policy.h"

#include <gtest/gtest.h>

#include <set>

namespace berth::agent {
namespace {

TEST(BackoffTest, DoublesFromTheFirstWaitUpToTheMostWithinTheJitter) {
  Backoff b(100, 5'000, 42);
  int64_t base = 100;
  for (int i = 0; i < 12; ++i) {
    const int64_t wait = b.next_ms();
    EXPECT_GE(wait, base - base / 5) << "wait " << i;
    EXPECT_LE(wait, base + base / 5) << "wait " << i;
    base = std::min<int64_t>(5'000, base * 2);
  }
}

TEST(BackoffTest, ResetStartsAgainFromTheFirstWait) {
  Backoff b(100, 5'000, 7);
  for (int i = 0; i < 8; ++i) b.next_ms();
  EXPECT_GE(b.next_ms(), 4'000);
  b.reset();
  const int64_t wait = b.next_ms();
  EXPECT_GE(wait, 80);
  EXPECT_LE(wait, 120);
}

TEST(BackoffTest, AgentsWithOtherSeedsSpreadTheirWaits) {
  std::set<int64_t> waits;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Backoff b(1'000, 5'000, seed);
    waits.insert(b.next_ms());
  }
  EXPECT_GT(waits.size(), 10u);
}

TEST(HeartbeatsTest, SilentOnlyAfterMoreThanTheUnansweredLimit) {
  Heartbeats h;
  for (uint64_t i = 0; i < Heartbeats::kMaxUnanswered; ++i) h.next();
  EXPECT_FALSE(h.silent());
  h.next();
  EXPECT_TRUE(h.silent());
  h.acked(2);
  EXPECT_FALSE(h.silent());
  EXPECT_EQ(h.acked_seq(), 2u);
}

TEST(HeartbeatsTest, AnOldOrUnsentAckChangesNothing) {
  Heartbeats h;
  h.next();
  h.next();
  h.acked(2);
  h.acked(1);
  EXPECT_EQ(h.acked_seq(), 2u);
  h.acked(9);  // never sent
  EXPECT_EQ(h.acked_seq(), 2u);
  EXPECT_EQ(h.next(), 3u);
}

TEST(LeaseTest, RunsOutFenceMsAfterTheLastAcknowledgedHeartbeatWasSentAndFencesOnce) {
  Lease lease;
  lease.set_fence_ms(40'000);
  EXPECT_FALSE(lease.take_lapse(1'000'000)) << "never held: nothing to fence";
  lease.renewed(100'000);
  lease.renewed(90'000);  // an older heartbeat's ack does not shorten it
  EXPECT_FALSE(lease.take_lapse(140'000));
  EXPECT_TRUE(lease.take_lapse(140'001));
  EXPECT_FALSE(lease.take_lapse(150'000)) << "once per lapse";
  lease.renewed(150'000);
  EXPECT_TRUE(lease.take_lapse(190'001));
}

TEST(LeaseTest, WithoutAFenceTimeThereIsNoLease) {
  Lease lease;
  lease.renewed(100);
  EXPECT_FALSE(lease.take_lapse(1'000'000'000));
}

}  // namespace
}  // namespace berth::agent
