// The fixtures of the Engine's tests, one test file per source file of the Engine
// (engine_test.cc, pricing_test.cc, job_lifecycle_test.cc, scheduling_test.cc, awards_test.cc,
// persistence_test.cc): a centre of an A100 and an H100 node with one organisation, project and
// scheme (EngineTest), and one of three 8-GPU H100 nodes for gang jobs (GangTest).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/engine.h"

namespace berth::core {

inline constexpr int64_t kHour = 3'600'000;
inline constexpr int64_t kT0 = 1'800'000'000'000;  // a fixed virtual "now"
inline constexpr Minor kPrice = 300'000;           // 30.0000 per GPU-hour

inline ClusterConfig two_nodes() {
  ClusterConfig c;
  c.nodes = {Node{NodeId(), "a1", "A100", 4, 32, 1000, NodeState::kUp},
             Node{NodeId(), "h1", "H100", 8, 64, 1000, NodeState::kUp}};
  c.prices = {{"A100", 200'000}, {"H100", kPrice}};
  c.partitions = {Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Engine::Create(two_nodes(), kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    org = engine->create_org("hku", OrgKind::kUniversity, kT0)->id;
    project = engine->create_project(org, "vision", kT0)->id;
    auto s = engine->create_scheme("ai-subsidy", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                   Shortfall::kWallet, 1'000'000'0000, kT0);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scheme = s->id;
  }

  AwardId grant(Minor amount, int gpu_level) {
    auto a = engine->create_award(scheme, project, amount, gpu_level, kT0 - kHour,
                                  kT0 + 1000 * kHour, kT0);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? a->id : AwardId();
  }
  void top_up(Minor amount) { ASSERT_TRUE(engine->top_up(project, amount, "", kT0).ok()); }

  // A job of one H100 for an hour that is requeued if it is lost.
  JobId submit_requeueable() {
    JobRequest r;
    r.project = project;
    r.gpus = 1;
    r.time_limit_s = 3600;
    r.gpu_model = "H100";
    r.requeue = true;
    auto id = engine->submit(r, kT0);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : JobId();
  }
  JobId submit(int gpus, int64_t limit_s = 3600, const std::string& model = "H100",
               Tier tier = Tier::kNormal, int64_t now = kT0) {
    JobRequest r;
    r.project = project;
    r.gpus = gpus;
    r.time_limit_s = limit_s;
    r.gpu_model = model;
    r.tier = tier;
    auto id = engine->submit(r, now);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : JobId();
  }
  const Account& wallet() {
    return *engine->ledger().account(engine->funding().project(project)->wallet);
  }
  const Account& award_account(AwardId a) {
    return *engine->ledger().account(engine->funding().award(a)->account);
  }
  const Account& revenue() { return *engine->ledger().account(kRevenueAccount); }
  const Job& job(JobId id) { return *engine->job(id); }

  std::unique_ptr<Engine> engine;
  OrgId org;
  ProjectId project;
  SchemeId scheme;
};

// Three 8-GPU H100 nodes for gang jobs.
inline ClusterConfig three_h100() {
  ClusterConfig c;
  for (const char* name : {"g1", "g2", "g3"})
    c.nodes.push_back(Node{NodeId(), name, "H100", 8, 64, 1000, NodeState::kUp});
  c.prices = {{"H100", kPrice}};
  c.partitions = {Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

class GangTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine = std::move(*Engine::Create(three_h100(), kT0));
    org = engine->create_org("hku", OrgKind::kUniversity, kT0)->id;
    project = engine->create_project(org, "llm", kT0)->id;
    ASSERT_TRUE(engine->top_up(project, 10'000'0000, "", kT0).ok());
  }
  Result<JobId> submit(int gpus, int nodes, int64_t limit_s = 3600, int64_t now = kT0) {
    JobRequest r;
    r.project = project;
    r.gpus = gpus;
    r.nodes = nodes;
    r.time_limit_s = limit_s;
    return engine->submit(r, now);
  }
  std::unique_ptr<Engine> engine;
  OrgId org;
  ProjectId project;
};

}  // namespace berth::core
