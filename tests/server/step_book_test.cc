// StepBook: steps inside jobs — their numbers, when one is over, and who is answered.
#include "server/agents/step_book.h"

#include <gtest/gtest.h>

namespace berth::server {
namespace {

namespace pb = ::berth::agent::v1;

pb::JobEnded end_of(uint32_t step, uint32_t rank, int exit_code) {
  pb::JobEnded e;
  e.mutable_id()->set_job(7);
  e.mutable_id()->set_step(step);
  e.mutable_id()->set_rank(rank);
  e.set_exit_code(exit_code);
  return e;
}

TEST(StepBookTest, StepsAreNumberedPerJobPastAnyAnAgentHolds) {
  StepBook book;
  EXPECT_EQ(book.open(7, {"n1"}, "n1", 1), 1u);
  EXPECT_EQ(book.open(7, {"n1"}, "n1", 2), 2u);
  EXPECT_EQ(book.open(8, {"n1"}, "n1", 3), 1u);
  book.saw(8, 5);
  EXPECT_EQ(book.open(8, {"n1"}, "n1", 4), 6u);
}

TEST(StepBookTest, AStepIsOverOnceEveryRankEndedWithTheWorstEndForTheRequester) {
  StepBook book;
  const uint32_t step = book.open(7, {"n1", "n2"}, "n2", 42);
  StepBook::Verdict v = book.on_end(end_of(step, 0, 0));
  EXPECT_FALSE(v.done);
  EXPECT_TRUE(v.stop.empty());
  v = book.on_end(end_of(step, 0, 0));  // repeated: still waiting for rank 1
  EXPECT_FALSE(v.done);
  v = book.on_end(end_of(step, 1, 4));
  ASSERT_TRUE(v.done);
  EXPECT_EQ(v.done->first, "n2");
  EXPECT_EQ(v.done->second.request(), 42u);
  EXPECT_EQ(v.done->second.step(), step);
  EXPECT_EQ(v.done->second.exit_code(), 4);
  EXPECT_EQ(v.done->second.ranks(), 2u);
  EXPECT_FALSE(v.done->second.launch_failed());
  EXPECT_EQ(book.open_steps(), 0u);
  EXPECT_FALSE(book.on_end(end_of(step, 1, 0)).done) << "answered once";
}

TEST(StepBookTest, ARankThatCannotStartEndsTheStepAndStopsTheOthers) {
  StepBook book;
  const uint32_t step = book.open(7, {"n1", "n2", "n3"}, "n1", 9);
  ASSERT_FALSE(book.on_end(end_of(step, 0, 0)).done);
  pb::JobEnded failed = end_of(step, 1, 127);
  failed.set_launch_failed(true);
  failed.set_reason("cannot enter /scratch");
  const StepBook::Verdict v = book.on_end(failed);
  ASSERT_TRUE(v.done);
  EXPECT_TRUE(v.done->second.launch_failed());
  EXPECT_EQ(v.done->second.reason(), "rank 1 on n2: cannot enter /scratch");
  ASSERT_EQ(v.stop.size(), 1u);
  EXPECT_EQ(v.stop[0], (std::pair<std::string, uint32_t>{"n3", 2}));
}

TEST(StepBookTest, AJobThatEndsAnswersItsOpenStepsAndForgetsItsNumbers) {
  StepBook book;
  book.open(7, {"n1"}, "n1", 1);
  book.open(7, {"n1"}, "n1", 2);
  book.open(8, {"n1"}, "n1", 3);
  const auto answers = book.close_job(7, "job 7 ended");
  ASSERT_EQ(answers.size(), 2u);
  for (const auto& [node, done] : answers) {
    EXPECT_EQ(node, "n1");
    EXPECT_TRUE(done.launch_failed());
    EXPECT_EQ(done.reason(), "job 7 ended");
  }
  EXPECT_EQ(book.open_steps(), 1u);  // job 8's
  EXPECT_EQ(book.open(7, {"n1"}, "n1", 4), 1u);
  EXPECT_FALSE(book.on_end(end_of(2, 0, 0)).done) << "a closed step is not answered again";
}

}  // namespace
}  // namespace berth::server
