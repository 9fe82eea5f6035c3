// The cluster: nodes with GPUs of one model, the price list, partitions, and which
// GPUs are in use. Pure bookkeeping; the scheduler decides, the cluster records.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
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
  // Largest GPU count on one node of the model ("" = any model), counting every node (a node
  // that is down may come back).
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

  // The free-capacity index, for placement in O(GPUs per node) rather than O(nodes).
  // Models are numbered 0..model_count()-1; -1 means "any model".
  int model_count() const { return static_cast<int>(models_.size()); }
  int model_index(const std::string& gpu_model) const;  // -1 when "" or unknown
  const std::string& model_name(int index) const { return models_[static_cast<size_t>(index)]; }
  // Best fit: an up node of the model (or any model when -1) with the fewest free GPUs that
  // still holds `gpus`, skipping nodes whose flag in `skip` is set (skip may be null).
  // Among equals, the cheaper model first, then the lower node id. Invalid NodeId if none.
  NodeId best_fit(int model, int gpus, const std::vector<char>* skip) const;
  // Up nodes of the model (or any) with at least `gpus` free, ignoring `skip`: 0 means
  // nothing fits now.
  bool fits_now(int model, int gpus) const;
  int free_gpus_of_model(int model) const { return free_by_model_[static_cast<size_t>(model)]; }

 private:
  void file(size_t node);    // put an up node in the bucket of its free count
  void unfile(size_t node);  // take it out
  std::vector<Node> nodes_;
  std::vector<uint64_t> busy_mask_;  // per node, bit i = GPU i in use
  std::vector<GpuPrice> prices_;
  std::vector<Partition> partitions_;
  std::vector<std::string> models_;              // by index, cheapest first
  std::vector<int> node_model_;                  // node index -> model index
  std::vector<std::vector<std::set<uint32_t>>> buckets_;  // [model][free] -> node indices
  std::vector<int> filed_free_;                  // node index -> bucket it is in, -1 if none
  std::vector<int> free_by_model_;               // free GPUs on up nodes, per model
  std::vector<int> max_gpus_by_model_;           // largest node of each model
  int max_gpus_ = 0;                             // largest node of any model
  size_t default_partition_ = 0;
  int total_gpus_ = 0;
  int used_gpus_ = 0;
};

}  // namespace berth::core
