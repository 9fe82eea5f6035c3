// GangBook: when a job sent to several agents ends, and which ends berthd acknowledges.
#include "server/agents/gang_book.h"

#include <gtest/gtest.h>

namespace berth::server {
namespace {

namespace pb = ::berth::agent::v1;

pb::JobEnded end_of(uint32_t rank, int exit_code, int64_t runtime_ms = 1000) {
  pb::JobEnded e;
  e.mutable_id()->set_job(7);
  e.mutable_id()->set_rank(rank);
  e.set_exit_code(exit_code);
  e.set_runtime_ms(runtime_ms);
  return e;
}

TEST(GangBookTest, ABatchJobEndsWithRankZeroWhileAnotherRankHoldsItsEnd) {
  GangBook book;
  book.sent(7, 0, {"n1", "n2"}, /*every_node=*/false);
  GangBook::Verdict v = book.on_end(7, end_of(1, 0));
  EXPECT_FALSE(v.end_job);
  EXPECT_TRUE(v.hold);
  v = book.on_end(7, end_of(0, 3));
  ASSERT_TRUE(v.end_job);
  EXPECT_EQ(v.end_job->exit_code(), 3);
  EXPECT_FALSE(v.hold);
}

TEST(GangBookTest, RankZeroEndingLeavesTheOtherRanksToBeStopped) {
  GangBook book;
  book.sent(7, 0, {"n1", "n2", "n3"}, false);
  ASSERT_TRUE(book.on_end(7, end_of(0, 0)).end_job);
  const auto live = book.live_ranks(7);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0], (std::pair<std::string, uint32_t>{"n2", 1}));
  EXPECT_EQ(live[1], (std::pair<std::string, uint32_t>{"n3", 2}));
}

TEST(GangBookTest, AJobOnEveryNodeEndsOnceEveryRankEndedWithTheWorstEndAndLongestRuntime) {
  GangBook book;
  book.sent(7, 0, {"n1", "n2", "n3"}, /*every_node=*/true);
  EXPECT_TRUE(book.on_end(7, end_of(0, 0, 500)).hold);
  EXPECT_TRUE(book.on_end(7, end_of(2, 5, 900)).hold);
  EXPECT_TRUE(book.on_end(7, end_of(2, 5, 900)).hold) << "a repeated end changes nothing";
  const GangBook::Verdict v = book.on_end(7, end_of(1, 0, 2000));
  ASSERT_TRUE(v.end_job);
  EXPECT_EQ(v.end_job->exit_code(), 5);
  EXPECT_EQ(v.end_job->id().rank(), 2u);
  EXPECT_EQ(v.end_job->runtime_ms(), 2000);
}

TEST(GangBookTest, ARankThatCouldNotStartEndsTheWholeJobAtOnce) {
  GangBook book;
  book.sent(7, 0, {"n1", "n2"}, true);
  pb::JobEnded failed = end_of(1, 127, 0);
  failed.set_launch_failed(true);
  const GangBook::Verdict v = book.on_end(7, failed);
  ASSERT_TRUE(v.end_job);
  EXPECT_TRUE(v.end_job->launch_failed());
  EXPECT_EQ(book.live_ranks(7).size(), 1u) << "rank 0 is still to be stopped";
}

TEST(GangBookTest, ALostRankEndsTheJob) {
  GangBook book;
  book.sent(7, 0, {"n1", "n2"}, false);
  pb::JobEnded lost = end_of(1, 0);
  lost.set_lost(true);
  EXPECT_TRUE(book.on_end(7, lost).end_job);
}

TEST(GangBookTest, SendingAgainKeepsTheEndsOfTheSameAttemptOnly) {
  GangBook book;
  book.sent(7, 0, {"n1", "n2"}, true);
  (void)book.on_end(7, end_of(1, 0));
  book.sent(7, 0, {"n1", "n2"}, true);  // relaunched after a registration
  EXPECT_TRUE(book.on_end(7, end_of(0, 0)).end_job) << "rank 1's end was kept";
  book.sent(7, 1, {"n1", "n2"}, true);  // requeued: attempt 1
  EXPECT_EQ(book.live_ranks(7).size(), 2u);
  EXPECT_EQ(book.attempt(7), 1u);
}

TEST(GangBookTest, AcksStopBelowTheOldestHeldEndAndMoveOnWhenItsJobEnds) {
  GangBook book;
  EXPECT_EQ(book.received("n2", 1, false, 3), 1u);
  EXPECT_EQ(book.received("n2", 2, /*hold=*/true, 7), 0u) << "nothing new to settle";
  EXPECT_EQ(book.received("n2", 3, false, 4), 0u) << "3 would settle 2";
  EXPECT_EQ(book.received("n1", 1, false, 4), 1u) << "another node's acks are its own";
  EXPECT_EQ(book.holding(), std::vector<uint64_t>{7});
  const auto acks = book.release(7);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0], (std::pair<std::string, uint64_t>{"n2", 3}));
  EXPECT_TRUE(book.holding().empty());
  EXPECT_TRUE(book.release(7).empty());
}

TEST(GangBookTest, ANewRegistrationForgetsWhatTheNodeWillSendAgain) {
  GangBook book;
  EXPECT_EQ(book.received("n2", 4, true, 7), 3u) << "what came before it is settled";
  book.node_registered("n2");
  EXPECT_TRUE(book.holding().empty());
  EXPECT_EQ(book.received("n2", 4, true, 7), 3u) << "held again when it is sent again";
  EXPECT_EQ(book.received("n2", 5, false, 8), 0u) << "5 would settle 4";
  EXPECT_EQ(book.release(7), (std::vector<std::pair<std::string, uint64_t>>{{"n2", 5}}));
}

TEST(GangBookTest, CombinedEndOfCleanRanksIsRankZerosWithTheLongestRuntime) {
  std::map<uint32_t, pb::JobEnded> ends{{0, end_of(0, 0, 10)}, {1, end_of(1, 0, 30)}};
  const pb::JobEnded e = combined_end(ends);
  EXPECT_EQ(e.id().rank(), 0u);
  EXPECT_EQ(e.exit_code(), 0);
  EXPECT_EQ(e.runtime_ms(), 30);
}

TEST(GangBookTest, ARankNeitherStartedNorEndedInTimeIsOverdueOnce) {
  GangBook book;
  book.sent(7, 0, {"n1", "n2", "n3"}, false, /*sent_ms=*/1000);
  book.started(7, 0, 0);
  (void)book.on_end(7, end_of(2, 0));  // ended counts as started
  EXPECT_TRUE(book.overdue(1999, 1000).empty()) << "not yet";
  const auto late = book.overdue(2000, 1000);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0], (std::pair<uint64_t, uint32_t>{7, 1}));
  EXPECT_TRUE(book.overdue(9000, 1000).empty()) << "reported once";
}

TEST(GangBookTest, ALaunchWhoseRanksAllStartedOrThatWasLearntAgainIsNeverOverdue) {
  GangBook book;
  book.sent(7, 0, {"n1", "n2"}, false, 1000);
  book.started(7, 1, 0);  // another attempt's: ignored
  book.started(7, 0, 0);
  book.started(7, 0, 1);
  EXPECT_TRUE(book.overdue(99'000, 1000).empty());
  book.sent(8, 0, {"n1", "n2"}, false);  // after a berthd restart: held by the agents
  EXPECT_TRUE(book.overdue(99'000, 1000).empty());
  book.sent(7, 1, {"n1", "n2"}, false, 5000);  // requeued: a fresh attempt is awaited afresh
  const auto late = book.overdue(6000, 1000);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0], (std::pair<uint64_t, uint32_t>{7, 0}));
}

}  // namespace
}  // namespace berth::server
