#include "core/cluster.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <cstdint>

#include "common/strings.h"
#include "core/check.h"
#include "core/model_names.h"

namespace berth::core {

Result<Cluster> Cluster::Create(ClusterConfig config) {
  if (config.nodes.empty()) return Status::Invalid("the cluster has no nodes");
  if (config.partitions.empty()) return Status::Invalid("the cluster has no partitions");
  Cluster c;
  for (size_t i = 0; i < config.nodes.size(); ++i) {
    Node n = config.nodes[i];
    if (!n.id.valid()) n.id = NodeId(i + 1);
    if (n.id.value != i + 1) return Status::Invalid("node ids must be 1..n in order");
    if (n.name.empty()) return Status::Invalid("node " + std::to_string(i + 1) + " has no name");
    if (n.gpus < 0 || n.gpus > 64)
      return Status::Invalid("node " + n.name + ": gpus must be 0..64");
    if (c.node_by_name(n.name)) return Status::Invalid("node name " + n.name + " is used twice");
    c.nodes_.push_back(n);
    c.busy_mask_.push_back(0);
    c.total_gpus_ += n.gpus;
  }
  for (const GpuPrice& p : config.prices) {
    if (p.gpu_model.empty()) return Status::Invalid("a price has no gpu_model");
    if (p.per_gpu_hour_minor < 0)
      return Status::Invalid("price of " + p.gpu_model + " is negative");
    for (const GpuPrice& other : c.prices_)
      if (same_model_name(other.gpu_model, p.gpu_model))
        return Status::Invalid("gpu model " + p.gpu_model +
                               " is priced twice (model names match whatever their case)");
    c.prices_.push_back(p);
  }
  for (const Node& n : c.nodes_) {
    if (n.gpus > 0 && !c.price(n.gpu_model))
      return Status::Invalid("node " + n.name + ": gpu model '" + n.gpu_model + "' has no price");
  }
  bool have_default = false;
  for (size_t i = 0; i < config.partitions.size(); ++i) {
    const Partition& p = config.partitions[i];
    if (p.name.empty()) return Status::Invalid("a partition has no name");
    if (p.max_time_s <= 0)
      return Status::Invalid("partition " + p.name + ": max time must be positive");
    if (p.default_time_s <= 0 || p.default_time_s > p.max_time_s)
      return Status::Invalid("partition " + p.name + ": default time must be in 1..max time");
    if (c.partition(p.name)) return Status::Invalid("partition " + p.name + " is defined twice");
    BERTH_RETURN_IF_ERROR(check_box_defaults(p.name, p.box_defaults, c.nodes_));
    if (p.is_default) {
      if (have_default) return Status::Invalid("more than one default partition");
      have_default = true;
      c.default_partition_ = i;
    }
    c.partitions_.push_back(p);
  }
  if (!have_default) c.partitions_[0].is_default = true;
  for (const Node& n : c.nodes_) {
    if (n.cpus > 0)
      c.smallest_node_box_.cpus = std::min<int64_t>(c.smallest_node_box_.cpus, n.cpus);
    if (n.memory_mb > 0)
      c.smallest_node_box_.memory_mb = std::min(c.smallest_node_box_.memory_mb, n.memory_mb);
  }
  // Models, cheapest first (best fit prefers the cheaper of two equally good nodes).
  for (const Node& n : c.nodes_)
    if (c.model_index(n.gpu_model) < 0) c.models_.push_back(n.gpu_model);
  std::stable_sort(c.models_.begin(), c.models_.end(),
                   [&c](const std::string& a, const std::string& b) {
                     return c.price(a).value_or(0) < c.price(b).value_or(0);
                   });
  c.buckets_.resize(c.models_.size());
  c.free_by_model_.assign(c.models_.size(), 0);
  c.max_gpus_by_model_.assign(c.models_.size(), 0);
  for (const Node& n : c.nodes_) {
    const int m = c.model_index(n.gpu_model);
    c.node_model_.push_back(m);
    c.max_gpus_by_model_[static_cast<size_t>(m)] =
        std::max(c.max_gpus_by_model_[static_cast<size_t>(m)], n.gpus);
    c.max_gpus_ = std::max(c.max_gpus_, n.gpus);
    auto& b = c.buckets_[static_cast<size_t>(m)];
    if (b.size() < static_cast<size_t>(n.gpus) + 1) b.resize(static_cast<size_t>(n.gpus) + 1);
  }
  // Topology: one domain per (model, domain name), when any node names a domain.
  for (const Node& n : c.nodes_) c.topology_ = c.topology_ || !n.domain.empty();
  if (c.topology_) {
    std::vector<std::pair<int, std::string>> keys;
    c.model_domains_.resize(c.models_.size());
    for (size_t i = 0; i < c.nodes_.size(); ++i) {
      const std::pair<int, std::string> key{c.node_model_[i], c.nodes_[i].domain};
      size_t d = std::find(keys.begin(), keys.end(), key) - keys.begin();
      if (d == keys.size()) {
        keys.push_back(key);
        c.model_domains_[static_cast<size_t>(key.first)].push_back(static_cast<int>(d));
        c.domain_buckets_.emplace_back(c.buckets_[static_cast<size_t>(key.first)].size());
      }
      c.node_domain_.push_back(static_cast<int>(d));
    }
  }
  c.filed_free_.assign(c.nodes_.size(), -1);
  for (size_t i = 0; i < c.nodes_.size(); ++i) c.file(i);
  return c;
}

int Cluster::model_index(const std::string& gpu_model) const {
  for (size_t i = 0; i < models_.size(); ++i)
    if (models_[i] == gpu_model) return static_cast<int>(i);
  return -1;
}

void Cluster::file(size_t i) {
  if (nodes_[i].state != NodeState::kUp || nodes_[i].gpus == 0) return;
  const int f = nodes_[i].gpus - std::popcount(busy_mask_[i]);
  buckets_[static_cast<size_t>(node_model_[i])][static_cast<size_t>(f)].insert(
      static_cast<uint32_t>(i));
  if (topology_)
    domain_buckets_[static_cast<size_t>(node_domain_[i])][static_cast<size_t>(f)].insert(
        static_cast<uint32_t>(i));
  filed_free_[i] = f;
  free_by_model_[static_cast<size_t>(node_model_[i])] += f;
}

void Cluster::unfile(size_t i) {
  const int f = filed_free_[i];
  if (f < 0) return;
  buckets_[static_cast<size_t>(node_model_[i])][static_cast<size_t>(f)].erase(
      static_cast<uint32_t>(i));
  if (topology_)
    domain_buckets_[static_cast<size_t>(node_domain_[i])][static_cast<size_t>(f)].erase(
        static_cast<uint32_t>(i));
  filed_free_[i] = -1;
  free_by_model_[static_cast<size_t>(node_model_[i])] -= f;
}

NodeId Cluster::best_fit(int model, int gpus, const Skip& skip) const {
  const size_t first = model < 0 ? 0 : static_cast<size_t>(model);
  const size_t last = model < 0 ? models_.size() : first + 1;
  size_t most = 0;
  for (size_t m = first; m < last; ++m) most = std::max(most, buckets_[m].size());
  for (size_t f = static_cast<size_t>(std::max(gpus, 1)); f < most; ++f) {
    for (size_t m = first; m < last; ++m) {
      if (f >= buckets_[m].size()) continue;
      for (uint32_t n : buckets_[m][f]) {  // lowest node id first
        if (!skip.skips(n)) return NodeId(n + 1);
      }
    }
  }
  return NodeId();
}

bool Cluster::fits_now(int model, int nodes, int per_node) const {
  const size_t first = model < 0 ? 0 : static_cast<size_t>(model);
  const size_t last = model < 0 ? models_.size() : first + 1;
  for (size_t m = first; m < last; ++m) {
    size_t have = 0;
    for (size_t f = static_cast<size_t>(std::max(per_node, 1)); f < buckets_[m].size(); ++f) {
      have += buckets_[m][f].size();
      if (have >= static_cast<size_t>(nodes)) return true;
    }
  }
  return false;
}

bool Cluster::take(const std::set<uint32_t>* buckets, size_t levels, int per_node, int nodes,
                   const Skip& skip, std::vector<NodeId>* out) const {
  const size_t begin = out->size();
  for (size_t f = static_cast<size_t>(std::max(per_node, 1)); f < levels; ++f) {
    for (uint32_t n : buckets[f]) {
      if (skip.skips(n)) continue;
      out->push_back(NodeId(n + 1));
      if (out->size() - begin == static_cast<size_t>(nodes)) {
        std::sort(out->begin() + static_cast<std::ptrdiff_t>(begin), out->end());
        return true;
      }
    }
  }
  out->resize(begin);
  return false;
}

bool Cluster::place(int model, int nodes, int per_node, const Skip& skip,
                    std::vector<NodeId>* out) const {
  if (nodes == 1) {
    const NodeId n = best_fit(model, per_node, skip);
    if (n.valid()) out->push_back(n);
    return n.valid();
  }
  const size_t first = model < 0 ? 0 : static_cast<size_t>(model);
  const size_t last = model < 0 ? models_.size() : first + 1;
  for (size_t m = first; m < last; ++m) {
    const size_t levels = buckets_[m].size();
    if (topology_ && nodes > 1) {
      // Domains with enough nodes that have room (before reservations), fewest first.
      std::vector<std::pair<size_t, int>> domains;
      for (int d : model_domains_[m]) {
        size_t have = 0;
        const auto& b = domain_buckets_[static_cast<size_t>(d)];
        for (size_t f = static_cast<size_t>(std::max(per_node, 1)); f < levels; ++f)
          have += b[f].size();
        if (have >= static_cast<size_t>(nodes)) domains.push_back({have, d});
      }
      std::sort(domains.begin(), domains.end());
      for (const auto& [have, d] : domains)
        if (take(domain_buckets_[static_cast<size_t>(d)].data(), levels, per_node, nodes, skip,
                 out))
          return true;
    }
    if (take(buckets_[m].data(), levels, per_node, nodes, skip, out)) return true;
  }
  return false;
}

int Cluster::nodes_with(int model, int per_node) const {
  int count = 0;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if ((model < 0 || node_model_[i] == model) && nodes_[i].gpus >= per_node) ++count;
  return count;
}

const Node* Cluster::node(NodeId id) const {
  if (id.value == 0 || id.value > nodes_.size()) return nullptr;
  return &nodes_[id.value - 1];
}

const Node* Cluster::node_by_name(const std::string& name) const {
  for (const Node& n : nodes_)
    if (n.name == name) return &n;
  return nullptr;
}

const Partition* Cluster::partition(const std::string& name) const {
  if (name.empty()) return &partitions_[default_partition_];
  for (const Partition& p : partitions_)
    if (p.name == name) return &p;
  return nullptr;
}

const Partition& Cluster::default_partition() const { return partitions_[default_partition_]; }

std::optional<Minor> Cluster::price(const std::string& gpu_model) const {
  for (const GpuPrice& p : prices_)
    if (p.gpu_model == gpu_model) return p.per_gpu_hour_minor;
  return std::nullopt;
}

const std::vector<int>& Cluster::models_for(const std::string& constraint) const {
  static const std::vector<int> kAny{-1};
  if (constraint.empty()) return kAny;  // most jobs: no hashing
  auto [it, fresh] = constraints_.try_emplace(constraint);
  if (!fresh) return it->second;
  std::vector<int>& out = it->second;
  for (std::string_view name : split(constraint, '|')) {
    const int m = model_index(std::string(name));
    if (m < 0) {
      out.clear();
      return out;
    }
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  std::sort(out.begin(), out.end());  // model indices are in price order
  return out;
}

bool Cluster::has_model(const std::string& constraint) const {
  const std::vector<int>& models = models_for(constraint);
  if (models.empty()) return false;
  for (int m : models)
    if (m >= 0 && max_gpus_by_model_[static_cast<size_t>(m)] == 0) return false;
  return true;
}

int Cluster::max_gpus_per_node(const std::string& constraint) const {
  int most = 0;
  for (int m : models_for(constraint))
    most = std::max(most, m < 0 ? max_gpus_ : max_gpus_by_model_[static_cast<size_t>(m)]);
  return most;
}

int Cluster::gang_capacity(const std::string& constraint, int per_node) const {
  int most = 0;
  for (int m : models_for(constraint)) {
    if (m >= 0) {
      most = std::max(most, nodes_with(m, per_node));
    } else {
      for (int each = 0; each < model_count(); ++each)
        most = std::max(most, nodes_with(each, per_node));
    }
  }
  return most;
}

int Cluster::free_gpus(NodeId id) const {
  const Node* n = node(id);
  BERTH_CHECK(n != nullptr, "free_gpus of an unknown node");
  return n->gpus - std::popcount(busy_mask_[id.value - 1]);
}

std::vector<int> Cluster::allocate(NodeId id, int count) {
  BERTH_CHECK(free_gpus(id) >= count, "allocate more GPUs than free");
  unfile(id.value - 1);
  uint64_t& mask = busy_mask_[id.value - 1];
  std::vector<int> out;
  out.reserve(static_cast<size_t>(count));
  for (int g = 0; g < nodes_[id.value - 1].gpus && static_cast<int>(out.size()) < count; ++g) {
    if (!(mask >> g & 1u)) {
      mask |= uint64_t{1} << g;
      out.push_back(g);
    }
  }
  used_gpus_ += count;
  file(id.value - 1);
  return out;
}

void Cluster::release(NodeId id, const std::vector<int>& gpu_ids) {
  BERTH_CHECK(node(id) != nullptr, "release on an unknown node");
  unfile(id.value - 1);
  uint64_t& mask = busy_mask_[id.value - 1];
  for (int g : gpu_ids) {
    BERTH_CHECK(g >= 0 && g < 64 && (mask >> g & 1u), "release of a GPU not in use");
    mask &= ~(uint64_t{1} << g);
  }
  used_gpus_ -= static_cast<int>(gpu_ids.size());
  file(id.value - 1);
}

Status Cluster::reserve(NodeId id, const std::vector<int>& gpu_ids) {
  const Node* n = node(id);
  if (n == nullptr) return Status::NotFound("node " + std::to_string(id.value));
  uint64_t& mask = busy_mask_[id.value - 1];
  uint64_t want = 0;
  for (int g : gpu_ids) {
    if (g < 0 || g >= n->gpus)
      return Status::Invalid("GPU " + std::to_string(g) + " is not on node " + n->name);
    want |= uint64_t{1} << g;
  }
  if (mask & want) return Status::Conflict("GPU already in use on node " + n->name);
  unfile(id.value - 1);
  mask |= want;
  file(id.value - 1);
  used_gpus_ += static_cast<int>(gpu_ids.size());
  return Status::Ok();
}

void Cluster::set_state(NodeId id, NodeState state) {
  BERTH_CHECK(node(id) != nullptr, "set_state on an unknown node");
  unfile(id.value - 1);
  nodes_[id.value - 1].state = state;
  file(id.value - 1);
}

void Cluster::set_agent_record(NodeId id, const Node& from) {
  BERTH_CHECK(node(id) != nullptr, "set_agent_record on an unknown node");
  Node& n = nodes_[id.value - 1];
  n.agent_version = from.agent_version;
  n.address = from.address;
  n.isolation = from.isolation;
  n.last_heartbeat_ms = from.last_heartbeat_ms;
  n.state_reason = from.state_reason;
  n.silent_down = from.silent_down;
  n.state_before_silence = from.state_before_silence;
  n.reason_before_silence = from.reason_before_silence;
}

}  // namespace berth::core
