#include "core/scheduler.h"

namespace berth::core {

const Node* Scheduler::first_fit(const Cluster& cluster, const Job& job) {
  for (const Node& n : cluster.nodes()) {
    if (n.state != NodeState::kUp) continue;
    if (!job.gpu_model.empty() && n.gpu_model != job.gpu_model) continue;
    if (cluster.free_gpus(n.id) >= job.gpus) return &n;
  }
  return nullptr;
}

std::vector<JobId> Scheduler::pass(Cluster& cluster, const Lookup& lookup, const Admit& admit,
                                  const Wait& wait) {
  std::vector<JobId> started;
  bool blocked_by_resources = false;
  for (auto it = queue_.begin(); it != queue_.end();) {
    Job& job = lookup(it->id);
    PendingReason reason;
    const Node* node = cluster.used_gpus() < cluster.total_gpus() ? first_fit(cluster, job) : nullptr;
    if (node == nullptr) {
      reason = blocked_by_resources ? PendingReason::kPriority : PendingReason::kResources;
      blocked_by_resources = true;
    } else {
      reason = admit(job, *node);
    }
    if (reason == PendingReason::kNone) {
      started.push_back(job.id);
      it = queue_.erase(it);
    } else {
      wait(job, reason);
      ++it;
    }
  }
  return started;
}

}  // namespace berth::core
