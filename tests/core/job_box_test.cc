// A job's box (job_box.h): the CPUs and memory its cgroup allows on each node, from what it
// asked (Slurm's flags) and its partition's defaults; the defaults checked against the nodes
// and a box against the nodes that could hold the job.
#include "core/job_box.h"

#include <gtest/gtest.h>

#include "core/cluster.h"
#include "core/engine_fixture.h"

namespace berth::core {
namespace {

// One node's worth of GPUs: 2 CPUs and 8 GB per GPU (the embedded configuration's).
constexpr BoxDefaults kPerGpu{.cpus_per_gpu = 2, .mem_per_gpu_mb = 8192};

TEST(JobBoxTest, AJobThatAsksNothingGetsThePartitionsDefaultsForItsGpusOnANode) {
  EXPECT_EQ(job_box({}, 1, 2, kPerGpu), (JobBox{4, 16384}));
  EXPECT_EQ(job_box({}, 4, 8, kPerGpu), (JobBox{16, 65536})) << "per node, not in all";
  EXPECT_EQ(job_box({}, 1, 2, {}), (JobBox{0, 0})) << "no defaults: no limit";
}

TEST(JobBoxTest, WhatTheJobAskedForWinsOverTheDefaults) {
  EXPECT_EQ(job_box({.mem_mb = 4096}, 1, 2, kPerGpu), (JobBox{4, 4096}));
  EXPECT_EQ(job_box({.cpus_per_task = 3}, 1, 2, kPerGpu), (JobBox{3, 16384}));
  EXPECT_EQ(job_box({.cpus_per_task = 4, .ntasks_per_node = 2}, 1, 1, {}), (JobBox{8, 0}));
  EXPECT_EQ(job_box({.cpus_per_task = 2, .ntasks = 3}, 2, 1, {}), (JobBox{4, 0}))
      << "3 tasks on 2 nodes: 2 on a node";
  EXPECT_EQ(job_box({.mem_per_gpu_mb = 1000, .cpus_per_gpu = 6}, 1, 2, kPerGpu),
            (JobBox{12, 2000}));
  EXPECT_EQ(job_box({.mem_per_cpu_mb = 1000, .cpus_per_task = 2}, 1, 1, kPerGpu),
            (JobBox{2, 2000}));
  EXPECT_EQ(job_box({.mem_per_cpu_mb = 1000}, 1, 1, {}), (JobBox{0, 1000})) << "a CPU per task";
}

TEST(JobBoxTest, ThePartitionsMemoryPerCpuFollowsTheCpusTheJobGets) {
  const BoxDefaults per_cpu{.cpus_per_gpu = 2, .mem_per_cpu_mb = 4000};
  EXPECT_EQ(job_box({}, 1, 2, per_cpu), (JobBox{4, 16000}));
  EXPECT_EQ(job_box({.cpus_per_task = 8}, 1, 2, per_cpu), (JobBox{8, 32000}));
  EXPECT_EQ(job_box({}, 1, 2, {.mem_per_cpu_mb = 4000}), (JobBox{0, 4000})) << "one task";
}

TEST(JobBoxTest, AHugeProductIsCappedNotWrapped) {
  const JobBox box = job_box({.mem_per_cpu_mb = kMaxBoxValue,
                              .cpus_per_task = kMaxBoxValue,
                              .ntasks_per_node = kMaxBoxValue},
                             1, 1, {});
  EXPECT_GT(box.cpus, 0);
  EXPECT_EQ(box.memory_mb, kMaxBoxValue * kMaxBoxValue);
}

TEST(JobBoxTest, ARequestOutOfBoundsIsRefusedNamingItsField) {
  EXPECT_TRUE(check_box_request({.mem_mb = kMaxBoxValue}).ok());
  const Status st = check_box_request({.cpus_per_gpu = -1});
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("'cpus_per_gpu'"), std::string::npos) << st.ToString();
  EXPECT_FALSE(check_box_request({.ntasks = kMaxBoxValue + 1}).ok());
}

TEST(JobBoxTest, DefaultsMustFitEveryNodeAndNameTheKeyThatDoesNot) {
  const std::vector<Node> nodes = two_nodes().nodes;  // a1: 4 GPUs, 32 CPUs; h1: 8, 64; 1000 MB
  auto message = [&](const BoxDefaults& d) {
    return check_box_defaults("gpu", d, nodes).message();
  };
  EXPECT_TRUE(check_box_defaults("gpu", {8, 0, 125}, nodes).ok());
  EXPECT_EQ(message({9, 0, 0}),
            "partition gpu: default_cpus_per_gpu 9 x node a1's 4 GPUs is more than its cpus 32");
  EXPECT_EQ(message({0, 0, 126}),
            "partition gpu: default_mem_per_gpu_mb 126 x node h1's 8 GPUs "
            "is more than its memory_mb 1000");
  EXPECT_EQ(message({0, 32, 0}),
            "partition gpu: default_mem_per_cpu_mb 32 x node a1's 32 CPUs "
            "is more than its memory_mb 1000");
  EXPECT_EQ(message({0, 1, 1}),
            "partition gpu: set default_mem_per_cpu_mb or default_mem_per_gpu_mb, not both");
  EXPECT_EQ(message({-1, 0, 0}),
            "partition gpu: default_cpus_per_gpu must be 0 to 1000000000, "
            "got -1");
  // A node whose CPUs and memory are not configured takes any default.
  EXPECT_TRUE(check_box_defaults("gpu", {1000, 0, 1'000'000},
                                 {Node{NodeId(1), "n", "H100", 8, 0, 0, NodeState::kUp}})
                  .ok());
}

TEST(JobBoxTest, ABoxNoNodeOfTheJobsKindHoldsIsRefusedSayingWhatIsTooLarge) {
  auto cluster = Cluster::Create(two_nodes());
  ASSERT_TRUE(cluster.ok());
  EXPECT_TRUE(check_box_fits(*cluster, "", 1, 1, {64, 1000}).ok());
  EXPECT_EQ(check_box_fits(*cluster, "", 1, 1, {65, 0}).message(),
            "the job asks for 65 CPUs per node but the largest node has 64");
  EXPECT_EQ(check_box_fits(*cluster, "A100", 1, 1, {33, 0}).message(),
            "the job asks for 33 CPUs per node but the largest node of model A100 has 32");
  EXPECT_EQ(check_box_fits(*cluster, "", 1, 1, {0, 1001}).message(),
            "the job asks for 1001 MB of memory per node but the largest node has 1000");
  EXPECT_EQ(check_box_fits(*cluster, "", 2, 1, {33, 0}).message(),
            "the job asks for 2 nodes with 33 CPUs and 0 MB of memory each but the cluster has 1");
  EXPECT_EQ(check_box_fits(*cluster, "", 1, 5, {33, 0}).code(), Code::kOk)
      << "only h1 holds 5 GPUs, and it has 64 CPUs";
}

// The Engine applies the rule at submit: the job's record says what it runs with, and a job
// that no node could hold is refused, whether by what it asked or by its partition's default.
TEST(JobBoxTest, TheEngineKeepsTheBoxDecidedAtSubmit) {
  ClusterConfig c = two_nodes();
  c.partitions[0].box_defaults = {.cpus_per_gpu = 4, .mem_per_gpu_mb = 100};
  auto e = Engine::Create(c, kT0);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const OrgId org = (*e)->create_org("o", OrgKind::kUniversity, kT0)->id;
  JobRequest r;
  r.project = (*e)->create_project(org, "p", kT0)->id;
  r.gpus = 2;
  auto id = (*e)->submit(r, kT0);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ((*e)->job(*id)->cpus_per_node, 8);
  EXPECT_EQ((*e)->job(*id)->memory_per_node_mb, 200);
  r.box.mem_mb = 900;
  id = (*e)->submit(r, kT0);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ((*e)->job(*id)->memory_per_node_mb, 900);
  r.box.mem_mb = 2000;
  const Status st = (*e)->submit(r, kT0).status();
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "the job asks for 2000 MB of memory per node but the largest node has 1000");
  r.box.mem_mb = -5;
  EXPECT_NE((*e)->quote(r, kT0).status().message().find("'mem_mb'"), std::string::npos);
  r.box = {};
  EXPECT_EQ((*e)->jobs().size(), 2u);
  c.partitions[0].box_defaults.mem_per_gpu_mb = 126;
  EXPECT_FALSE(Engine::Create(c, kT0).ok()) << "h1 has 8 GPUs and 1000 MB";
}

}  // namespace
}  // namespace berth::core
