#include "core/scheduler.h"

#include <algorithm>
#include <climits>
#include <cstdint>

namespace berth::core {

Scheduler::Scheduler(Options options)
    : options_(options),
      blocked_(make_blocked_job_policy(options.backfill, options.conservative, options.strict)),
      preemption_(make_preemption_policy(options.preemption, options.demote_after_gpu_s,
                                         options.preempt_exempt_s)) {}

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
bool Scheduler::gather(const Cluster& cluster, const Job& job, int model, It begin, It end,
                       const ConstLookup& lookup, const std::vector<int64_t>* reserved,
                       int64_t* key, std::vector<NodeId>* out) const {
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

bool Scheduler::earliest_start(const Cluster& cluster, const Job& job, int64_t now_ms,
                               const ConstLookup& lookup, int64_t* at_ms,
                               std::vector<NodeId>* nodes,
                               const std::vector<int64_t>* reserved) const {
  std::vector<NodeId> best, candidate;
  int64_t best_key = INT64_MAX;
  const bool found = for_each_model(cluster, job, [&](int model) {
    int64_t key = 0;
    if (!gather(cluster, job, model, ends_.begin(), ends_.end(), lookup, reserved, &key,
                &candidate))
      return false;
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

bool Scheduler::preempt_for(const Pass& p, const Job& job, std::vector<NodeId>* nodes) {
  const Cluster& cluster = p.cluster;
  if (!victims_listed_) {  // once a pass: nothing starts running during one
    preemption_->list_victims(spot_, requeueable_, p.lookup, p.now_ms, &victims_);
    victims_listed_ = true;
  }
  const size_t count = preemption_->usable(job, victims_, p.now_ms);
  const auto begin = victims_.order.begin();
  const auto end = begin + static_cast<std::ptrdiff_t>(count);
  if (begin == end) return false;
  int64_t key = 0;
  bool found = false;
  for_each_model(cluster, job, [&](int model) {  // the first model where stopping jobs makes room
    found = found || gather(cluster, job, model, begin, end, p.lookup, &reserved_, &key, nodes);
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
    Job& r = p.host.job(JobId(it->second));
    bool helps = false;
    for_each_node(r, [&](NodeId n, int) { helps = helps || freed_[n.value - 1] > 0; });
    if (!helps) continue;
    for_each_node(r, [&](NodeId n, int gpus) {
      int& short_by = freed_[n.value - 1];
      if (short_by > 0 && short_by - gpus <= 0) --short_nodes;
      short_by -= gpus;
    });
    if (!r.preempt_requested) p.host.preempt(r);
  }
  for (uint32_t n : touched_) freed_[n] = 0;
  touched_.clear();
  return true;
}

void Scheduler::reserve(const std::vector<NodeId>& nodes, int64_t from_ms) {
  for (NodeId n : nodes) {
    int64_t& from = reserved_[n.value - 1];
    if (from == Cluster::kNotReserved)
      reserved_nodes_.push_back(static_cast<uint32_t>(n.value - 1));
    from = std::min(from, from_ms);
  }
}

std::vector<JobId> Scheduler::pass(Cluster& cluster, int64_t now_ms, SchedulerHost& host) {
  Pass p{cluster, now_ms, host, [&host](JobId id) -> const Job& { return host.job(id); }};
  reserved_.resize(cluster.nodes().size(), Cluster::kNotReserved);
  last_examined_ = 0;
  victims_listed_ = false;
  int after = 0;  // jobs examined since the first reservation
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (p.have_reservation && ++after > options_.depth) break;
    ++last_examined_;
    Job& job = host.job(it->id);
    const Outcome outcome = consider(p, job);
    if (outcome == Outcome::kStarted) {
      p.started.push_back(job.id);
      it = queue_.erase(it);
      continue;
    }
    ++it;
    if (outcome == Outcome::kBlocked && blocked_->ends_pass()) break;
  }
  end_pass();
  return std::move(p.started);
}

Scheduler::Outcome Scheduler::consider(Pass& p, Job& job) {
  if (!place_now(p, job)) return blocked(p, job);
  const PendingReason reason = p.host.admit(job, placed_);
  if (reason == PendingReason::kNone) return Outcome::kStarted;
  p.host.wait(job, reason, 0);
  return Outcome::kWaits;
}

bool Scheduler::place_now(const Pass& p, const Job& job) {
  const int per = job.gpus_per_node();
  placed_.clear();
  // A reserved node is usable by a job that is sure to end before its reservation begins.
  const Cluster::Skip skip{p.have_reservation ? &reserved_ : nullptr,
                           p.now_ms + job.planned_s() * 1000,
                           job.node_choice.empty() ? nullptr : &job.node_choice};
  for (int model : p.cluster.models_for(job.gpu_model))
    if (p.cluster.fits_now(model, job.nodes, per) &&
        p.cluster.place(model, job.nodes, per, skip, &placed_))
      return true;
  return false;
}

// A job that cannot start for want of GPUs: refused outright, or it preempts (and holds the
// nodes it frees), or the policy reserves it nodes, or it just waits.
Scheduler::Outcome Scheduler::blocked(Pass& p, Job& job) {
  const bool first = !p.blocked;
  // Only a job the policy plans for, or that would preempt, is asked (pricing every blocked
  // job would cost a pass over a long queue dearly); the others wait for Priority anyway.
  if (blocked_->plans(first) && refused(p, job)) return Outcome::kWaits;
  const bool may = may_preempt(p, job);
  // A later job is asked only now, before anything is stopped for it.
  if (may && !first && refused(p, job)) return Outcome::kWaits;
  const bool preempting = may && preempt_for(p, job, &p.reserving);
  if (may && !preempting && plain(job, p.now_ms)) remember_no_victims(p, job);
  const PendingReason reason = first ? PendingReason::kResources : PendingReason::kPriority;
  int64_t at_ms = 0;
  if (preempting) {
    // Its nodes are held for it (nothing can end before "now") until the stopped jobs have gone.
    reserve(p.reserving, p.now_ms);
    p.have_reservation = true;
    p.host.wait(job, PendingReason::kResources, p.now_ms);
  } else if (blocked_->plans(first) && blocked_->reserves() &&
             earliest_start(p.cluster, job, p.now_ms, p.lookup, &at_ms, &p.reserving,
                            p.have_reservation ? &reserved_ : nullptr)) {
    reserve(p.reserving, at_ms);
    p.have_reservation = true;
    p.host.wait(job, reason, at_ms);
  } else {
    p.host.wait(job, reason, 0);
  }
  p.blocked = true;
  return Outcome::kBlocked;
}

bool Scheduler::refused(Pass& p, Job& job) {
  const PendingReason reason = p.host.refusal(job);
  if (reason == PendingReason::kNone) return false;
  p.host.wait(job, reason, 0);
  return true;
}

bool Scheduler::plain(const Job& job, int64_t now_ms) const {
  const bool fresh = options_.demote_after_gpu_s > 0 && !demoted(job, now_ms);
  return job.tier == Tier::kNormal && job.gpu_model.empty() && job.node_choice.empty() && fresh;
}

// Whether the policy lets `job` preempt, and the memo does not already know it would find
// nothing to stop.
bool Scheduler::may_preempt(const Pass& p, const Job& job) const {
  if (!p.host.can_preempt() || !preemption_->may_preempt(job, p.blocked, p.now_ms)) return false;
  if (!plain(job, p.now_ms)) return true;
  const int per = job.gpus_per_node();
  return job.nodes == 1 ? per < p.no_victims_single
                        : job.nodes < p.no_victims_gang.first || per < p.no_victims_gang.second;
}

void Scheduler::remember_no_victims(Pass& p, const Job& job) const {
  const int per = job.gpus_per_node();
  if (job.nodes == 1)
    p.no_victims_single = std::min(p.no_victims_single, per);
  else if (job.nodes <= p.no_victims_gang.first && per <= p.no_victims_gang.second)
    p.no_victims_gang = {job.nodes, per};
}

void Scheduler::end_pass() {
  for (uint32_t n : reserved_nodes_) reserved_[n] = Cluster::kNotReserved;
  reserved_nodes_.clear();
}

}  // namespace berth::core
