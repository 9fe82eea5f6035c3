#include "core/scheduler.h"

#include <algorithm>
#include <cstdint>

namespace berth::core {


bool Scheduler::earliest_start(const Cluster& cluster, const Job& job, int64_t now_ms, const ConstLookup& lookup,
                               int64_t* at_ms, NodeId* node) const {
  const int model = cluster.model_index(job.gpu_model);
  if (cluster.fits_now(model, job.gpus)) {
    *at_ms = now_ms;
    if (node) *node = cluster.best_fit(model, job.gpus, nullptr);
    return true;
  }
  freed_.resize(cluster.nodes().size(), 0);
  bool found = false;
  for (const auto& [end_ms, id] : ends_) {
    const Job& r = lookup(JobId(id));
    const size_t n = r.node.value - 1;
    const Node& nd = cluster.nodes()[n];
    if (nd.state != NodeState::kUp) continue;
    if (model >= 0 && nd.gpu_model != job.gpu_model) continue;
    if (freed_[n] == 0) touched_.push_back(static_cast<uint32_t>(n));
    freed_[n] += r.gpus;
    if (cluster.free_gpus(r.node) + freed_[n] >= job.gpus) {
      if (node) *node = r.node;
      *at_ms = std::max(end_ms, now_ms);
      found = true;
      break;
    }
  }
  for (uint32_t n : touched_) freed_[n] = 0;
  touched_.clear();
  return found;
}

bool Scheduler::preempt_for(const Cluster& cluster, const Job& job, const Lookup& lookup, const Preempt& preempt,
                            NodeId* node) {
  freed_.resize(cluster.nodes().size(), 0);
  size_t chosen = SIZE_MAX;
  for (auto it = spot_.rbegin(); it != spot_.rend(); ++it) {  // youngest first
    const Job& r = lookup(JobId(it->second));
    const size_t n = r.node.value - 1;
    const Node& nd = cluster.nodes()[n];
    if (nd.state != NodeState::kUp || (!job.gpu_model.empty() && nd.gpu_model != job.gpu_model)) continue;
    if (freed_[n] == 0) touched_.push_back(static_cast<uint32_t>(n));
    freed_[n] += r.gpus;
    if (cluster.free_gpus(r.node) + freed_[n] >= job.gpus) {
      chosen = n;
      break;
    }
  }
  for (uint32_t n : touched_) freed_[n] = 0;
  touched_.clear();
  if (chosen == SIZE_MAX) return false;
  *node = NodeId(chosen + 1);
  int need = job.gpus - cluster.free_gpus(*node);
  for (auto it = spot_.rbegin(); it != spot_.rend() && need > 0; ++it) {
    Job& r = lookup(JobId(it->second));
    if (r.node != *node) continue;
    need -= r.gpus;
    if (!r.preempt_requested) preempt(r);
  }
  return true;
}

std::vector<JobId> Scheduler::pass(Cluster& cluster, int64_t now_ms, const Lookup& lookup, const Admit& admit,
                                   const Wait& wait, const Preempt& preempt) {
  std::vector<JobId> started;
  reserved_.resize(cluster.nodes().size(), 0);
  NodeId reserved_node;
  int64_t shadow_ms = 0;
  bool have_reservation = false;
  bool blocked = false;
  int after = 0;
  last_examined_ = 0;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (have_reservation && ++after > depth_) break;
    ++last_examined_;
    Job& job = lookup(it->id);
    const int model = cluster.model_index(job.gpu_model);
    NodeId node;
    if (cluster.fits_now(model, job.gpus)) {
      node = cluster.best_fit(model, job.gpus, have_reservation ? &reserved_ : nullptr);
      // The reserved node is usable by a job that is sure to end before the reservation.
      if (!node.valid() && have_reservation && now_ms + job.time_limit_s * 1000 <= shadow_ms)
        node = cluster.best_fit(model, job.gpus, nullptr);
    }
    if (node.valid()) {
      const PendingReason reason = admit(job, *cluster.node(node));
      if (reason == PendingReason::kNone) {
        started.push_back(job.id);
        it = queue_.erase(it);
        continue;
      }
      wait(job, reason, 0);
      ++it;
      continue;
    }
    if (!blocked && preemption_ && preempt && job.tier != Tier::kSpot &&
        preempt_for(cluster, job, lookup, preempt, &reserved_node)) {
      // Its node is held for it (nothing can end before "now") until the spot jobs have gone.
      shadow_ms = now_ms;
      reserved_[reserved_node.value - 1] = 1;
      have_reservation = true;
      wait(job, PendingReason::kResources, now_ms);
    } else if (!blocked && backfill_ &&
               earliest_start(cluster, job, now_ms, [&lookup](JobId id) -> const Job& { return lookup(id); },
                              &shadow_ms, &reserved_node)) {
      reserved_[reserved_node.value - 1] = 1;
      have_reservation = true;
      wait(job, PendingReason::kResources, shadow_ms);
    } else {
      wait(job, blocked ? PendingReason::kPriority : PendingReason::kResources, 0);
    }
    blocked = true;
    ++it;
  }
  if (have_reservation) reserved_[reserved_node.value - 1] = 0;
  return started;
}

}  // namespace berth::core
