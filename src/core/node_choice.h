// A job's chosen nodes (Slurm's --nodelist / -w and --exclude / -x), from names to a NodeChoice
// the scheduler can apply, with every check a user needs to hear about at submit time.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "core/cluster.h"
#include "core/model.h"

namespace berth::core {

// At most this many names in either list: more would be a typo or a script gone wrong.
constexpr size_t kMaxChosenNodes = 1024;

// What a request asks: node names, as the cluster's config spells them.
struct NodeNames {
  std::vector<std::string> required;
  std::vector<std::string> excluded;
  bool empty() const { return required.empty() && excluded.empty(); }
};

// Checks the names against the cluster and the job's shape and returns them as ids, sorted.
// Refused, naming what is wrong: an unknown or repeated name, a node both required and excluded,
// required nodes fewer or more than the job's node count, a required node of a model the
// constraint rules out or with fewer than `per_node` GPUs, required nodes of different models
// (a gang never mixes models), and exclusions that leave too few suitable nodes.
Result<NodeChoice> resolve_node_choice(const Cluster& cluster, const NodeNames& names,
                                       const std::string& gpu_model, int nodes, int per_node);

// The node names of a choice, for views and the store ("" entries for ids the cluster lacks).
NodeNames node_choice_names(const Cluster& cluster, const NodeChoice& choice);

}  // namespace berth::core
