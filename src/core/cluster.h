// The cluster: nodes with GPUs of one model, the price list, partitions, and which
// GPUs are in use. Pure bookkeeping; the scheduler decides, the cluster records.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "core/model.h"

namespace berth::core {

struct ClusterConfig {
  std::vector<Node> nodes;          // ids are assigned 1..n in this order when 0
  std::vector<GpuPrice> prices;     // one per GPU model used by a node
  std::vector<Partition> partitions;  // at least one; exactly one is_default (the first if none)
};

class Cluster {
 public:
  static Result<Cluster> Create(ClusterConfig config);

  const std::vector<Node>& nodes() const { return nodes_; }
  const Node* node(NodeId id) const;
  const Node* node_by_name(const std::string& name) const;
  const std::vector<Partition>& partitions() const { return partitions_; }
  const Partition* partition(const std::string& name) const;  // "" = the default
  const Partition& default_partition() const;
  // Price per GPU-hour of a model, or nullopt when the model is not priced.
  std::optional<Minor> price(const std::string& gpu_model) const;
  const std::vector<GpuPrice>& prices() const { return prices_; }
  bool has_model(const std::string& gpu_model) const;
  // Largest GPU count on one node of the model ("" = any model), counting nodes not down.
  int max_gpus_per_node(const std::string& gpu_model) const;

  int free_gpus(NodeId id) const;
  int total_gpus() const { return total_gpus_; }
  int used_gpus() const { return used_gpus_; }
  // Takes `count` free GPUs on the node (lowest indices first). The caller checked they are free.
  std::vector<int> allocate(NodeId id, int count);
  // Gives GPUs back. Aborts if one was not allocated: a bookkeeping bug.
  void release(NodeId id, const std::vector<int>& gpu_ids);
  // Marks specific GPUs in use (restoring running jobs). Fails if one is taken or out of range.
  Status reserve(NodeId id, const std::vector<int>& gpu_ids);
  void set_state(NodeId id, NodeState state);

 private:
  std::vector<Node> nodes_;
  std::vector<uint64_t> busy_mask_;  // per node, bit i = GPU i in use
  std::vector<GpuPrice> prices_;
  std::vector<Partition> partitions_;
  size_t default_partition_ = 0;
  int total_gpus_ = 0;
  int used_gpus_ = 0;
};

}  // namespace berth::core
