#include "core/scheduler.h"

#include <algorithm>
#include <climits>
#include <cstdint>

namespace berth::core {

namespace {

// Calls f(node, GPUs there) for each node a running job holds.
template <typename F>
void for_each_node(const Job& job, F f) {
  f(job.node, static_cast<int>(job.gpu_ids.size()));
  for (const Placement& p : job.more_nodes) f(p.node, static_cast<int>(p.gpu_ids.size()));
}

// Calls f(model) for each model a job may be placed on, cheapest first: those its constraint
// names, or -1 (any) for a single-node job without one; a gang without one tries each model
// in turn, as a gang never mixes models. Returns whether f returned true for any.
template <typename F>
bool for_each_model(const Cluster& cluster, const Job& job, F f) {
  bool any = false;
  for (int model : cluster.models_for(job.gpu_model)) {
    if (model >= 0 || job.nodes == 1 || cluster.model_count() == 1) {
      any = f(model >= 0 || job.nodes == 1 ? model : 0) || any;
    } else {
      for (int m = 0; m < cluster.model_count(); ++m) any = f(m) || any;
    }
  }
  return any;
}

}  // namespace

template <typename It>
bool Scheduler::gather(const Cluster& cluster, const Job& job, int model, It begin, It end, const ConstLookup& lookup,
                       const std::vector<int64_t>* reserved, int64_t* key, std::vector<NodeId>* out) const {
  const int per = job.gpus_per_node();
  const size_t need = static_cast<size_t>(job.nodes);
  const size_t count = cluster.nodes().size();
  freed_.resize(count, 0);
  counted_.resize(count, 0);
  out->clear();
  const NodeChoice* choice = job.node_choice.empty() ? nullptr : &job.node_choice;
  auto unusable = [reserved, choice](uint32_t n) {
    if (choice && !choice->allows(NodeId(n + 1))) return true;  // never usable by this job
    return reserved != nullptr && (*reserved)[n] != Cluster::kNotReserved;
  };
  cluster.for_each_with_room(model, per, [&](uint32_t n) {
    if (unusable(n)) return true;
    counted_[n] = 1;
    touched_.push_back(n);
    out->push_back(NodeId(n + 1));
    return out->size() < need;
  });
  bool found = out->size() >= need;
  if (found) *key = INT64_MIN;
  const std::string* model_name = model >= 0 ? &cluster.model_name(model) : nullptr;
  for (It it = begin; !found && it != end; ++it) {
    const Job& r = lookup(JobId(it->second));
    for_each_node(r, [&](NodeId node, int gpus) {
      const uint32_t n = static_cast<uint32_t>(node.value - 1);
      if (counted_[n] || unusable(n)) return;
      const Node& nd = cluster.nodes()[n];
      if (nd.state != NodeState::kUp || (model_name && nd.gpu_model != *model_name)) return;
      if (freed_[n] == 0) touched_.push_back(n);
      freed_[n] += gpus;
      if (cluster.free_gpus(node) + freed_[n] >= per) {
        counted_[n] = 1;
        out->push_back(node);
      }
    });
    if (out->size() >= need) {
      found = true;
      *key = it->first;
    }
  }
  for (uint32_t n : touched_) freed_[n] = counted_[n] = 0;
  touched_.clear();
  if (!found) return false;
  out->resize(need);
  std::sort(out->begin(), out->end());
  return true;
}

bool Scheduler::earliest_start(const Cluster& cluster, const Job& job, int64_t now_ms, const ConstLookup& lookup,
                               int64_t* at_ms, std::vector<NodeId>* nodes, const std::vector<int64_t>* reserved) const {
  std::vector<NodeId> best, candidate;
  int64_t best_key = INT64_MAX;
  const bool found = for_each_model(cluster, job, [&](int model) {
    int64_t key = 0;
    if (!gather(cluster, job, model, ends_.begin(), ends_.end(), lookup, reserved, &key, &candidate)) return false;
    if (key < best_key) {
      best_key = key;
      best.swap(candidate);
    }
    return true;
  });
  if (!found) return false;
  *at_ms = std::max(best_key, now_ms);
  if (nodes) nodes->swap(best);
  return true;
}

bool Scheduler::preempt_for(const Cluster& cluster, const Job& job, int64_t now_ms, const Lookup& lookup,
                            const Preempt& preempt, std::vector<NodeId>* nodes) {
  const ConstLookup const_lookup = [&lookup](JobId id) -> const Job& { return lookup(id); };
  // Who may be stopped, in the order they are: the youngest spot jobs first; then, for a job
  // not demoted itself, demoted jobs of no higher tier, the fewest GPUs first (stopping a large
  // job for a small one would leave most of its GPUs to jobs that need no preemption, and a
  // large job finds a whole node again only with difficulty), then the most attained. Jobs
  // that started less than preempt_exempt_s ago are left alone. Listed once a pass (nothing
  // starts running during one).
  if (!victims_listed_) {
    victims_listed_ = true;
    victims_.clear();
    for (auto it = spot_.rbegin(); it != spot_.rend(); ++it)
      if (!exempt(lookup(JobId(it->second)), now_ms)) victims_.push_back({0, it->second});
    spot_victims_ = victims_.size();
    for (auto it = requeueable_.rbegin(); it != requeueable_.rend(); ++it) {
      const Job& r = lookup(JobId(it->second));
      if (demoted(r, now_ms) && !exempt(r, now_ms)) victims_.push_back({victim_key(r, now_ms), it->second});
    }
    // High-tier jobs last: only a high-tier job may stop them.
    const auto high = std::stable_partition(victims_.begin() + static_cast<std::ptrdiff_t>(spot_victims_), victims_.end(),
                                            [&](const auto& v) { return lookup(JobId(v.second)).tier != Tier::kHigh; });
    low_victims_ = static_cast<size_t>(high - victims_.begin());
    std::stable_sort(victims_.begin() + static_cast<std::ptrdiff_t>(spot_victims_), high);
    std::stable_sort(high, victims_.end());
  }
  // Demoted jobs are victims only of jobs not demoted, of their tier or higher.
  size_t count = spot_victims_;
  if (job.tier != Tier::kSpot && !demoted(job, now_ms)) count = job.tier == Tier::kHigh ? victims_.size() : low_victims_;
  const auto end = victims_.begin() + static_cast<std::ptrdiff_t>(count);
  const auto begin = victims_.begin();
  if (begin == end) return false;
  int64_t key = 0;
  bool found = false;
  for_each_model(cluster, job, [&](int model) {  // the first model where stopping jobs makes room
    found = found || gather(cluster, job, model, begin, end, const_lookup, &reserved_, &key, nodes);
    return found;
  });
  if (!found) return false;
  // Stop jobs on those nodes, in that order, until each has room.
  const int per = job.gpus_per_node();
  int short_nodes = 0;
  for (NodeId n : *nodes) {
    freed_[n.value - 1] = per - cluster.free_gpus(n);  // GPUs still to free there
    touched_.push_back(static_cast<uint32_t>(n.value - 1));
    if (freed_[n.value - 1] > 0) ++short_nodes;
  }
  for (auto it = begin; it != end && short_nodes > 0; ++it) {
    Job& r = lookup(JobId(it->second));
    bool helps = false;
    for_each_node(r, [&](NodeId n, int) { helps = helps || freed_[n.value - 1] > 0; });
    if (!helps) continue;
    for_each_node(r, [&](NodeId n, int gpus) {
      int& short_by = freed_[n.value - 1];
      if (short_by > 0 && short_by - gpus <= 0) --short_nodes;
      short_by -= gpus;
    });
    if (!r.preempt_requested) preempt(r);
  }
  for (uint32_t n : touched_) freed_[n] = 0;
  touched_.clear();
  return true;
}

void Scheduler::reserve(const std::vector<NodeId>& nodes, int64_t from_ms) {
  for (NodeId n : nodes) {
    int64_t& from = reserved_[n.value - 1];
    if (from == Cluster::kNotReserved) reserved_nodes_.push_back(static_cast<uint32_t>(n.value - 1));
    from = std::min(from, from_ms);
  }
}

std::vector<JobId> Scheduler::pass(Cluster& cluster, int64_t now_ms, const Lookup& lookup, const Admit& admit,
                                   const Wait& wait, const Preempt& preempt, const Refusal& refusal) {
  const ConstLookup const_lookup = [&lookup](JobId id) -> const Job& { return lookup(id); };
  std::vector<JobId> started;
  reserved_.resize(cluster.nodes().size(), Cluster::kNotReserved);
  std::vector<NodeId> reserving;
  bool have_reservation = false;
  bool blocked = false;
  int after = 0;
  last_examined_ = 0;
  victims_listed_ = false;
  int no_victims_single = INT_MAX;
  std::pair<int, int> no_victims_gang = {INT_MAX, INT_MAX};  // (nodes, GPUs per node)
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (have_reservation && ++after > options_.depth) break;
    ++last_examined_;
    Job& job = lookup(it->id);
    const int per = job.gpus_per_node();
    placed_.clear();
    // A reserved node is usable by a job that is sure to end before its reservation begins.
    const Cluster::Skip skip{have_reservation ? &reserved_ : nullptr, now_ms + job.planned_s() * 1000,
                             job.node_choice.empty() ? nullptr : &job.node_choice};
    bool fits = false;
    for (int model : cluster.models_for(job.gpu_model)) {
      if (cluster.fits_now(model, job.nodes, per) && cluster.place(model, job.nodes, per, skip, &placed_)) {
        fits = true;
        break;
      }
    }
    if (fits) {
      const PendingReason reason = admit(job, placed_);
      if (reason == PendingReason::kNone) {
        started.push_back(job.id);
        it = queue_.erase(it);
        continue;
      }
      wait(job, reason, 0);
      ++it;
      continue;
    }
    // Only a job that would reserve nodes or preempt is asked (pricing every blocked job
    // would cost a pass over a long queue dearly); the others wait for Priority anyway.
    if (refusal && (!blocked || options_.conservative)) {
      if (const PendingReason reason = refusal(job); reason != PendingReason::kNone) {
        wait(job, reason, 0);
        ++it;
        continue;
      }
    }
    int64_t at_ms = 0;
    // Preemption that failed this pass fails again for a later normal job (not demoted) of any
    // model as large or larger, as reservations only grow: tracked by GPUs per node for
    // single-node jobs, by (nodes, GPUs per node) for gangs.
    const bool fresh = options_.demote_after_gpu_s > 0 && !demoted(job, now_ms);
    const bool plain = job.tier == Tier::kNormal && job.gpu_model.empty() && job.node_choice.empty() && fresh;
    bool may_preempt = options_.preemption && preempt && job.tier != Tier::kSpot && (!blocked || fresh);
    if (may_preempt && plain)
      may_preempt = job.nodes == 1 ? per < no_victims_single
                                   : job.nodes < no_victims_gang.first || per < no_victims_gang.second;
    if (may_preempt && blocked && refusal) {  // a later job is asked only now, before anything is stopped for it
      if (const PendingReason reason = refusal(job); reason != PendingReason::kNone) {
        wait(job, reason, 0);
        ++it;
        continue;
      }
    }
    const bool preempting = may_preempt && preempt_for(cluster, job, now_ms, lookup, preempt, &reserving);
    if (may_preempt && !preempting && plain) {
      if (job.nodes == 1) no_victims_single = std::min(no_victims_single, per);
      else if (job.nodes <= no_victims_gang.first && per <= no_victims_gang.second) no_victims_gang = {job.nodes, per};
    }
    if (preempting) {
      // Its nodes are held for it (nothing can end before "now") until the stopped jobs have gone.
      reserve(reserving, now_ms);
      have_reservation = true;
      wait(job, PendingReason::kResources, now_ms);
    } else if ((!blocked || options_.conservative) && options_.backfill &&
               earliest_start(cluster, job, now_ms, const_lookup, &at_ms, &reserving,
                              have_reservation ? &reserved_ : nullptr)) {
      reserve(reserving, at_ms);
      have_reservation = true;
      wait(job, blocked ? PendingReason::kPriority : PendingReason::kResources, at_ms);
    } else {
      wait(job, blocked ? PendingReason::kPriority : PendingReason::kResources, 0);
    }
    blocked = true;
    ++it;
    if (options_.strict) break;
  }
  for (uint32_t n : reserved_nodes_) reserved_[n] = Cluster::kNotReserved;
  reserved_nodes_.clear();
  return started;
}

}  // namespace berth::core
