#include "agent/agent_state.h"

#include <gtest/gtest.h>

namespace berth::agent {
namespace {

constexpr LaunchKey kA{42, 0, 0, 0};
constexpr LaunchKey kB{43, 0, 0, 0};
constexpr LaunchKey kA2{42, 1, 0, 0};  // job 42's next attempt

EndReport exit_code(int code) {
  EndReport e;
  e.exit_code = code;
  e.runtime_ms = 1000;
  return e;
}

TEST(AgentStateTest, ALaunchIsStartedOnceHoweverOftenItIsSent) {
  AgentState s;
  EXPECT_EQ(s.on_launch(kA, 1, false), LaunchDecision::kStart);
  EXPECT_EQ(s.on_launch(kA, 1, false), LaunchDecision::kHeld);
  s.started(kA, 5000);
  EXPECT_EQ(s.on_launch(kA, 2, false), LaunchDecision::kHeld) << "a new controller resends it";
  s.ended(kA, exit_code(0));
  EXPECT_EQ(s.on_launch(kA, 2, false), LaunchDecision::kHeld) << "ended, not yet acknowledged";
  EXPECT_EQ(s.on_launch(kA2, 2, false), LaunchDecision::kStart) << "another attempt is new";
}

TEST(AgentStateTest, AReplacedControllersMessagesAreRefused) {
  AgentState s;
  EXPECT_EQ(s.on_launch(kA, 5, false), LaunchDecision::kStart);
  EXPECT_EQ(s.max_epoch(), 5u);
  EXPECT_EQ(s.on_launch(kB, 4, false), LaunchDecision::kStaleEpoch);
  EXPECT_EQ(s.find(kB), nullptr) << "nothing recorded";
  EXPECT_FALSE(s.accept_epoch(4));
  EXPECT_TRUE(s.accept_epoch(5));
  EXPECT_TRUE(s.accept_epoch(6));
  EXPECT_EQ(s.max_epoch(), 6u);
}

TEST(AgentStateTest, EndsAreNumberedOnceAndResentUntilAcknowledged) {
  AgentState s;
  s.on_launch(kA, 1, false);
  s.on_launch(kB, 1, false);
  s.started(kA, 1000);
  s.started(kB, 1000);
  EXPECT_EQ(s.ended(kB, exit_code(3)), 1u);
  EXPECT_EQ(s.ended(kA, exit_code(0)), 2u);
  EXPECT_EQ(s.ended(kB, exit_code(9)), 1u) << "a second end report keeps the first";
  EXPECT_EQ(s.find(kB)->end->exit_code, 3);
  EXPECT_EQ(s.ended(LaunchKey{99, 0, 0, 0}, exit_code(0)), 0u) << "unknown launch";
  auto unacked = s.unacked_ends();
  ASSERT_EQ(unacked.size(), 2u);
  EXPECT_EQ(unacked[0]->key, kB);
  EXPECT_EQ(unacked[1]->key, kA);
  s.acked(1);
  unacked = s.unacked_ends();
  ASSERT_EQ(unacked.size(), 1u);
  EXPECT_EQ(unacked[0]->key, kA);
  EXPECT_EQ(s.find(kB), nullptr) << "settled and forgotten";
  s.acked(1);  // an old ack again changes nothing
  EXPECT_EQ(s.unacked_ends().size(), 1u);
  s.acked(2);
  EXPECT_TRUE(s.unacked_ends().empty());
  EXPECT_EQ(s.last_end_seq(), 2u) << "end_seq is never reused";
}

TEST(AgentStateTest, AnAckNeverSettlesARunningLaunch) {
  AgentState s;
  s.on_launch(kA, 1, false);
  s.started(kA, 1000);
  s.acked(100);
  ASSERT_NE(s.find(kA), nullptr);
  EXPECT_TRUE(s.find(kA)->running);
  EXPECT_EQ(s.inventory().size(), 1u);
}

TEST(AgentStateTest, TheKillListNamesOnlyWhatStillRunsHere) {
  AgentState s;
  s.on_launch(kA, 1, false);
  s.started(kA, 1000);
  s.on_launch(kB, 1, false);
  s.started(kB, 1000);
  s.ended(kB, exit_code(0));
  const LaunchKey unknown{7, 0, 0, 0};
  EXPECT_EQ(s.to_kill({kA, kB, unknown}), std::vector<LaunchKey>{kA});
}

TEST(AgentStateTest, TheFenceStopsOnlyFenceableLaunchesStillRunning) {
  AgentState s;
  s.on_launch(kA, 1, true);
  s.on_launch(kB, 1, false);
  s.on_launch(kA2, 1, true);
  for (const LaunchKey& k : {kA, kB, kA2}) s.started(k, 1000);
  s.ended(kA2, exit_code(0));
  EXPECT_EQ(s.fenced(), std::vector<LaunchKey>{kA});
}

TEST(AgentStateTest, ARestoredBookGoesOnNumberingAndRefusingOldEpochs) {
  AgentState s;
  s.on_launch(kA, 3, false);
  s.started(kA, 1000);
  s.on_launch(kB, 3, false);
  s.ended(kB, exit_code(1));
  std::vector<LaunchRecord> records;
  for (const LaunchRecord* r : s.inventory()) records.push_back(*r);

  AgentState again;
  again.restore(records, 2, 0);
  EXPECT_EQ(again.max_epoch(), 3u) << "from the records";
  EXPECT_EQ(again.last_end_seq(), 1u);
  EXPECT_EQ(again.on_launch(kA, 3, false), LaunchDecision::kHeld);
  EXPECT_EQ(again.on_launch(kA2, 2, false), LaunchDecision::kStaleEpoch);
  EXPECT_EQ(again.ended(kA, exit_code(0)), 2u);
  EXPECT_EQ(again.unacked_ends().size(), 2u);
}

}  // namespace
}  // namespace berth::agent
