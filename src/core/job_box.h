// A job's box: the CPUs and memory its cgroup allows on each of its nodes (issue 13). The one
// rule that turns what a job asked for, as Slurm's flags ask it, and its partition's defaults
// (Slurm's DefCpuPerGPU, DefMemPerCPU, DefMemPerGPU) into those two figures, and the checks
// that a partition's defaults and a job's box fit the nodes. Pure; the Engine applies it at
// submit, so that a job's record says what it runs with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth::core {

struct Node;
class Cluster;

// The most any one request or default may be (CPUs or MB): products of two stay in 64 bits.
inline constexpr int64_t kMaxBoxValue = 1'000'000'000;

// What a job asked for (0: not asked).
struct BoxRequest {
  int64_t mem_mb = 0;           // --mem: memory per node
  int64_t mem_per_cpu_mb = 0;   // --mem-per-cpu
  int64_t mem_per_gpu_mb = 0;   // --mem-per-gpu
  int64_t cpus_per_task = 0;    // --cpus-per-task
  int64_t cpus_per_gpu = 0;     // --cpus-per-gpu
  int64_t ntasks = 0;           // --ntasks, over all its nodes
  int64_t ntasks_per_node = 0;  // --ntasks-per-node
  bool operator==(const BoxRequest&) const = default;
};

// What a partition gives a job that asked for none (0: nothing, no limit). At most one of
// the two memory defaults is set, as in Slurm.
struct BoxDefaults {
  int64_t cpus_per_gpu = 0;    // default_cpus_per_gpu
  int64_t mem_per_cpu_mb = 0;  // default_mem_per_cpu_mb
  int64_t mem_per_gpu_mb = 0;  // default_mem_per_gpu_mb
  bool operator==(const BoxDefaults&) const = default;
};

// On each of the job's nodes; 0: no limit.
struct JobBox {
  int64_t cpus = 0;
  int64_t memory_mb = 0;
  bool operator==(const JobBox&) const = default;
};

// The rule, as Slurm reads the flags: CPUs are CPUs per task × the tasks on a node (one task
// per node unless asked), else CPUs per GPU × its GPUs there, else the partition's CPUs per
// GPU; memory is --mem, else per CPU × those CPUs (× tasks when no CPUs), else per GPU × its
// GPUs, else the partition's per GPU, else the partition's per CPU. A product beyond
// kMaxBoxValue × kMaxBoxValue is capped there (it fits no node). `nodes` and `gpus_per_node`
// are at least 1.
JobBox job_box(const BoxRequest& asked, int nodes, int gpus_per_node, const BoxDefaults& defaults);

// Each value 0 to kMaxBoxValue; an error naming the field ('mem_mb') otherwise.
Status check_box_request(const BoxRequest& asked);

// A partition's defaults against the nodes it may use: each 0 to kMaxBoxValue, not both memory
// defaults, and what they give a job fits each node whose CPUs and memory are configured
// (CPUs per GPU × its GPUs, memory per GPU × its GPUs, memory per CPU × its CPUs). An error
// names the partition, the key and the node.
Status check_box_defaults(const std::string& partition, const BoxDefaults& defaults,
                          const std::vector<Node>& nodes);

// Whether `nodes` nodes that could hold the job's GPUs (of a model the constraint allows, with
// gpus_per_node GPUs) also hold its box (a node whose CPUs or memory are not configured, 0,
// holds any); an invalid-argument error saying what is too large otherwise.
Status check_box_fits(const Cluster& cluster, const std::string& gpu_model, int nodes,
                      int gpus_per_node, const JobBox& box);

}  // namespace berth::core
