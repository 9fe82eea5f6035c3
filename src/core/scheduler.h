// The scheduler: the order pending jobs are considered in, where each fits, and backfill.
//
// Policy and mechanism are apart (policy/README.md): the queue order is a QueueOrderPolicy
// (it sets Job::priority, through queue_priority), what a pass does with a job that cannot
// start is a BlockedJobPolicy chosen from Options (strict, EASY, conservative, none), and
// who may stop whom is a PreemptionPolicy (policy/preemption.h), and everything about money, caps
// and the job table is the SchedulerHost's (the Engine's). This class finds where jobs fit,
// reservations, and the nodes that stopping victims would free.
//
// Pending jobs are ordered by priority (see priority.h; the Engine sets it from its queue
// order), then submit time, then id. A pass walks them in that order and starts every job
// that fits now and is admitted (money, caps: the Engine's Admission). Placement is the
// Cluster's best fit: the nodes of the job's model with the fewest free GPUs that still hold
// it, which keeps whole nodes free for large jobs; a gang (multi-node) job gets all its nodes
// at once, within one topology domain where possible, or waits.
//
// Backfill plans with each job's planned runtime (Job::planned_s: its time limit, or a
// runtime predicted from its project's history). EASY (the default): the first job that
// cannot start for want of GPUs gets a reservation: the nodes that will first have room for
// it as running jobs end, and the time they will (its expected start). Jobs behind it may
// start before it only where they cannot delay it: on other nodes, or on its nodes if they
// will have ended by then. Conservative: every job that cannot start gets such a reservation,
// on nodes not already reserved for a job ahead, so a job starts early only if it delays no
// job ahead of it. (A blocked job whose every candidate node is already reserved gets no
// reservation and no expected start until nodes free up: reservations do not yet stack in
// time on one node, as a full availability profile would.) Plans are only as good as the
// runtimes they use: a job planned with a predicted runtime that runs longer can delay a
// reservation, which a time limit never does; such a job is replanned (replan_overdue). A pass
// examines at most `depth` jobs after the first reservation (like Slurm's bf_max_job_test); the top
// blocked job is always examined first, so no job is starved by the bound, and age raises every
// waiting job's priority until it is first.
//
// Least attained service (demote_after_gpu_s > 0), as Tiresias's discretised LAS (Gu et al.,
// NSDI'19): runtimes are unknown, but in these workloads a job that has already run long is
// likely to run much longer. A job that has had demote_after_gpu_s GPU-seconds, over all its
// attempts, is demoted: it queues behind the jobs that have not (priority.h), and while it runs,
// if it asked to be requeued, the first blocked job that is not demoted (nor spot) may preempt
// it, as it may preempt spot jobs: spot jobs go first, then demoted jobs of no higher tier, the
// fewest GPUs first, then the most attained; a gang (several nodes) is never such a victim, as
// it could start again only on as many whole nodes. Unlike spot preemption, every such blocked
// job may preempt, not only the first: a short new job should not wait behind a large one that
// finds nothing to stop (each keeps the nodes it freed). A preempted job is requeued and starts again
// later (from its last checkpoint, if it keeps one: the simulator's model of a training job).
// The threshold may be learned from the jobs that finished (SchedulerConfig::adapt_demotion,
// ServiceProfile); the Engine tells the scheduler each new one (set_limits), and the starvation
// limit with it: a job that waited that long for its first start is not preempted in that run.
#pragma once

#include <algorithm>
#include <climits>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "core/cluster.h"
#include "core/model.h"
#include "core/policy/blocked_job.h"
#include "core/policy/preemption.h"
#include "core/policy/scheduler_host.h"

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
  using Lookup = std::function<Job&(JobId)>;
  using ConstLookup = std::function<const Job&(JobId)>;

  struct Options {
    bool backfill = true;            // EASY: the top blocked job gets a reservation
    bool conservative = false;       // with backfill: every blocked job gets one
    bool strict = false;             // the first job that cannot start blocks every job behind it
    bool preemption = true;          // normal and high jobs may preempt spot jobs
    int depth = 10'000;              // jobs examined per pass after the first reservation
    int64_t demote_after_gpu_s = 0;  // least attained service (0: off)
    int64_t preempt_exempt_s =
        0;  // a job is not preempted in its first seconds of a run (Slurm's PreemptExemptTime)
  };
  explicit Scheduler(Options options);
  Scheduler() : Scheduler(Options{}) {}

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

  // Running jobs and when they are planned to end, for reservations.
  void running(const Job& job) {
    ends_.insert({job.start_ms + job.planned_s() * 1000, job.id.value});
    if (job.tier == Tier::kSpot)
      spot_.insert({job.start_ms, job.id.value});
    else if (preemption_->demotable(job))
      requeueable_.insert({job.start_ms, job.id.value});
  }
  void ended(const Job& job) {
    ends_.erase({job.start_ms + job.planned_s() * 1000, job.id.value});
    if (job.tier == Tier::kSpot)
      spot_.erase({job.start_ms, job.id.value});
    else if (preemption_->demotable(job))
      requeueable_.erase({job.start_ms, job.id.value});
  }

  // Running jobs that have outlived their planned runtime (an underestimate) would make
  // reservations start "now" and stop all backfill on their nodes. Like EASY++ (Tsafrir et
  // al.), such a job is replanned: it is expected to run twice as long as it has so far,
  // within its time limit. `replanned(job)` is told of each (its estimate_s changed).
  template <typename F>
  void replan_overdue(int64_t now_ms, const Lookup& lookup, F replanned) {
    overdue_.clear();
    for (auto it = ends_.begin(); it != ends_.end() && it->first <= now_ms;) {
      overdue_.push_back(it->second);
      it = ends_.erase(it);
    }
    for (uint64_t id : overdue_) {
      Job& job = lookup(JobId(id));
      const int64_t elapsed_s = std::max<int64_t>(0, (now_ms - job.start_ms) / 1000);
      const int64_t planned = std::max(2 * elapsed_s, job.planned_s() + 60);
      const int64_t estimate = planned < job.time_limit_s ? planned : 0;
      if (estimate != job.estimate_s) {
        job.estimate_s = estimate;
        replanned(job);
      }
      ends_.insert({job.start_ms + job.planned_s() * 1000, id});
    }
  }

  // One scheduling pass at now_ms: walks the queue in order, starting each job that fits and
  // the host admits; a job that cannot start is handled by the blocked-job policy (strict,
  // EASY, conservative: policy/blocked_job.h). Returns the jobs started. The first normal or
  // high job that cannot start for want of GPUs may preempt spot jobs (youngest first, on the
  // nodes where that frees enough), if the host can preempt; it then holds those nodes until
  // they have gone.
  std::vector<JobId> pass(Cluster& cluster, int64_t now_ms, SchedulerHost& host);

  // When `job` could start at the earliest if it were first in line: now if it fits now,
  // else when enough running jobs will have reached their planned ends on the nodes it needs.
  // False if its nodes will never have room (e.g. they are down). `nodes` (may be null)
  // receives the nodes; `reserved` (may be null) marks nodes it must not count on.
  bool earliest_start(const Cluster& cluster, const Job& job, int64_t now_ms,
                      const ConstLookup& lookup, int64_t* at_ms,
                      std::vector<NodeId>* nodes = nullptr,
                      const std::vector<int64_t>* reserved = nullptr) const;

  // Least attained service's threshold (0: demote nothing) and the starvation limit (a job
  // starving since before it started is not preempted), learned anew (SchedulerConfig).
  void set_limits(int64_t demote_after_gpu_s, int64_t starve_after_s) {
    options_.demote_after_gpu_s = demote_after_gpu_s;
    preemption_->set_limits(demote_after_gpu_s, starve_after_s);
  }

  // How many jobs the last pass examined (for benchmarks).
  size_t last_examined() const { return last_examined_; }

 private:
  // What one pass carries from job to job.
  struct Pass {
    Cluster& cluster;
    int64_t now_ms;
    SchedulerHost& host;
    ConstLookup lookup;
    std::vector<JobId> started;
    std::vector<NodeId> reserving;  // the nodes of the reservation being made (scratch)
    bool have_reservation = false;  // some job holds a reservation: reserved nodes are skipped
    bool blocked = false;           // some job before this one could not start for want of GPUs
    // Preemption that failed this pass fails again for a later normal job (not demoted) of
    // any model as large or larger, as reservations only grow: tracked by GPUs per node for
    // single-node jobs, by (nodes, GPUs per node) for gangs.
    int no_victims_single = INT_MAX;
    std::pair<int, int> no_victims_gang = {INT_MAX, INT_MAX};
  };
  // What became of one job in a pass: started, waits for a reason of its own (the host
  // refused it), or blocked for want of GPUs (the blocked-job policy applies).
  enum class Outcome { kStarted, kWaits, kBlocked };

  Outcome consider(Pass& p, Job& job);
  // Places `job` now (placed_), skipping nodes reserved for jobs it could delay.
  bool place_now(const Pass& p, const Job& job);
  Outcome blocked(Pass& p, Job& job);
  // True (after telling the host to make it wait) if the host refuses the job outright.
  bool refused(Pass& p, Job& job);
  bool may_preempt(const Pass& p, const Job& job) const;
  void remember_no_victims(Pass& p, const Job& job) const;
  // Preemption's memo applies only to plain jobs: normal, any model, any node, not demoted.
  bool plain(const Job& job, int64_t now_ms) const;
  void end_pass();

  // Walks running jobs from `begin` to `end` (pairs of (key, job id)), giving their GPUs back
  // in thought, until `job.nodes` nodes not in `reserved` would have room for it (counting
  // nodes that have room now). Fills `out` with them and `key` with the key of the job that
  // completed the set (or INT64_MIN when nodes have room now); false if the walk ends first.
  template <typename It>
  bool gather(const Cluster& cluster, const Job& job, int model, It begin, It end,
              const ConstLookup& lookup, const std::vector<int64_t>* reserved, int64_t* key,
              std::vector<NodeId>* out) const;
  // Finds nodes where stopping the victims `job` may stop (in the policy's order) makes room
  // for it, and asks them to stop.
  bool preempt_for(const Pass& p, const Job& job, std::vector<NodeId>* nodes);
  bool demoted(const Job& job, int64_t now_ms) const {
    return job.demoted(options_.demote_after_gpu_s, now_ms);
  }
  void reserve(const std::vector<NodeId>& nodes, int64_t from_ms);

  Options options_;
  std::unique_ptr<BlockedJobPolicy> blocked_;
  std::unique_ptr<PreemptionPolicy> preemption_;
  std::set<QueueKey> queue_;
  std::set<std::pair<int64_t, uint64_t>> ends_;  // (time limit end, job id) of running jobs
  RunningSet spot_;                              // running spot jobs
  RunningSet requeueable_;                       // running jobs the preemption policy may demote
  Victims victims_;                              // during a pass: who may be preempted, in order
  bool victims_listed_ = false;                  // victims_ is this pass's
  std::vector<int64_t> reserved_;         // per node index, during a pass: reserved from (0: not)
  std::vector<uint32_t> reserved_nodes_;  // nodes reserved this pass, to clear after it
  std::vector<NodeId> placed_;            // scratch
  std::vector<uint64_t> overdue_;         // scratch
  mutable std::vector<int> freed_;        // per node index, while reserving (scratch)
  mutable std::vector<char> counted_;     // per node index, while reserving (scratch)
  mutable std::vector<uint32_t> touched_;
  size_t last_examined_ = 0;
};

}  // namespace berth::core
