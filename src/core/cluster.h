// The cluster: nodes with GPUs of one model, the price list, partitions, and which
// GPUs are in use. Pure bookkeeping; the scheduler decides, the cluster records.
#pragma once

#include <algorithm>
#include <climits>
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
  std::vector<Node> nodes;            // ids are assigned 1..n in this order when 0
  std::vector<GpuPrice> prices;       // one per GPU model used by a node
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
  // A job's GPU model constraint is one model ("H100"), several that will all do, as Slurm's
  // --constraint "H100|A100", or "" for any. has_model: every model named has GPUs here.
  bool has_model(const std::string& constraint) const;
  // The model indices a constraint allows, cheapest first; {-1} for any; {} when it names a
  // model the cluster does not have. Cached: O(1) after a constraint's first use.
  const std::vector<int>& models_for(const std::string& constraint) const;
  // Largest GPU count on one node the constraint allows, counting every node (a node that is
  // down may come back).
  int max_gpus_per_node(const std::string& constraint) const;

  // The CPUs and memory of the smallest node (INT64_MAX where no node's are configured): a
  // job's box within it fits on every node (core/job_box.h).
  const JobBox& smallest_node_box() const { return smallest_node_box_; }

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
  // Copies what a node's agent said and why the node is in its state (agent_version, address,
  // isolation, last_heartbeat_ms, state_reason, silent_down and the state and reason before
  // its silence) from `from`. The scheduler reads
  // none of these, so nothing else changes.
  void set_agent_record(NodeId id, const Node& from);

  // The free-capacity index, for placement in O(GPUs per node) rather than O(nodes).
  // Models are numbered 0..model_count()-1; -1 means "any model".
  int model_count() const { return static_cast<int>(models_.size()); }
  int model_index(const std::string& gpu_model) const;  // -1 when "" or unknown
  const std::string& model_name(int index) const { return models_[static_cast<size_t>(index)]; }
  // Whether some up node of the model (or any) has `gpus` free, ignoring reservations.
  bool fits_now(int model, int gpus) const { return fits_now(model, 1, gpus); }

  // Nodes held back for jobs ahead in the queue: node index -> the time its reservation
  // begins (kNotReserved: none). A job ending at `end_ms` may use a node whose reservation
  // begins no earlier than that.
  static constexpr int64_t kNotReserved = INT64_MAX;
  // A node is skipped when held back for a job ahead, or when the job's user chose other nodes.
  struct Skip {
    const std::vector<int64_t>* reserved_from_ms = nullptr;
    int64_t end_ms = 0;
    const NodeChoice* choice = nullptr;  // the job's chosen nodes; null when it chose none
    bool skips(uint32_t node) const {
      if (reserved_from_ms != nullptr && (*reserved_from_ms)[node] < end_ms) return true;
      return choice != nullptr && !choice->allows(NodeId(node + 1));
    }
  };
  // Whether `nodes` up nodes of one model (the given one, or any when -1) each have
  // `per_node` GPUs free, ignoring reservations.
  bool fits_now(int model, int nodes, int per_node) const;
  // Chooses `nodes` up nodes of one model, each with `per_node` free GPUs, that `skip` does
  // not hold back; appends them to `out` in node order and returns true, or returns false.
  // Best fit: the nodes with the fewest free GPUs that still suffice, the cheaper model
  // first, then the lower node id. With a topology (nodes with domains), a gang is kept in
  // one domain where one has room: the domain with the fewest suitable nodes, so large
  // domains stay whole for large gangs; otherwise it spans domains.
  bool place(int model, int nodes, int per_node, const Skip& skip, std::vector<NodeId>* out) const;
  // Best fit for one node: an up node of the model (or any model when -1) with the fewest
  // free GPUs that still holds `gpus`, not held back by `skip`. Among equals, the cheaper
  // model first, then the lower node id. Invalid NodeId if none.
  NodeId best_fit(int model, int gpus, const Skip& skip) const;
  NodeId best_fit(int model, int gpus) const { return best_fit(model, gpus, Skip{}); }
  // Calls visit(node index) for up nodes of the model (any when -1) with at least `per_node`
  // free GPUs, fewest free first, until visit returns false.
  template <typename F>
  void for_each_with_room(int model, int per_node, F visit) const {
    const size_t first = model < 0 ? 0 : static_cast<size_t>(model);
    const size_t last = model < 0 ? models_.size() : first + 1;
    for (size_t m = first; m < last; ++m)
      for (size_t f = static_cast<size_t>(std::max(per_node, 1)); f < buckets_[m].size(); ++f)
        for (uint32_t n : buckets_[m][f])
          if (!visit(n)) return;
  }
  // Nodes of the model (any when -1) with at least `per_node` GPUs, whatever their state
  // (a node that is down may come back). O(nodes).
  int nodes_with(int model, int per_node) const;
  // The most nodes of any one model the constraint allows with at least `per_node` GPUs: how
  // large a gang could ever be placed. O(nodes).
  int gang_capacity(const std::string& constraint, int per_node) const;
  bool has_topology() const { return topology_; }
  int free_gpus_of_model(int model) const { return free_by_model_[static_cast<size_t>(model)]; }

 private:
  void file(size_t node);    // put an up node in the bucket of its free count
  void unfile(size_t node);  // take it out
  std::vector<Node> nodes_;
  std::vector<uint64_t> busy_mask_;  // per node, bit i = GPU i in use
  std::vector<GpuPrice> prices_;
  std::vector<Partition> partitions_;
  std::vector<std::string> models_;  // by index, cheapest first
  std::vector<int> node_model_;      // node index -> model index
  // Topology: domains are (model, domain name) pairs; kept only when some node has one.
  bool topology_ = false;
  std::vector<int> node_domain_;                                 // node index -> domain
  std::vector<std::vector<int>> model_domains_;                  // model -> its domains
  std::vector<std::vector<std::set<uint32_t>>> domain_buckets_;  // [domain][free] -> nodes
  bool take(const std::set<uint32_t>* buckets, size_t levels, int per_node, int nodes,
            const Skip& skip, std::vector<NodeId>* out) const;
  std::vector<std::vector<std::set<uint32_t>>> buckets_;  // [model][free] -> node indices
  std::vector<int> filed_free_;         // node index -> bucket it is in, -1 if none
  std::vector<int> free_by_model_;      // free GPUs on up nodes, per model
  std::vector<int> max_gpus_by_model_;  // largest node of each model
  int max_gpus_ = 0;                    // largest node of any model
  size_t default_partition_ = 0;
  JobBox smallest_node_box_{INT64_MAX, INT64_MAX};
  mutable std::unordered_map<std::string, std::vector<int>> constraints_;  // models_for's cache
  int total_gpus_ = 0;
  int used_gpus_ = 0;
};

}  // namespace berth::core
