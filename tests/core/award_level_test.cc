// An award's GPU level caps only the GPUs it pays for (pricing.cc): the running jobs that hold a
// share of it. A job the wallet pays in full is not held back by it; one that would take the
// award's GPUs over the level runs paid by the wallet under shortfall = "wallet" and waits for
// AwardCap under "wait"; a job larger than the level is accepted and paid by the wallet.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/engine_fixture.h"

namespace berth::core {
namespace {

class AwardLevelTest : public EngineTest {
 protected:
  // An award of plenty under a scheme that waits when the award cannot pay.
  AwardId grant_waiting(int gpu_level) {
    auto s = engine->create_scheme("strict", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                   Shortfall::kWait, 1'000'000'0000, kT0);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    auto a = engine->create_award(s->id, project, 1'000'0000, gpu_level, kT0 - kHour,
                                  kT0 + 1000 * kHour, kT0);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? a->id : AwardId();
  }
  void end(JobId id, int64_t at_ms) {
    ASSERT_TRUE(engine->job_ended(id, JobEnd{}, at_ms, at_ms).ok());
  }
  void expect_paid_by_wallet(JobId id) {
    EXPECT_EQ(job(id).state, JobState::kRunning);
    EXPECT_FALSE(job(id).award.valid());
    EXPECT_EQ(job(id).subsidy_held_minor, 0);
    EXPECT_EQ(job(id).copay_held_minor, job(id).max_cost_minor);
  }
};

TEST_F(AwardLevelTest, AJobOverTheLevelRunsPaidByTheWalletUnderShortfallWallet) {
  const AwardId a = grant(1'000'0000, 4);
  top_up(1'000'0000);
  const JobId first = submit(3);
  const JobId second = submit(2);  // 3 + 2 > 4: the award cannot pay for it
  engine->schedule(kT0);
  EXPECT_EQ(job(first).award, a);
  expect_paid_by_wallet(second);
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(AwardLevelTest, JobsTheWalletPaysDoNotCountAgainstTheLevel) {
  const AwardId a = grant(1'000'0000, 4);
  top_up(1'000'0000);
  const JobId first = submit(3);
  const JobId second = submit(2);  // paid by the wallet
  const JobId third = submit(1);   // the award pays 3 + 1 = 4 GPUs: at the level, not over
  engine->schedule(kT0);
  EXPECT_EQ(job(first).award, a);
  expect_paid_by_wallet(second);
  EXPECT_EQ(job(third).state, JobState::kRunning);
  EXPECT_EQ(job(third).award, a);
  EXPECT_EQ(engine->project_gpus_in_use(project), 6);  // more than the level, all running
}

TEST_F(AwardLevelTest, AJobOverTheLevelWaitsForAwardCapUnderShortfallWait) {
  const AwardId a = grant_waiting(4);
  top_up(1'000'0000);
  const JobId first = submit(3);
  const JobId second = submit(2);
  engine->schedule(kT0);
  EXPECT_EQ(job(first).award, a);
  EXPECT_EQ(job(second).state, JobState::kPending);
  EXPECT_EQ(job(second).reason, PendingReason::kAwardCap);
  end(first, kT0 + 1000);
  engine->schedule(kT0 + 1000);
  EXPECT_EQ(job(second).state, JobState::kRunning);
  EXPECT_EQ(job(second).award, a);  // the award's GPUs were freed, and it pays again
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(AwardLevelTest, AJobLargerThanTheLevelIsAcceptedAndPaidByTheWallet) {
  for (bool waits : {false, true}) {
    SCOPED_TRACE(waits ? "shortfall wait" : "shortfall wallet");
    SetUp();
    if (waits)
      grant_waiting(4);
    else
      grant(1'000'0000, 4);
    top_up(1'000'0000);
    const JobId big = submit(6);  // more than the level: never the award's to pay
    engine->schedule(kT0);
    expect_paid_by_wallet(big);
  }
}

TEST_F(AwardLevelTest, AJobLargerThanTheLevelWaitsForTheWalletNamingIt) {
  grant_waiting(4);
  const JobId big = submit(6);  // no money in the wallet
  engine->schedule(kT0);
  EXPECT_EQ(job(big).state, JobState::kPending);
  EXPECT_EQ(job(big).reason, PendingReason::kInsufficientFunds);
  EXPECT_EQ(engine->jobs().size(), 1u);  // accepted, not refused
}

// An award that covers no share (0.0001 left), or one that has ended, pays for no job, so its
// level holds none back: two jobs of 4 GPUs each run side by side on the wallet, over level 2.
TEST_F(AwardLevelTest, AnAwardThatCannotPayOrHasEndedCapsNothing) {
  for (bool ended : {false, true}) {
    SCOPED_TRACE(ended ? "ended" : "cannot pay");
    SetUp();
    auto a = ended ? engine->create_award(scheme, project, 1'000'0000, 2, kT0 - 2 * kHour,
                                          kT0 - kHour, kT0)
                   : engine->create_award(scheme, project, 1, 2, kT0 - kHour, kT0 + kHour, kT0);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    top_up(1'000'0000);
    const JobId first = submit(4);
    const JobId second = submit(4);
    engine->schedule(kT0);
    expect_paid_by_wallet(first);
    expect_paid_by_wallet(second);
  }
}

}  // namespace
}  // namespace berth::core
