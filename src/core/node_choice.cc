#include "core/node_choice.h"

#include <algorithm>

namespace berth::core {
namespace {

Result<std::vector<NodeId>> ids_of(const Cluster& cluster, const std::vector<std::string>& names,
                                   const char* flag) {
  if (names.size() > kMaxChosenNodes)
    return Status::Invalid(std::string(flag) + " names " + std::to_string(names.size()) +
                           " nodes; the limit is " + std::to_string(kMaxChosenNodes));
  std::vector<NodeId> ids;
  ids.reserve(names.size());
  for (const std::string& name : names) {
    const Node* n = cluster.node_by_name(name);
    if (!n) return Status::Invalid(std::string(flag) + ": no node is named '" + name + "'");
    ids.push_back(n->id);
  }
  std::sort(ids.begin(), ids.end());
  if (auto dup = std::adjacent_find(ids.begin(), ids.end()); dup != ids.end())
    return Status::Invalid(std::string(flag) + " names node " + cluster.node(*dup)->name +
                           " twice");
  return ids;
}

bool model_allowed(const Cluster& cluster, const std::vector<int>& models, const Node& n) {
  if (models.size() == 1 && models[0] < 0) return true;
  return std::find(models.begin(), models.end(), cluster.model_index(n.gpu_model)) != models.end();
}

Status check_required(const Cluster& cluster, const std::vector<NodeId>& required,
                      const std::vector<int>& models, const std::string& gpu_model, int nodes,
                      int per_node) {
  if (static_cast<int>(required.size()) != nodes)
    return Status::Invalid("a job runs on exactly the nodes --nodelist names: it names " +
                           std::to_string(required.size()) + " but the job asks for " +
                           std::to_string(nodes) + (nodes == 1 ? " node" : " nodes") +
                           " (--nodes)");
  const Node& first = *cluster.node(required.front());
  for (NodeId id : required) {
    const Node& n = *cluster.node(id);
    if (!model_allowed(cluster, models, n))
      return Status::Invalid("--nodelist: node " + n.name + " has " + n.gpu_model +
                             " GPUs, which the job's constraint '" + gpu_model + "' rules out");
    if (n.gpus < per_node)
      return Status::Invalid("--nodelist: node " + n.name + " has " + std::to_string(n.gpus) +
                             " GPUs; the job asks for " + std::to_string(per_node) + " per node");
    if (n.gpu_model != first.gpu_model)
      return Status::Invalid("--nodelist: nodes " + first.name + " (" + first.gpu_model + ") and " +
                             n.name + " (" + n.gpu_model +
                             ") have different GPU models; a job's nodes are all of one model");
  }
  return Status::Ok();
}

}  // namespace

Result<NodeChoice> resolve_node_choice(const Cluster& cluster, const NodeNames& names,
                                       const std::string& gpu_model, int nodes, int per_node) {
  NodeChoice choice;
  if (names.empty()) return choice;
  BERTH_ASSIGN_OR_RETURN(std::vector<NodeId> required,
                         ids_of(cluster, names.required, "--nodelist"));
  BERTH_ASSIGN_OR_RETURN(std::vector<NodeId> excluded,
                         ids_of(cluster, names.excluded, "--exclude"));
  choice.required = std::move(required);
  choice.excluded = std::move(excluded);
  for (NodeId id : choice.required)
    if (std::binary_search(choice.excluded.begin(), choice.excluded.end(), id))
      return Status::Invalid("node " + cluster.node(id)->name +
                             " is both required (--nodelist) and excluded (--exclude)");
  const std::vector<int>& models = cluster.models_for(gpu_model);
  if (!choice.required.empty()) {
    BERTH_RETURN_IF_ERROR(
        check_required(cluster, choice.required, models, gpu_model, nodes, per_node));
    return choice;
  }
  // Exclusions only: enough suitable nodes must be left, of one model for a gang.
  int most = 0;
  for (int m = 0; m < cluster.model_count(); ++m) {
    int left = 0;
    for (const Node& n : cluster.nodes())
      if (cluster.model_index(n.gpu_model) == m && model_allowed(cluster, models, n) &&
          n.gpus >= per_node && choice.allows(n.id))
        ++left;
    most = nodes == 1 ? most + left : std::max(most, left);
  }
  if (most < nodes)
    return Status::Invalid("--exclude leaves " + std::to_string(most) + " suitable " +
                           (most == 1 ? "node" : "nodes") + " for a job that needs " +
                           std::to_string(nodes) + (nodes == 1 ? " node" : " nodes") + " with " +
                           std::to_string(per_node) + " GPUs");
  return choice;
}

NodeNames node_choice_names(const Cluster& cluster, const NodeChoice& choice) {
  NodeNames names;
  auto name_of = [&cluster](NodeId id) {
    const Node* n = cluster.node(id);
    return n ? n->name : std::string();
  };
  for (NodeId id : choice.required) names.required.push_back(name_of(id));
  for (NodeId id : choice.excluded) names.excluded.push_back(name_of(id));
  return names;
}

}  // namespace berth::core
