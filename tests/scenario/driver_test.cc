// The scenario driver's own behaviour: how it reports failures and mistakes.
#include "scenario/driver.h"

#include <gtest/gtest.h>

namespace berth::scenario {
namespace {

constexpr const char* kSetup =
    "node n1 H100 8\n"
    "price H100 30\n"
    "start 2026-01-01\n"
    "org hku university\n"
    "project vision hku\n"
    "topup vision 1000\n";

TEST(ScenarioDriverTest, PassingScenarioHasNoFailures) {
  const Outcome o = run_scenario(std::string(kSetup) +
                                     "submit vision gpus=2 time=1h run=30m\n"
                                     "expect job 1 RUNNING on n1\n"
                                     "advance 30m\n"
                                     "expect job 1 COMPLETED cost=30 end=+30m\n"
                                     "expect balance vision wallet=970 held=0\n",
                                 "ok.scenario");
  EXPECT_TRUE(o.ok()) << (o.failures.empty() ? "" : o.failures[0]);
  EXPECT_EQ(o.expectations, 3);
}

TEST(ScenarioDriverTest, FailedExpectNamesFileLineExpectedAndFound) {
  const Outcome o = run_scenario(std::string(kSetup) +
                                     "submit vision gpus=2 time=1h\n"
                                     "expect job 1 PENDING\n"      // line 8
                                     "expect balance vision held=1\n",  // line 9
                                 "story.scenario");
  ASSERT_EQ(o.failures.size(), 2u);
  EXPECT_EQ(o.failures[0], "story.scenario:8: expect job 1: state: expected PENDING, found RUNNING");
  EXPECT_EQ(o.failures[1], "story.scenario:9: expect balance vision: held: expected 1.0000, found 60.0000");
}

TEST(ScenarioDriverTest, MistakeInTheFileStopsTheRunAtItsLine) {
  const Outcome o = run_scenario(std::string(kSetup) +
                                     "submit vision gpus=2 tiem=1h\n"
                                     "expect job 1 RUNNING\n",
                                 "typo.scenario");
  ASSERT_EQ(o.failures.size(), 1u);
  EXPECT_EQ(o.failures[0], "typo.scenario:7: unexpected 'tiem=1h'");
  EXPECT_EQ(o.expectations, 0);
}

TEST(ScenarioDriverTest, UnexpectedRefusalStopsTheRun) {
  const Outcome o = run_scenario(std::string(kSetup) + "submit vision gpus=0\n", "refused.scenario");
  ASSERT_EQ(o.failures.size(), 1u);
  EXPECT_EQ(o.failures[0].rfind("refused.scenario:7: `submit vision gpus=0` failed: ", 0), 0u) << o.failures[0];
}

TEST(ScenarioDriverTest, ExpectRefusedChecksTheCode) {
  const Outcome o = run_scenario(std::string(kSetup) +
                                     "expect refused submit vision gpus=0 code=invalid_argument\n"
                                     "expect refused submit vision gpus=0 code=not_found\n"
                                     "expect refused submit vision gpus=1\n",
                                 "r.scenario");
  ASSERT_EQ(o.failures.size(), 2u);
  EXPECT_EQ(o.failures[0].rfind("r.scenario:8: expected `submit vision gpus=0` to be refused with not_found, found "
                                "invalid_argument",
                                0),
            0u)
      << o.failures[0];
  EXPECT_EQ(o.failures[1], "r.scenario:9: expected `submit vision gpus=1` to be refused, but it succeeded");
}

TEST(ScenarioDriverTest, UnknownNameInsideExpectRefusedIsAMistakeNotARefusal) {
  const Outcome o = run_scenario(std::string(kSetup) + "expect refused submit nobody gpus=1\n", "n.scenario");
  ASSERT_EQ(o.failures.size(), 1u);
  EXPECT_EQ(o.failures[0], "n.scenario:7: no project named 'nobody'");
}

}  // namespace
}  // namespace berth::scenario
