// Nodes chosen by a job's user (--nodelist, --exclude): checked at submit, kept by the scheduler.
#include "core/node_choice.h"

#include <gtest/gtest.h>

#include "core/engine.h"

namespace berth::core {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kT0 = 1'800'000'000'000;

// Three 8-GPU H100 nodes and one 4-GPU A100 node.
ClusterConfig cluster() {
  ClusterConfig c;
  for (const char* name : {"g1", "g2", "g3"})
    c.nodes.push_back(Node{NodeId(), name, "H100", 8, 64, 1000, NodeState::kUp});
  c.nodes.push_back(Node{NodeId(), "a1", "A100", 4, 32, 1000, NodeState::kUp});
  c.prices = {{"A100", 200'000}, {"H100", 300'000}};
  c.partitions = {Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

class NodeChoiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine = std::move(*Engine::Create(cluster(), kT0));
    const OrgId org = engine->create_org("hku", OrgKind::kUniversity, kT0)->id;
    project = engine->create_project(org, "llm", kT0)->id;
    ASSERT_TRUE(engine->top_up(project, 10'000'0000, "", kT0).ok());
  }
  JobRequest request(int gpus, int nodes, NodeNames names, const std::string& model = "") {
    JobRequest r;
    r.project = project;
    r.gpus = gpus;
    r.nodes = nodes;
    r.gpu_model = model;
    r.time_limit_s = 3600;
    r.node_names = std::move(names);
    return r;
  }
  std::vector<std::string> nodes_of(JobId id) {
    const Job& j = *engine->job(id);
    std::vector<std::string> out{engine->cluster().node(j.node)->name};
    for (const Placement& p : j.more_nodes) out.push_back(engine->cluster().node(p.node)->name);
    return out;
  }
  std::string refusal(const JobRequest& r) {
    auto id = engine->submit(r, kT0);
    EXPECT_FALSE(id.ok());
    return id.ok() ? "" : id.status().message();
  }
  std::unique_ptr<Engine> engine;
  ProjectId project;
};

TEST_F(NodeChoiceTest, ARequiredNodeIsWhereTheJobRunsNotWhereBestFitWouldPutIt) {
  const JobId id = *engine->submit(request(8, 1, {{"g3"}, {}}), kT0);
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);
  EXPECT_EQ(nodes_of(id), (std::vector<std::string>{"g3"}));
}

TEST_F(NodeChoiceTest, AnExcludedNodeIsNeverUsed) {
  const JobId id = *engine->submit(request(8, 1, {{}, {"g1", "g2"}}), kT0);
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);
  EXPECT_EQ(nodes_of(id), (std::vector<std::string>{"g3"}));
}

TEST_F(NodeChoiceTest, AGangRunsOnExactlyItsRequiredNodes) {
  const JobId id = *engine->submit(request(16, 2, {{"g3", "g1"}, {}}), kT0);
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);
  EXPECT_EQ(nodes_of(id), (std::vector<std::string>{"g1", "g3"}));
  EXPECT_EQ(engine->job(id)->node_choice.required, (std::vector<NodeId>{NodeId(1), NodeId(3)}));
}

TEST_F(NodeChoiceTest, AJobWaitsForItsBusyNodeWhileOthersAreFree) {
  const JobId first = *engine->submit(request(8, 1, {{"g2"}, {}}), kT0);
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);
  const JobId second = *engine->submit(request(4, 1, {{"g2"}, {}}), kT0);
  EXPECT_TRUE(engine->schedule(kT0).empty());
  EXPECT_EQ(engine->job(second)->state, JobState::kPending);
  // A quote for the same node sees it free only when the first job's time is up.
  Result<Quote> q = engine->quote(request(4, 1, {{"g2"}, {}}), kT0);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->earliest_start_ms, kT0 + kHour);
  ASSERT_TRUE(engine->job_ended(first, JobEnd{}, kT0 + kHour / 2, kT0 + kHour / 2).ok());
  ASSERT_EQ(engine->schedule(kT0 + kHour / 2).size(), 1u);
  EXPECT_EQ(nodes_of(second), (std::vector<std::string>{"g2"}));
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(NodeChoiceTest, ADrainedRequiredNodeKeepsTheJobWaiting) {
  ASSERT_TRUE(engine->set_node_state(NodeId(1), NodeState::kDrain, kT0).ok());
  const JobId id = *engine->submit(request(1, 1, {{"g1"}, {}}), kT0);
  EXPECT_TRUE(engine->schedule(kT0).empty());
  EXPECT_EQ(engine->job(id)->state, JobState::kPending);
}

TEST_F(NodeChoiceTest, WhatCanNeverBeHonouredIsRefusedNamingWhy) {
  EXPECT_EQ(refusal(request(1, 1, {{"g9"}, {}})), "--nodelist: no node is named 'g9'");
  EXPECT_EQ(refusal(request(1, 1, {{}, {"x"}})), "--exclude: no node is named 'x'");
  EXPECT_EQ(refusal(request(2, 2, {{"g1", "g1"}, {}})), "--nodelist names node g1 twice");
  EXPECT_EQ(refusal(request(1, 1, {{"g1"}, {"g1"}})),
            "node g1 is both required (--nodelist) and excluded (--exclude)");
  EXPECT_EQ(refusal(request(1, 1, {{"g1", "g2"}, {}})),
            "a job runs on exactly the nodes --nodelist names: it names 2 but the job asks for 1 "
            "node (--nodes)");
  EXPECT_EQ(refusal(request(1, 1, {{"g1"}, {}}, "A100")),
            "--nodelist: node g1 has H100 GPUs, which the job's constraint 'A100' rules out");
  EXPECT_EQ(refusal(request(8, 1, {{"a1"}, {}})),
            "--nodelist: node a1 has 4 GPUs; the job asks for 8 per node");
  EXPECT_EQ(refusal(request(8, 2, {{"g1", "a1"}, {}})),
            "--nodelist: nodes g1 (H100) and a1 (A100) have different GPU models; a job's nodes "
            "are all of one model");
  EXPECT_EQ(refusal(request(16, 2, {{}, {"g1", "g2"}})),
            "--exclude leaves 1 suitable node for a job that needs 2 nodes with 8 GPUs");
  EXPECT_EQ(refusal(request(8, 1, {{}, {"g1", "g2", "g3"}})),
            "--exclude leaves 0 suitable nodes for a job that needs 1 node with 8 GPUs");
  EXPECT_EQ(engine->jobs().size(), 0u);  // nothing refused was kept
}

TEST_F(NodeChoiceTest, ExcludingOtherModelsLeavesASingleNodeJobItsNodes) {
  // Any model will do for one node: the A100 node counts too.
  const JobId id = *engine->submit(request(4, 1, {{}, {"g1", "g2", "g3"}}), kT0);
  ASSERT_EQ(engine->schedule(kT0).size(), 1u);
  EXPECT_EQ(nodes_of(id), (std::vector<std::string>{"a1"}));
}

TEST(NodeChoiceNames, NamesComeBackInIdOrder) {
  Result<Cluster> c = Cluster::Create(cluster());
  ASSERT_TRUE(c.ok());
  Result<NodeChoice> choice = resolve_node_choice(*c, {{"g3", "g2"}, {"a1"}}, "", 2, 8);
  ASSERT_TRUE(choice.ok()) << choice.status().ToString();
  const NodeNames names = node_choice_names(*c, *choice);
  EXPECT_EQ(names.required, (std::vector<std::string>{"g2", "g3"}));
  EXPECT_EQ(names.excluded, (std::vector<std::string>{"a1"}));
  EXPECT_TRUE(choice->allows(NodeId(2)));
  EXPECT_FALSE(choice->allows(NodeId(1)));
  EXPECT_FALSE(choice->allows(NodeId(4)));
}

}  // namespace
}  // namespace berth::core
