// Decisions job_box.h leaves open:
// - A request or default of 0 is "not asked", as everywhere in berth's numbers of resources:
//   Slurm's --mem=0 (all of the node's memory) is not supported.
// - The partition's memory per GPU wins over its memory per CPU only because both cannot be
//   set (check_box_defaults); the job's own request always wins over either.
// - Products are capped rather than refused here: a capped box fits no configured node, and
//   check_box_fits says so in the user's terms.
#include "core/job_box.h"

#include <algorithm>

#include "core/cluster.h"

namespace berth::core {

namespace {

int64_t product(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out) || out > kMaxBoxValue * kMaxBoxValue)
    return kMaxBoxValue * kMaxBoxValue;
  return out;
}

bool allows(const Cluster& cluster, const std::vector<int>& models, const Node& n) {
  if (models.size() == 1 && models[0] < 0) return true;
  return std::find(models.begin(), models.end(), cluster.model_index(n.gpu_model)) != models.end();
}

// "more than node gpu-node-01's memory_mb 2000000" and the like, for check_box_defaults.
Status too_much(const std::string& partition, const char* key, int64_t value, const char* per,
                int64_t count, const Node& n, const char* node_key, int64_t node_value) {
  return Status::Invalid("partition " + partition + ": " + key + " " + std::to_string(value) +
                         " x node " + n.name + "'s " + std::to_string(count) + " " + per +
                         " is more than its " + node_key + " " + std::to_string(node_value));
}

}  // namespace

JobBox job_box(const BoxRequest& asked, int nodes, int gpus_per_node, const BoxDefaults& defaults) {
  const int64_t node_count = std::max(nodes, 1);
  const int64_t gpus = std::max(gpus_per_node, 1);
  int64_t tasks = asked.ntasks_per_node;
  if (tasks <= 0) tasks = asked.ntasks > 0 ? (asked.ntasks + node_count - 1) / node_count : 1;
  JobBox box;
  if (asked.cpus_per_task > 0)
    box.cpus = product(asked.cpus_per_task, tasks);
  else if (asked.cpus_per_gpu > 0)
    box.cpus = product(asked.cpus_per_gpu, gpus);
  else
    box.cpus = product(defaults.cpus_per_gpu, gpus);
  const int64_t cpus_or_tasks = box.cpus > 0 ? box.cpus : tasks;
  if (asked.mem_mb > 0)
    box.memory_mb = asked.mem_mb;
  else if (asked.mem_per_cpu_mb > 0)
    box.memory_mb = product(asked.mem_per_cpu_mb, cpus_or_tasks);
  else if (asked.mem_per_gpu_mb > 0)
    box.memory_mb = product(asked.mem_per_gpu_mb, gpus);
  else if (defaults.mem_per_gpu_mb > 0)
    box.memory_mb = product(defaults.mem_per_gpu_mb, gpus);
  else
    box.memory_mb = product(defaults.mem_per_cpu_mb, cpus_or_tasks);
  return box;
}

Status check_box_request(const BoxRequest& a) {
  const std::pair<const char*, int64_t> fields[] = {{"mem_mb", a.mem_mb},
                                                    {"mem_per_cpu_mb", a.mem_per_cpu_mb},
                                                    {"mem_per_gpu_mb", a.mem_per_gpu_mb},
                                                    {"cpus_per_task", a.cpus_per_task},
                                                    {"cpus_per_gpu", a.cpus_per_gpu},
                                                    {"ntasks", a.ntasks},
                                                    {"ntasks_per_node", a.ntasks_per_node}};
  for (const auto& [name, value] : fields)
    if (value < 0 || value > kMaxBoxValue)
      return Status::Invalid(std::string("resource '") + name + "' must be 0 to " +
                             std::to_string(kMaxBoxValue) + ", got " + std::to_string(value));
  return Status::Ok();
}

Status check_box_defaults(const std::string& partition, const BoxDefaults& d,
                          const std::vector<Node>& nodes) {
  const std::pair<const char*, int64_t> keys[] = {{"default_cpus_per_gpu", d.cpus_per_gpu},
                                                  {"default_mem_per_cpu_mb", d.mem_per_cpu_mb},
                                                  {"default_mem_per_gpu_mb", d.mem_per_gpu_mb}};
  for (const auto& [key, value] : keys)
    if (value < 0 || value > kMaxBoxValue)
      return Status::Invalid("partition " + partition + ": " + key + " must be 0 to " +
                             std::to_string(kMaxBoxValue) + ", got " + std::to_string(value));
  if (d.mem_per_cpu_mb > 0 && d.mem_per_gpu_mb > 0)
    return Status::Invalid("partition " + partition +
                           ": set default_mem_per_cpu_mb or default_mem_per_gpu_mb, not both");
  for (const Node& n : nodes) {
    if (n.cpus > 0 && d.cpus_per_gpu * n.gpus > n.cpus)
      return too_much(partition, "default_cpus_per_gpu", d.cpus_per_gpu, "GPUs", n.gpus, n, "cpus",
                      n.cpus);
    if (n.memory_mb <= 0) continue;
    if (d.mem_per_gpu_mb * n.gpus > n.memory_mb)
      return too_much(partition, "default_mem_per_gpu_mb", d.mem_per_gpu_mb, "GPUs", n.gpus, n,
                      "memory_mb", n.memory_mb);
    if (n.cpus > 0 && d.mem_per_cpu_mb * n.cpus > n.memory_mb)
      return too_much(partition, "default_mem_per_cpu_mb", d.mem_per_cpu_mb, "CPUs", n.cpus, n,
                      "memory_mb", n.memory_mb);
  }
  return Status::Ok();
}

Status check_box_fits(const Cluster& cluster, const std::string& gpu_model, int nodes,
                      int gpus_per_node, const JobBox& box) {
  // O(1) for most jobs: a box that fits the smallest node fits every node that holds its GPUs.
  const JobBox& smallest = cluster.smallest_node_box();
  if (box.cpus <= smallest.cpus && box.memory_mb <= smallest.memory_mb) return Status::Ok();
  const std::vector<int>& models = cluster.models_for(gpu_model);
  int64_t most_cpus = 0;
  int64_t most_memory_mb = 0;
  int holding = 0;
  for (const Node& n : cluster.nodes()) {
    if (n.gpus < gpus_per_node || !allows(cluster, models, n)) continue;
    const int64_t cpus = n.cpus > 0 ? n.cpus : INT64_MAX;
    const int64_t memory_mb = n.memory_mb > 0 ? n.memory_mb : INT64_MAX;
    most_cpus = std::max(most_cpus, cpus);
    most_memory_mb = std::max(most_memory_mb, memory_mb);
    if (box.cpus <= cpus && box.memory_mb <= memory_mb) ++holding;
  }
  if (holding >= nodes) return Status::Ok();
  const std::string of_model = gpu_model.empty() ? "" : " of model " + gpu_model;
  if (box.cpus > most_cpus)
    return Status::Invalid("the job asks for " + std::to_string(box.cpus) +
                           " CPUs per node but the largest node" + of_model + " has " +
                           std::to_string(most_cpus));
  if (box.memory_mb > most_memory_mb)
    return Status::Invalid("the job asks for " + std::to_string(box.memory_mb) +
                           " MB of memory per node but the largest node" + of_model + " has " +
                           std::to_string(most_memory_mb));
  return Status::Invalid("the job asks for " + std::to_string(nodes) + " nodes with " +
                         std::to_string(box.cpus) + " CPUs and " + std::to_string(box.memory_mb) +
                         " MB of memory each but the cluster has " + std::to_string(holding) +
                         of_model);
}

}  // namespace berth::core
