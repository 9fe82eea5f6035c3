// The scheduler: the order pending jobs are considered in, where each fits, and EASY backfill.
//
// Pending jobs are ordered by priority (see priority.h), then submit time, then id. A pass
// walks them in that order and starts every job that fits now and is admitted (money, caps:
// the Engine's Admission). Placement is best fit: the node of the job's model with the fewest
// free GPUs that still holds it, which keeps whole nodes free for large jobs.
//
// EASY backfill: the first job that cannot start for want of GPUs gets a reservation: the
// node that will first have room for it, judging by running jobs' time limits, and the time
// it will (its expected start). Jobs behind it may start before it only where they cannot
// delay it: on other nodes, or on the reserved node if their time limit ends by then. The
// pass examines at most `depth` jobs after the reservation (like Slurm's bf_max_job_test);
// the reserved job itself is always examined first, so no job is starved by the bound, and
// age raises every waiting job's priority until it is first.
#pragma once

#include <functional>
#include <set>
#include <vector>

#include "core/cluster.h"
#include "core/model.h"

namespace berth::core {

struct QueueKey {
  int64_t neg_priority;
  int64_t submit_ms;
  JobId id;
  auto operator<=>(const QueueKey&) const = default;
};

inline QueueKey queue_key(const Job& job) { return {-job.priority, job.submit_ms, job.id}; }

class Scheduler {
 public:
  // Admission for a job that fits on `node`: returns kNone after starting it (GPUs
  // allocated, money held), or the reason it must wait.
  using Admit = std::function<PendingReason(Job& job, const Node& node)>;
  using Lookup = std::function<Job&(JobId)>;
  using ConstLookup = std::function<const Job&(JobId)>;
  // Records why a job that was not started waits, and when it is expected to start (0: unknown).
  using Wait = std::function<void(Job& job, PendingReason reason, int64_t expected_start_ms)>;
  // Asks a running spot job to stop so a higher tier can have its GPUs.
  using Preempt = std::function<void(Job& victim)>;

  Scheduler(bool backfill = true, int depth = 10'000, bool preemption = true)
      : backfill_(backfill), preemption_(preemption), depth_(depth) {}

  void enqueue(const Job& job) { queue_.insert(queue_key(job)); }
  void dequeue(const Job& job) { queue_.erase(queue_key(job)); }
  size_t pending() const { return queue_.size(); }
  // Recomputes every queued job's priority with `reprioritise(Job&)` and re-sorts the queue,
  // reusing its nodes (no allocation).
  template <typename F>
  void rekey(const Lookup& lookup, F reprioritise) {
    std::set<QueueKey> old;
    old.swap(queue_);
    while (!old.empty()) {
      auto node = old.extract(old.begin());
      Job& job = lookup(node.value().id);
      reprioritise(job);
      node.value() = queue_key(job);
      queue_.insert(std::move(node));
    }
  }

  // Running jobs and when their time limits end, for reservations.
  void running(const Job& job) {
    ends_.insert({job.start_ms + job.time_limit_s * 1000, job.id.value});
    if (job.tier == Tier::kSpot) spot_.insert({job.start_ms, job.id.value});
  }
  void ended(const Job& job) {
    ends_.erase({job.start_ms + job.time_limit_s * 1000, job.id.value});
    if (job.tier == Tier::kSpot) spot_.erase({job.start_ms, job.id.value});
  }

  // One scheduling pass at now_ms. Returns the jobs started. The first normal or high job
  // that cannot start for want of GPUs may preempt spot jobs (youngest first, on the one node
  // where that frees enough); it then holds that node until they have gone.
  std::vector<JobId> pass(Cluster& cluster, int64_t now_ms, const Lookup& lookup, const Admit& admit,
                          const Wait& wait, const Preempt& preempt = nullptr);

  // When `job` could start at the earliest if it were first in line: now if it fits now,
  // else when enough running jobs will have reached their time limits on one node. False if
  // no node will ever have room (e.g. all its nodes are down).
  bool earliest_start(const Cluster& cluster, const Job& job, int64_t now_ms, const ConstLookup& lookup,
                      int64_t* at_ms, NodeId* node = nullptr) const;

  // How many jobs the last pass examined (for benchmarks).
  size_t last_examined() const { return last_examined_; }

 private:
  // Finds the node that first has room for `job` as running jobs end; false if none will.
  // Finds the node where stopping the youngest spot jobs makes room for `job`, and asks them to stop.
  bool preempt_for(const Cluster& cluster, const Job& job, const Lookup& lookup, const Preempt& preempt, NodeId* node);

  bool backfill_;
  bool preemption_;
  int depth_;
  std::set<QueueKey> queue_;
  std::set<std::pair<int64_t, uint64_t>> ends_;  // (time limit end, job id) of running jobs
  std::set<std::pair<int64_t, uint64_t>> spot_;  // (start, job id) of running spot jobs
  std::vector<char> reserved_;                   // per node index, during a pass
  mutable std::vector<int> freed_;               // per node index, while reserving (scratch)
  mutable std::vector<uint32_t> touched_;
  size_t last_examined_ = 0;
};

}  // namespace berth::core
