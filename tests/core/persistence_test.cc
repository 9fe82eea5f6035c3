// The Engine's persistence (persistence.cc): a restore from a snapshot gives the same state.
#include <gtest/gtest.h>

#include <limits>

#include "core/engine.h"
#include "core/engine_fixture.h"

namespace berth::core {
namespace {

// A requeued job whose first run was subsidised and whose second was not (its award ended in
// between): the job's row keeps only the last run's rate (none), so its subsidy over both runs
// is above that rate's share of its cost. The books are right, and a restart must accept them.
TEST_F(EngineTest, ARequeuedJobPaidByAnAwardOnlyInItsFirstRunStillRestores) {
  top_up(100'0000);
  ASSERT_TRUE(
      engine->create_award(scheme, project, 100'0000, 8, kT0 - kHour, kT0 + 2 * kHour, kT0).ok());
  const JobId id = submit_requeueable();
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);
  JobEnd lost;
  lost.lost = true;
  ASSERT_TRUE(engine->job_ended(id, lost, kT0 + kHour, kT0 + kHour).ok());  // 30: 21 of subsidy
  engine->expire(kT0 + 3 * kHour);                                          // the award has ended
  ASSERT_EQ(engine->schedule(kT0 + 3 * kHour).size(), 1u);
  ASSERT_TRUE(engine->job_ended(id, JobEnd{}, kT0 + 4 * kHour, kT0 + 4 * kHour)
                  .ok());  // 30, all from the wallet
  ASSERT_EQ(job(id).rate_bps, 0);
  ASSERT_EQ(job(id).subsidy_minor, 21'0000);
  ASSERT_EQ(job(id).cost_minor, 60'0000);
  EXPECT_TRUE(engine->verify().ok()) << engine->verify().ToString();
  auto restored = Engine::Restore(two_nodes(), engine->snapshot());
  EXPECT_TRUE(restored.ok()) << restored.status().ToString();
}

TEST_F(EngineTest, RestoreFromASnapshotGivesTheSameState) {
  grant(100'0000, 8);
  top_up(100'0000);
  const JobId a = submit(2);
  submit(1);
  engine->schedule(kT0);
  ASSERT_TRUE(engine->job_ended(a, JobEnd{}, kT0 + 5000, kT0 + 5000).ok());
  const JobId c = submit(8);
  engine->schedule(kT0 + 5000);
  const ChangeSet rows = engine->snapshot();
  auto restored = Engine::Restore(two_nodes(), rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const Engine& r = **restored;
  EXPECT_EQ(r.jobs().size(), engine->jobs().size());
  EXPECT_EQ(r.cluster().used_gpus(), engine->cluster().used_gpus());
  EXPECT_EQ(r.job(c)->state, engine->job(c)->state);
  EXPECT_EQ(r.ledger().transfer_count(), engine->ledger().transfer_count());
  for (const Account* acct : engine->ledger().accounts()) {
    const Account* b = r.ledger().account(acct->id);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->debits_posted, acct->debits_posted);
    EXPECT_EQ(b->debits_pending, acct->debits_pending);
    EXPECT_EQ(b->credits_posted, acct->credits_posted);
  }
}

TEST_F(GangTest, RestoreReallocatesEveryNodeOfARunningGang) {
  const JobId gang = *submit(16, 2);
  engine->schedule(kT0);
  auto restored = Engine::Restore(three_h100(), engine->snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->cluster().used_gpus(), 16);
  EXPECT_EQ((*restored)->job(gang)->more_nodes, engine->job(gang)->more_nodes);
}

}  // namespace
}  // namespace berth::core
