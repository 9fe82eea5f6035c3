// The scheduler: the order in which pending jobs are considered and where each fits.
//
// This first scheduler orders by tier (high, normal, spot) then submit time, and places
// each job first-fit on one node that is up, has the job's GPU model and enough free GPUs.
// It does not block behind a job that cannot start (no reservations yet). Whether a job
// that fits may start (money, award caps) is the Admission's decision, made by the Engine.
#pragma once

#include <functional>
#include <set>
#include <vector>

#include "core/cluster.h"
#include "core/model.h"

namespace berth::core {

struct QueueKey {
  Tier tier;
  int64_t submit_ms;
  JobId id;
  auto operator<=>(const QueueKey&) const = default;
};

inline QueueKey queue_key(const Job& job) { return {job.tier, job.submit_ms, job.id}; }

class Scheduler {
 public:
  // Admission for a job that fits on `node`: returns kNone after starting it (GPUs
  // allocated, money held), or the reason it must wait.
  using Admit = std::function<PendingReason(Job& job, const Node& node)>;
  using Lookup = std::function<Job&(JobId)>;
  // Records why a job that was not started waits.
  using Wait = std::function<void(Job& job, PendingReason reason)>;

  void enqueue(const Job& job) { queue_.insert(queue_key(job)); }
  void dequeue(const Job& job) { queue_.erase(queue_key(job)); }
  size_t pending() const { return queue_.size(); }

  // One scheduling pass: considers pending jobs in order, starts those that fit and are
  // admitted, and sets every other pending job's reason. Returns the jobs started.
  std::vector<JobId> pass(Cluster& cluster, const Lookup& lookup, const Admit& admit, const Wait& wait);

  // The first node that is up, of the job's model ("" = any), with enough free GPUs.
  static const Node* first_fit(const Cluster& cluster, const Job& job);

 private:
  std::set<QueueKey> queue_;
};

}  // namespace berth::core
