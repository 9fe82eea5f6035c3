// `berth sim`'s policies as the scheduler's objects (sim/policy_table.h).
#include "sim/policy_table.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/policy/blocked_job.h"
#include "core/policy/queue_order.h"

namespace berth::sim {
namespace {

core::SchedulerConfig for_policy(Policy policy, int64_t demote_after_gpu_s = 3600) {
  ReplayConfig config;
  config.policy = policy;
  config.demote_after_gpu_s = demote_after_gpu_s;
  return scheduling_for(config);
}

std::string blocked(const core::SchedulerConfig& s) {
  return core::make_blocked_job_policy(s.backfill, s.conservative, s.strict)->name();
}

TEST(PolicyTable, EachSimPolicyIsAnOrderAndABlockedJobPolicy) {
  struct Want {
    Policy policy;
    const core::QueueOrderPolicy* order;
    std::string blocked;
  };
  const Want wants[] = {{Policy::kFifo, &core::fifo_order(), "strict"},
                        {Policy::kEasy, &core::fifo_order(), "easy"},
                        {Policy::kMultifactor, &core::multifactor_order(), "easy"},
                        {Policy::kSjf, &core::shortest_order(), "easy"},
                        {Policy::kDefault, &core::shortest_order(), "easy"}};
  for (const Want& want : wants) {
    const core::SchedulerConfig s = for_policy(want.policy);
    EXPECT_EQ(&core::queue_order_policy(s.order), want.order) << policy_name(want.policy);
    EXPECT_EQ(blocked(s), want.blocked) << policy_name(want.policy);
  }
}

TEST(PolicyTable, OnlyDefaultDemotesAndPreemptsAndOnlyWhileDemotionIsOn) {
  for (Policy p : {Policy::kFifo, Policy::kEasy, Policy::kMultifactor, Policy::kSjf}) {
    EXPECT_FALSE(for_policy(p).preemption) << policy_name(p);
    EXPECT_EQ(for_policy(p).demote_after_gpu_s, 0) << policy_name(p);
  }
  EXPECT_TRUE(for_policy(Policy::kDefault).preemption);
  EXPECT_EQ(for_policy(Policy::kDefault).demote_after_gpu_s, 3600);
  EXPECT_EQ(for_policy(Policy::kDefault).preempt_exempt_s, ReplayConfig{}.preempt_exempt_s);
  EXPECT_FALSE(for_policy(Policy::kDefault, 0).preemption);
}

TEST(PolicyTable, EstimatesChooseWhetherRuntimesArePredicted) {
  ReplayConfig config;
  config.estimates = Estimates::kPredict;
  EXPECT_TRUE(scheduling_for(config).predict_runtimes);
  EXPECT_TRUE(scheduling_for(config).predict_with_limit);
  config.estimates = Estimates::kOracle;
  EXPECT_FALSE(scheduling_for(config).predict_runtimes);
  EXPECT_FALSE(scheduling_for(config).predict_with_limit);
}

// docs/sim.md's Policies table says what --help and the report say, word for word.
TEST(PolicyTable, TheUsersGuideHasEachPolicysSentence) {
  const auto guide =
      std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "docs" / "sim.md";
  std::ifstream in(guide);
  ASSERT_TRUE(in) << guide;
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& p : kPolicyNames.entries()) {
    const std::string row =
        "| `" + std::string(p.name) + "` | " + policy_description(p.value) + " |";
    EXPECT_NE(text.str().find(row), std::string::npos) << row;
  }
}

}  // namespace
}  // namespace berth::sim
