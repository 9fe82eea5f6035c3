// Which berthd the agent dials next, and how long it waits after a refusal (link_policy.h).
#include <gtest/gtest.h>

#include "agent/link_policy.h"

namespace berth::agent {
namespace {

TEST(ServerChoiceTest, TakesTheServersInTurn) {
  ServerChoice choice({"ctl1:8766", "ctl2:8766", "ctl3:8766"});
  EXPECT_EQ(choice.current(), "ctl1:8766");
  choice.ended("");
  EXPECT_EQ(choice.current(), "ctl2:8766");
  choice.ended("");
  EXPECT_EQ(choice.current(), "ctl3:8766");
  choice.ended("");
  EXPECT_EQ(choice.current(), "ctl1:8766");
}

TEST(ServerChoiceTest, OneServerIsDialledAgain) {
  ServerChoice choice({"unix:/var/lib/berth/agents.sock"});
  choice.ended("");
  EXPECT_EQ(choice.current(), "unix:/var/lib/berth/agents.sock");
}

TEST(ServerChoiceTest, AStandbyNamingTheLeaderSendsTheNextDialThere) {
  ServerChoice choice({"ctl1:8766", "ctl2:8766", "ctl3:8766"});
  choice.ended("ctl3:8766");  // ctl1 is a standby; ctl3 leads
  EXPECT_EQ(choice.current(), "ctl3:8766");
  choice.ended("");  // ctl3 went away: on round the list from it
  EXPECT_EQ(choice.current(), "ctl1:8766");
}

TEST(ServerChoiceTest, ALeaderThatIsNotListedIsDialledAndThenTheListGoesOn) {
  ServerChoice choice({"ctl1:8766", "ctl2:8766"});
  choice.ended("");
  EXPECT_EQ(choice.current(), "ctl2:8766");
  choice.ended("10.0.0.9:8766");  // ctl2 is a standby; the leader was started elsewhere
  EXPECT_EQ(choice.current(), "10.0.0.9:8766");
  choice.ended("");  // it could not be reached: the server after ctl2
  EXPECT_EQ(choice.current(), "ctl1:8766");
}

TEST(ServerChoiceTest, AServerNamingItselfDoesNotHoldTheAgent) {
  ServerChoice choice({"ctl1:8766", "ctl2:8766"});
  choice.ended("ctl1:8766");  // a stale answer: it names itself
  EXPECT_EQ(choice.current(), "ctl2:8766");
}

TEST(RefusedWaitTest, AStandbysRefusalIsFollowedSoon) {
  EXPECT_EQ(refused_wait_ms(true, 250), 250);
  EXPECT_EQ(refused_wait_ms(true, 0), 500);  // berthd named no wait
  EXPECT_EQ(refused_wait_ms(true, 1), 100);
  EXPECT_EQ(refused_wait_ms(true, 3'600'000), 10'000);
}

TEST(RefusedWaitTest, AnyOtherRefusalWaitsLonger) {
  EXPECT_EQ(refused_wait_ms(false, 0), 60'000);
  EXPECT_EQ(refused_wait_ms(false, 5'000), 5'000);
  EXPECT_EQ(refused_wait_ms(false, 1), 1'000);
  EXPECT_EQ(refused_wait_ms(false, 3'600'000), 600'000);
}

}  // namespace
}  // namespace berth::agent
