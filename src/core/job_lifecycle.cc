// The Engine's job lifecycle: submit (one job or an array, idempotent by key), hold and
// release, cancel, start (admit: GPUs allocated, money held), and end (settle: holds posted for
// the time run; requeue when asked).
#include <algorithm>
#include <span>

#include "core/check.h"
#include "core/engine.h"

namespace berth::core {

Result<JobId> Engine::submit(const JobRequest& asked, int64_t now_ms, bool* replayed) {
  if (replayed) *replayed = false;
  JobRequest storage;
  BERTH_ASSIGN_OR_RETURN(const JobRequest* canonical, with_canonical_model(asked, &storage));
  const JobRequest& r = *canonical;
  BERTH_ASSIGN_OR_RETURN(auto first, replayed_submit(r, now_ms));
  if (first.valid()) {
    if (replayed) *replayed = true;
    return first;
  }
  const Partition* part = nullptr;
  BERTH_RETURN_IF_ERROR(check_submit(r, &part, 1));
  auto id = accept(r, *part, now_ms);
  if (id.ok()) remember_submit_key(r, *id, now_ms);
  return id;
}

Result<std::vector<JobId>> Engine::submit_array(const JobRequest& asked,
                                                const std::vector<int>& indices, int throttle,
                                                int64_t now_ms, bool* replayed) {
  if (replayed) *replayed = false;
  JobRequest storage;
  BERTH_ASSIGN_OR_RETURN(const JobRequest* canonical, with_canonical_model(asked, &storage));
  const JobRequest& r = *canonical;
  BERTH_ASSIGN_OR_RETURN(auto replay, replayed_submit(r, now_ms));
  if (replay.valid()) {
    // The tasks of one array are accepted together, so they are the jobs from its first on
    // that name it as their array.
    std::vector<JobId> ids;
    for (JobId id = replay; jobs_.exists(id) && jobs_.at(id).array_id == replay;
         id = JobId(id.value + 1))
      ids.push_back(id);
    if (ids.empty()) ids.push_back(replay);
    if (replayed) *replayed = true;
    return ids;
  }
  const Partition* part = nullptr;
  BERTH_RETURN_IF_ERROR(check_submit(r, &part, static_cast<int64_t>(indices.size())));
  if (indices.empty() || indices.size() > static_cast<size_t>(kMaxArrayTasks))
    return Status::Invalid("an array needs 1 to " + std::to_string(kMaxArrayTasks) + " tasks");
  if (throttle < 0) return Status::Invalid("array throttle must not be negative");
  std::vector<JobId> ids;
  const JobId first = jobs_.next_id();
  for (int index : indices) {
    auto id = accept(r, *part, now_ms);
    BERTH_CHECK(id.ok(), "accept a checked array task");
    Job& task = jobs_.at(*id);
    task.array_id = first;
    task.array_index = index;
    task.array_throttle = throttle;
    ids.push_back(*id);
  }
  remember_submit_key(r, first, now_ms);
  return ids;
}

Result<JobId> Engine::replayed_submit(const JobRequest& r, int64_t now_ms) const {
  if (r.idempotency_key.empty()) return JobId();
  BERTH_RETURN_IF_ERROR(SubmitKeys::check_key(r.idempotency_key));
  const Project* project = funding_.project(r.project);
  if (!project) return JobId();  // check_submit refuses it
  const SubmitKey* k = submit_keys_.find(r.user, project->org, r.idempotency_key, now_ms);
  if (!k) return JobId();
  if (k->digest != r.request_digest)
    return Status::Conflict("idempotency key '" + r.idempotency_key +
                            "' was already used for another request (job " +
                            std::to_string(k->job.value) + ")");
  return k->job;
}

void Engine::remember_submit_key(const JobRequest& r, JobId first, int64_t now_ms) {
  if (r.idempotency_key.empty()) return;
  SubmitKey k{r.user, funding_.project(r.project)->org, r.idempotency_key, r.request_digest, first,
              now_ms};
  submit_keys_.add(k);
  unsaved_submit_keys_.push_back(std::move(k));
}

void Engine::forget_submit_key(JobId first) {
  submit_keys_.forget(first);
  std::erase_if(unsaved_submit_keys_, [first](const SubmitKey& k) { return k.job == first; });
}

Status Engine::check_submit(const JobRequest& r, const Partition** out, int64_t jobs) {
  const Partition* part = nullptr;
  BERTH_RETURN_IF_ERROR(validate_request(r, &part));
  *out = part;
  for (const Dependency& d : r.dependencies)
    if (!jobs_.exists(d.job))
      return Status::NotFound("dependency job " + std::to_string(d.job.value) + " not found");
  if (r.dependencies.size() > 64) return Status::Invalid("a job may depend on at most 64 jobs");
  const Project* project = funding_.project(r.project);
  const Org* org = funding_.org(project->org);
  if (!part->allowed_orgs.empty() && std::find(part->allowed_orgs.begin(), part->allowed_orgs.end(),
                                               org->name) == part->allowed_orgs.end())
    return Status::Denied("partition '" + part->name + "' is not open to organisation '" +
                          org->name + "'");
  const struct {
    const Limit* limit;
    std::string who;
    int64_t waiting;
  } caps[] = {{project_limit(project->id), "project '" + project->name + "'",
               jobs_.pending_of(project->id)},
              {org_limit(org->id), "organisation '" + org->name + "'", jobs_.pending_of(org->id)}};
  for (const auto& cap : caps) {
    if (!cap.limit) continue;
    if (cap.limit->max_gpus >= 0 && r.gpus > cap.limit->max_gpus)
      return Status::Invalid("the job asks for " + std::to_string(r.gpus) + " GPUs but " + cap.who +
                             " may use at most " + std::to_string(cap.limit->max_gpus) +
                             " at once");
    if (cap.limit->max_pending >= 0 && cap.waiting + jobs > cap.limit->max_pending)
      return Status::Conflict("QuotaLimit: " + cap.who + " has " + std::to_string(cap.waiting) +
                              " pending jobs; " + std::to_string(jobs) +
                              " more would exceed its limit of " +
                              std::to_string(cap.limit->max_pending));
  }
  return Status::Ok();
}

Result<JobId> Engine::accept(const JobRequest& r, const Partition& partition, int64_t now_ms) {
  const Partition* part = &partition;
  Job job;
  job.id = jobs_.next_id();
  job.name = r.name.empty() ? "job" : r.name;
  job.user = r.user;
  job.project = r.project;
  job.org = funding_.project(r.project)->org;
  job.tier = r.tier;
  job.gpus = r.gpus;
  job.nodes = r.nodes;
  job.gpu_model = r.gpu_model;
  job.node_choice =
      resolve_node_choice(cluster_, r.node_names, r.gpu_model, r.nodes, r.gpus / r.nodes).value();
  job.partition = part->name;
  job.time_limit_s = r.time_limit_s > 0 ? r.time_limit_s : part->default_time_s;
  const JobBox box = job_box(r.box, r.nodes, r.gpus / r.nodes, part->box_defaults);
  job.cpus_per_node = box.cpus;
  job.memory_per_node_mb = box.memory_mb;
  job.estimate_s = estimate(r, job.time_limit_s);
  job.hold_s = r.hold_s;
  job.estimate_from_history = r.estimate_s == 0 && predicts(r);
  job.requeue = r.requeue;
  job.submit_ms = now_ms;
  job.reason = PendingReason::kNone;
  job.launch = r.launch;
  job.held = r.hold;
  job.dependencies = r.dependencies;
  auto stored = jobs_.add(std::move(job));
  BERTH_CHECK(stored.ok(), "add a job with the next id");
  Job& added = **stored;
  for (const Dependency& d : added.dependencies) jobs_.add_dependent(d.job, added.id);
  queue_or_park(added, now_ms);
  // Until a pass looks at it (a bounded pass may not reach it at once), a job queued behind
  // others waits for Priority.
  if (added.reason == PendingReason::kNone && scheduler_.pending() > 1)
    added.reason = PendingReason::kPriority;
  jobs_.count_pending(added, +1);
  touch(added);
  return added.id;
}

Result<bool> Engine::cancel(JobId id, int64_t now_ms) {
  BERTH_ASSIGN_OR_RETURN(auto found, jobs_.get(id));
  Job& job = *found;
  if (job.state == JobState::kPending) {
    scheduler_.dequeue(job);
    jobs_.count_pending(job, -1);
    job.state = JobState::kCancelled;
    job.reason = PendingReason::kNone;
    job.end_ms = now_ms;
    touch(job);
    resolve_dependents(job, now_ms);
    return false;
  }
  if (job.state == JobState::kRunning) {
    job.cancel_requested = true;
    touch(job);
    return true;
  }
  return Status::Conflict("job " + std::to_string(id.value) + " already ended (" +
                          job_state_name(job.state) + ")");
}

Status Engine::hold(JobId id, int64_t now_ms) {
  BERTH_ASSIGN_OR_RETURN(auto found, jobs_.get(id));
  Job& job = *found;
  if (job.state != JobState::kPending)
    return Status::Conflict("job " + std::to_string(id.value) + " is " + job_state_name(job.state) +
                            ": only a pending job can be held");
  if (job.held) return Status::Ok();
  scheduler_.dequeue(job);
  job.held = true;
  queue_or_park(job, now_ms);
  touch(job);
  return Status::Ok();
}

Status Engine::release(JobId id, int64_t now_ms) {
  BERTH_ASSIGN_OR_RETURN(auto found, jobs_.get(id));
  Job& job = *found;
  if (job.state != JobState::kPending || !job.held)
    return Status::Conflict("job " + std::to_string(id.value) + " is not held");
  job.held = false;
  queue_or_park(job, now_ms);
  touch(job);
  return Status::Ok();
}

PendingReason Engine::admit(Job& job, const std::vector<NodeId>& nodes, int64_t now_ms) {
  const Node& node = *cluster_.node(nodes.front());  // a gang's nodes are all of one model
  if (const PendingReason r = cap_reason(job); r != PendingReason::kNone) return r;
  const Quote q = price(job, node.gpu_model, now_ms);
  if (!q.affordable) return q.reason;
  const Project* p = funding_.project(job.project);
  Transfer holds[2];
  size_t n = 0;
  if (q.subsidy_minor > 0)
    holds[n++] =
        job_hold(job, kPhaseSubsidyHold, funding_.award(q.award)->account, q.subsidy_minor);
  if (q.copay_minor > 0) holds[n++] = job_hold(job, kPhaseCopayHold, p->wallet, q.copay_minor);
  if (n == 2) holds[0].flags |= kLinked;
  if (n > 0) {
    const auto results = ledger_.create_transfers(std::span<const Transfer>(holds, n), now_ms);
    for (TransferResult r : results)
      if (r != TransferResult::kOk) return PendingReason::kInsufficientFunds;
  }
  job.state = JobState::kRunning;
  job.reason = PendingReason::kNone;
  job.start_ms = now_ms;
  job.node = node.id;
  job.gpu_ids = cluster_.allocate(node.id, job.gpus_per_node());
  job.more_nodes.clear();
  for (size_t i = 1; i < nodes.size(); ++i)
    job.more_nodes.push_back(Placement{nodes[i], cluster_.allocate(nodes[i], job.gpus_per_node())});
  job.award = q.award;
  job.rate_bps = q.rate_bps;
  job.price_per_gpu_hour_minor = q.price_per_gpu_hour_minor;
  job.max_cost_minor = q.max_cost_minor;
  job.subsidy_held_minor = q.subsidy_minor;
  job.copay_held_minor = q.copay_minor;
  job.expected_start_ms = 0;
  jobs_.count_running(job, +1);
  jobs_.count_pending(job, -1);
  scheduler_.running(job);
  touch(job);
  return PendingReason::kNone;
}

void Engine::settle(Job& job, int64_t runtime_ms) {
  Minor cost = gpu_cost_minor(job.price_per_gpu_hour_minor, job.gpus, runtime_ms);
  BERTH_CHECK(cost >= 0, "cost overflow");
  cost = std::min(cost, job.max_cost_minor);
  const Minor subsidy = std::min(subsidy_share_minor(cost, job.rate_bps), job.subsidy_held_minor);
  const Minor copay = cost - subsidy;
  BERTH_CHECK(copay >= 0 && copay <= job.copay_held_minor, "co-payment exceeds its hold");
  Transfer posts[2];
  size_t n = 0;
  if (job.subsidy_held_minor > 0) posts[n++] = job_post(job, kPhaseSubsidyHold, subsidy);
  if (job.copay_held_minor > 0) posts[n++] = job_post(job, kPhaseCopayHold, copay);
  if (n == 2) posts[0].flags |= kLinked;
  if (n > 0) {
    const auto results =
        ledger_.create_transfers(std::span<const Transfer>(posts, n), job.start_ms + runtime_ms);
    for (TransferResult r : results) BERTH_CHECK(r == TransferResult::kOk, transfer_result_name(r));
  }
  job.cost_minor += cost;
  job.subsidy_minor += subsidy;
  job.copay_minor += copay;
}

void Engine::resolve_dependents(const Job& job, int64_t now_ms) {
  for (JobId id : jobs_.take_dependents(job.id)) {
    Job& d = jobs_.at(id);
    if (d.state == JobState::kPending && !d.held && d.reason != PendingReason::kNone)
      queue_or_park(d, now_ms);
  }
}

Status Engine::job_ended(JobId id, const JobEnd& end, int64_t end_ms, int64_t now_ms) {
  BERTH_ASSIGN_OR_RETURN(auto found, jobs_.get(id));
  Job& job = *found;
  if (job.state != JobState::kRunning)
    return Status::Conflict("job " + std::to_string(id.value) + " is not running (" +
                            job_state_name(job.state) + ")");
  end_ms = std::clamp(end_ms, job.start_ms, std::max(job.start_ms, now_ms));
  settle(job, end_ms - job.start_ms);
  scheduler_.ended(job);
  fairshare_.decay(now_ms);
  fairshare_.add_usage(job.org, job.project,
                       job.gpus * static_cast<double>(end_ms - job.start_ms) / 1000.0);
  cluster_.release(job.node, job.gpu_ids);
  for (const Placement& p : job.more_nodes) cluster_.release(p.node, p.gpu_ids);
  jobs_.count_running(job, -1);
  job.exit_code = end.exit_code;
  job.term_signal = end.term_signal;
  job.end_reason = end.reason;
  job.end_ms = end_ms;
  // A preempted job is requeued when it was stopped; one that ended on its own during its
  // grace period simply ended.
  const bool requeue =
      (end.lost && job.requeue) || (job.preempt_requested && (end.cancelled || end.lost));
  job.preempt_requested = false;
  if (requeue && !job.cancel_requested && job.restarts + 1 < kMaxRestarts) {
    job.restarts += 1;
    job.ran_ms += end_ms - job.start_ms;
    job.state = JobState::kPending;
    job.reason = PendingReason::kNone;
    job.start_ms = job.end_ms = 0;
    job.node = NodeId();
    job.gpu_ids.clear();
    job.more_nodes.clear();
    job.award = AwardId();
    job.max_cost_minor = job.subsidy_held_minor = job.copay_held_minor = 0;
    enqueue(job, now_ms);
    jobs_.count_pending(job, +1);
  } else if (end.cancelled || job.cancel_requested) {
    job.state = JobState::kCancelled;
  } else if (end.lost) {
    job.state = JobState::kNodeFail;
  } else if (end.oom) {
    job.state = JobState::kOutOfMemory;
  } else if (end.timed_out) {
    job.state = JobState::kTimeout;
  } else if (end.exit_code == 0 && end.term_signal == 0) {
    job.state = JobState::kCompleted;
  } else {
    job.state = JobState::kFailed;
  }
  touch(job);
  learn_runtime(job);
  if (is_final(job.state)) resolve_dependents(job, now_ms);
  return Status::Ok();
}

}  // namespace berth::core
