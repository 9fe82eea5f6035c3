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
                                     "expect job 1 PENDING\n"           // line 8
                                     "expect balance vision held=1\n",  // line 9
                                 "story.scenario");
  ASSERT_EQ(o.failures.size(), 2u);
  EXPECT_EQ(o.failures[0],
            "story.scenario:8: expect job 1: state: expected PENDING, found RUNNING");
  EXPECT_EQ(o.failures[1],
            "story.scenario:9: expect balance vision: held: expected 1.0000, found 60.0000");
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
  const Outcome o =
      run_scenario(std::string(kSetup) + "submit vision gpus=0\n", "refused.scenario");
  ASSERT_EQ(o.failures.size(), 1u);
  EXPECT_EQ(o.failures[0].rfind("refused.scenario:7: `submit vision gpus=0` failed: ", 0), 0u)
      << o.failures[0];
}

TEST(ScenarioDriverTest, ExpectRefusedChecksTheCode) {
  const Outcome o = run_scenario(std::string(kSetup) +
                                     "expect refused submit vision gpus=0 code=invalid_argument\n"
                                     "expect refused submit vision gpus=0 code=not_found\n"
                                     "expect refused submit vision gpus=1\n",
                                 "r.scenario");
  ASSERT_EQ(o.failures.size(), 2u);
  EXPECT_EQ(o.failures[0].rfind(
                "r.scenario:8: expected `submit vision gpus=0` to be refused with not_found, found "
                "invalid_argument",
                0),
            0u)
      << o.failures[0];
  EXPECT_EQ(o.failures[1],
            "r.scenario:9: expected `submit vision gpus=1` to be refused, but it succeeded");
}

TEST(ScenarioDriverTest, UnknownNameInsideExpectRefusedIsAMistakeNotARefusal) {
  const Outcome o =
      run_scenario(std::string(kSetup) + "expect refused submit nobody gpus=1\n", "n.scenario");
  ASSERT_EQ(o.failures.size(), 1u);
  EXPECT_EQ(o.failures[0], "n.scenario:7: no project named 'nobody'");
}

TEST(ScenarioDriverTest, MalformedArrayOrDependencyIsAMistakeNotARefusal) {
  const struct {
    const char* line;
    const char* failure;
  } cases[] = {
      {"submit vision array=0-2 runs=1h,2h", "m.scenario:7: runs= has 2 runtimes for 3 tasks"},
      {"submit vision runs=1h",
       "m.scenario:7: runs= gives each task of an array its runtime; this submit has no array="},
      {"expect refused submit vision array=3-1",
       "m.scenario:7: array range '3-1' is not N or N-M with N <= M <= 1000000"},
      {"expect refused submit vision after=afterok",
       "m.scenario:7: dependencies 'afterok' are not like afterok:3,afterany:4:5 (or afternotok)"},
  };
  for (const auto& c : cases) {
    const Outcome o = run_scenario(std::string(kSetup) + c.line + "\n", "m.scenario");
    ASSERT_EQ(o.failures.size(), 1u) << c.line;
    EXPECT_EQ(o.failures[0], c.failure);
  }
}

TEST(ScenarioDriverTest, UnstartedJobShowsNoStartTime) {
  const Outcome o = run_scenario(std::string(kSetup) +
                                     "submit vision gpus=2 hold\n"
                                     "expect job 1 PENDING reason=JobHeldUser start=+0s\n",
                                 "s.scenario");
  ASSERT_EQ(o.failures.size(), 1u);
  EXPECT_EQ(o.failures[0],
            "s.scenario:8: expect job 1: start: expected 2026-01-01T00:00:00Z (+0s), found (not "
            "started)");
}

TEST(ScenarioDriverTest, GangJobShowsItsNodesInOrderAndItsPlannedRuntime) {
  const Outcome o = run_scenario(
      "node n1 H100 8\n"
      "node n2 H100 8\n"
      "price H100 30\n"
      "start 2026-01-01\n"
      "org hku university\n"
      "project vision hku\n"
      "topup vision 1000\n"
      "submit vision gpus_per_node=4 nodes=2 time=1h\n"
      "expect job 1 RUNNING on n1,n2 planned=1h max=240\n"  // line 9
      "expect job 1 RUNNING on n2,n1 planned=2h\n"          // line 10
      "expect job 1 RUNNING on n1\n"                        // line 11
      "submit vision gpus=6 gpus_per_node=4 nodes=2\n",     // line 12
      "g.scenario");
  ASSERT_EQ(o.failures.size(), 3u);
  EXPECT_EQ(o.failures[0],
            "g.scenario:10: expect job 1: nodes: expected n2,n1, found n1,n2; planned: expected "
            "2h, found 1h");
  EXPECT_EQ(o.failures[1], "g.scenario:11: expect job 1: nodes: expected n1, found n1,n2");
  EXPECT_EQ(o.failures[2], "g.scenario:12: gpus=6 is not gpus_per_node x nodes (8)");
}

TEST(ScenarioDriverTest, SchedulerOptionsAreCheckedBeforeStart) {
  const struct {
    const char* line;
    const char* failure;
  } cases[] = {
      {"scheduler order=lifo",
       "o.scenario:1: order must be priority, fifo or shortest, got 'lifo'"},
      {"scheduler conservative=yes", "o.scenario:1: conservative must be on or off, got 'yes'"},
  };
  for (const auto& c : cases) {
    const Outcome o = run_scenario(std::string(c.line) + "\n", "o.scenario");
    ASSERT_EQ(o.failures.size(), 1u) << c.line;
    EXPECT_EQ(o.failures[0], c.failure);
  }
  const Outcome ok = run_scenario(
      "scheduler conservative=on order=fifo strict=off predict=off\nnode n1 H100 8\n"
      "price H100 30\nstart\nexpect gpus free=8\n",
      "ok.scenario");
  EXPECT_TRUE(ok.ok()) << (ok.failures.empty() ? "" : ok.failures[0]);
}

}  // namespace
}  // namespace berth::scenario
