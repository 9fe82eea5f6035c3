// The blocked-job policies on their own, and the flags that choose them.
#include "core/policy/blocked_job.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::core {
namespace {

std::string chosen(bool backfill, bool conservative, bool strict) {
  return make_blocked_job_policy(backfill, conservative, strict)->name();
}

TEST(BlockedJobPolicy, FlagsChooseThePolicy) {
  EXPECT_EQ(chosen(true, false, false), "easy");
  EXPECT_EQ(chosen(true, true, false), "conservative");
  EXPECT_EQ(chosen(false, false, false), "none");
  EXPECT_EQ(chosen(false, true, false), "none");
  EXPECT_EQ(chosen(false, false, true), "strict");
  EXPECT_EQ(chosen(true, true, true), "strict");
}

TEST(BlockedJobPolicy, EasyPlansAndReservesForTheFirstBlockedJobOnly) {
  const auto p = easy_backfill();
  EXPECT_TRUE(p->plans(true));
  EXPECT_FALSE(p->plans(false));
  EXPECT_TRUE(p->reserves());
  EXPECT_FALSE(p->ends_pass());
}

TEST(BlockedJobPolicy, ConservativePlansForEveryBlockedJob) {
  const auto p = conservative_backfill();
  EXPECT_TRUE(p->plans(true));
  EXPECT_TRUE(p->plans(false));
  EXPECT_TRUE(p->reserves());
  EXPECT_FALSE(p->ends_pass());
}

TEST(BlockedJobPolicy, StrictEndsThePassAndReservesOnlyWithBackfill) {
  EXPECT_TRUE(strict_order(false)->ends_pass());
  EXPECT_TRUE(strict_order(false)->plans(true));
  EXPECT_FALSE(strict_order(false)->reserves());
  EXPECT_TRUE(make_blocked_job_policy(true, false, true)->reserves());
}

// Without backfill nothing is reserved; `conservative` still has every blocked job asked
// whether it could start at all, as it did before these were objects.
TEST(BlockedJobPolicy, NoBackfillReservesNothing) {
  EXPECT_FALSE(no_backfill(false)->reserves());
  EXPECT_FALSE(no_backfill(false)->plans(false));
  EXPECT_TRUE(no_backfill(false)->plans(true));
  EXPECT_TRUE(make_blocked_job_policy(false, true, false)->plans(false));
  EXPECT_FALSE(no_backfill(true)->ends_pass());
}

}  // namespace
}  // namespace berth::core
