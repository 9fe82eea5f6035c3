// The leader's lease on PostgreSQL (store/pg_lease.h) and the store's fence (PgStore::fence):
// two candidates on one database, times by the database's clock. A lease of 0 ms has run out
// as soon as it is taken, which stands for a leader that stalled past its lease.
#include "store/pg_lease.h"

#include <gtest/gtest.h>

#include "pg_test_database.h"
#include "store/pg_store.h"

namespace berth::store {
namespace {

constexpr int64_t kLongMs = 600'000;

const Candidate kA{"id-a", "ctl1", "http://ctl1:8765", "ctl1:8766"};
const Candidate kB{"id-b", "ctl2", "http://ctl2:8765", ""};

class PgLeaseTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto store = PgStore::Open(url_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto a = PgLease::Open(url_);
    auto b = PgLease::Open(url_);
    ASSERT_TRUE(a.ok() && b.ok());
    a_ = std::move(*a);
    b_ = std::move(*b);
  }

  std::unique_ptr<PgStore> store_;
  std::unique_ptr<PgLease> a_, b_;
};

TEST_F(PgLeaseTest, NobodyLeadsAtFirst) {
  auto now = a_->current();
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(now->epoch, 0u);
  EXPECT_FALSE(now->live());
}

TEST_F(PgLeaseTest, TheFirstCandidateTakesItAndTheSecondSeesWhoLeads) {
  auto got = a_->try_acquire(kA, kLongMs);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  // An epoch is never below the database clock's milliseconds, so that agents that remember
  // the epoch of a berthd that ran on SQLite (its start time) take it.
  EXPECT_GE(static_cast<int64_t>(got->epoch), got->since_ms);
  EXPECT_EQ(got->holder.id, kA.id);
  EXPECT_EQ(got->expires_ms - got->since_ms, kLongMs);
  EXPECT_TRUE(got->live());

  auto other = b_->try_acquire(kB, kLongMs);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->epoch, got->epoch);
  EXPECT_EQ(other->holder.id, kA.id);  // b does not lead
  EXPECT_EQ(other->holder.name, "ctl1");
  EXPECT_EQ(other->holder.http_address, "http://ctl1:8765");
  EXPECT_EQ(other->holder.agents_address, "ctl1:8766");
}

TEST_F(PgLeaseTest, RenewingExtendsItByTheDatabaseClock) {
  auto got = a_->try_acquire(kA, 0);
  ASSERT_TRUE(got.ok());
  auto renewed = a_->renew(got->epoch, kLongMs);  // ran out, but nobody took over
  ASSERT_TRUE(renewed.ok());
  EXPECT_TRUE(*renewed);
  auto now = b_->current();
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(now->live());
  EXPECT_GE(now->expires_ms, now->now_ms + kLongMs - 60'000);
  auto b = b_->try_acquire(kB, kLongMs);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->holder.id, kA.id);
}

TEST_F(PgLeaseTest, ALeaseThatRanOutIsTakenOverWithTheNextEpoch) {
  auto a = a_->try_acquire(kA, 0);  // runs out at once: a stalled
  ASSERT_TRUE(a.ok());
  auto b = b_->try_acquire(kB, kLongMs);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->holder.id, kB.id);
  EXPECT_GT(b->epoch, a->epoch);
  auto renewed = a_->renew(a->epoch, kLongMs);  // a wakes up
  ASSERT_TRUE(renewed.ok());
  EXPECT_FALSE(*renewed);
}

TEST_F(PgLeaseTest, AReleasedLeaseIsTakenAtOnce) {
  auto a = a_->try_acquire(kA, kLongMs);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b_->release(a->epoch).ok());  // another epoch's release changes nothing
  ASSERT_TRUE(a_->release(a->epoch).ok());
  auto b = b_->try_acquire(kB, kLongMs);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->holder.id, kB.id);
  EXPECT_GT(b->epoch, a->epoch);
  ASSERT_TRUE(a_->release(a->epoch).ok());  // a's old epoch: nothing
  auto now = a_->current();
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(now->live());
  EXPECT_EQ(now->holder.id, kB.id);
}

TEST_F(PgLeaseTest, TheLeadersCommitsGoThroughItsFence) {
  auto a = a_->try_acquire(kA, kLongMs);
  ASSERT_TRUE(a.ok());
  store_->fence(a->epoch);
  core::ChangeSet changes;
  changes.next_job_id = 5;
  ASSERT_TRUE(store_->commit(changes, 1'000).ok());
  EXPECT_FALSE(store_->fenced());
}

TEST_F(PgLeaseTest, AFencedCommitWritesNothingAndNamesTheEpochThatLeads) {
  auto a = a_->try_acquire(kA, 0);
  ASSERT_TRUE(a.ok());
  store_->fence(a->epoch);
  core::ChangeSet first;
  first.next_job_id = 5;
  ASSERT_TRUE(store_->commit(first, 1'000).ok());
  auto b = b_->try_acquire(kB, kLongMs);  // b takes over while a stalls
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->holder.id, kB.id);

  core::ChangeSet late;
  late.next_job_id = 9;
  const Status st = store_->commit(late, 2'000);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(st.message().rfind("fenced: epoch " + std::to_string(b->epoch) + " leads now", 0), 0u)
      << st.ToString();
  EXPECT_TRUE(store_->fenced());
  int64_t alive_ms = 0;
  auto rows = store_->load(&alive_ms);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->next_job_id, 5u);  // as the last commit a made as leader
  EXPECT_EQ(alive_ms, 1'000);
  EXPECT_FALSE(store_->put_tokens({TokenRow{"h", "u", "admin", 0, 1}}).ok());
  EXPECT_TRUE(store_->tokens()->empty());
}

}  // namespace
}  // namespace berth::store
