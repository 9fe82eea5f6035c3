#include "sim/virtual_cluster.h"

#include <algorithm>
#include <climits>

#include "core/check.h"

namespace berth::sim {

VirtualCluster::VirtualCluster(std::unique_ptr<core::Engine> engine, int64_t start_ms,
                               SimOptions options)
    : engine_(std::move(engine)),
      now_ms_(start_ms),
      preempt_grace_ms_(options.preempt_grace_ms),
      restart_overhead_ms_(options.restart_overhead_ms) {}

Result<std::unique_ptr<VirtualCluster>> VirtualCluster::Create(core::ClusterConfig config,
                                                               int64_t start_ms,
                                                               SimOptions options) {
  if (options.preempt_grace_ms < 0)
    return Status::Invalid("the preemption grace period must not be negative");
  if (options.restart_overhead_ms < 0)
    return Status::Invalid("the restart overhead must not be negative");
  BERTH_ASSIGN_OR_RETURN(auto engine,
                         core::Engine::Create(std::move(config), start_ms, options.scheduling));
  return std::unique_ptr<VirtualCluster>(new VirtualCluster(std::move(engine), start_ms, options));
}

VirtualCluster::SimJob& VirtualCluster::sim_job(JobId id) {
  BERTH_CHECK(id.valid(), "job id 0");
  // Jobs submitted on engine() directly have no entry yet: they run until their limit.
  if (jobs_.size() < id.value) jobs_.resize(id.value);
  return jobs_[id.value - 1];
}

Result<JobId> VirtualCluster::submit(const core::JobRequest& request, const SimProcess& process) {
  if (process.runtime_ms && *process.runtime_ms < 0)
    return Status::Invalid("a runtime must not be negative");
  bool replayed = false;
  BERTH_ASSIGN_OR_RETURN(auto id, engine_->submit(request, now_ms_, &replayed));
  if (replayed) return id;  // a retried submit (idempotency key): the first job, as it was
  sim_job(id).process = process;
  dirty_ = true;
  return id;
}

Result<std::vector<JobId>> VirtualCluster::submit_array(const core::JobRequest& request,
                                                        const std::vector<int>& indices,
                                                        int throttle,
                                                        const std::vector<SimProcess>& processes) {
  if (processes.size() != 1 && processes.size() != indices.size())
    return Status::Invalid("an array needs one process for all its tasks or one per task (" +
                           std::to_string(indices.size()) + "), not " +
                           std::to_string(processes.size()));
  for (const SimProcess& p : processes)
    if (p.runtime_ms && *p.runtime_ms < 0) return Status::Invalid("a runtime must not be negative");
  bool replayed = false;
  BERTH_ASSIGN_OR_RETURN(auto ids,
                         engine_->submit_array(request, indices, throttle, now_ms_, &replayed));
  if (replayed) return ids;
  for (size_t i = 0; i < ids.size(); ++i)
    sim_job(ids[i]).process = processes[processes.size() == 1 ? 0 : i];
  dirty_ = true;
  return ids;
}

Status VirtualCluster::hold(JobId id) {
  BERTH_RETURN_IF_ERROR(engine_->hold(id, now_ms_));
  dirty_ = true;
  return Status::Ok();
}

Status VirtualCluster::release(JobId id) {
  BERTH_RETURN_IF_ERROR(engine_->release(id, now_ms_));
  dirty_ = true;
  return Status::Ok();
}

Result<bool> VirtualCluster::cancel(JobId id) {
  BERTH_ASSIGN_OR_RETURN(auto running, engine_->cancel(id, now_ms_));
  if (running) {
    // The executor would signal the process now; here it is gone at once.
    core::JobEnd end;
    end.cancelled = true;
    BERTH_CHECK(engine_->job_ended(id, end, now_ms_, now_ms_).ok(), "end a cancelled running job");
    invalidate(id);
  }
  dirty_ = true;
  return running;
}

Result<std::vector<JobId>> VirtualCluster::set_node_state(NodeId node, core::NodeState state) {
  if (state == core::NodeState::kDown && engine_->cluster().node(node))
    for (JobId id : engine_->running_jobs())
      if (const core::Job* job = engine_->job(id); job->runs_on(node)) stopping(*job, now_ms_);
  BERTH_ASSIGN_OR_RETURN(auto ended, engine_->set_node_state(node, state, now_ms_));
  for (JobId id : ended) {
    invalidate(id);
    if (engine_->job(id)->state != core::JobState::kPending)
      sim_job(id).stopped_runs_ms.pop_back();  // not requeued: it ended
  }
  dirty_ = true;
  return ended;
}

void VirtualCluster::stopping(const core::Job& job, int64_t at_ms) {
  SimJob& sim = sim_job(job.id);
  sim.stopped_runs_ms.push_back({job.start_ms, at_ms});
  if (sim.process.checkpoints)
    sim.done_ms += std::max<int64_t>(0, at_ms - job.start_ms - sim.overhead_ms);
}

void VirtualCluster::book_end(JobId id) {
  const core::Job& job = *engine_->job(id);
  SimJob& sim = sim_job(id);
  sim.attempt += 1;  // a fresh attempt: any end booked for an earlier one is stale
  if (sim.first_start_ms == 0) sim.first_start_ms = job.start_ms;
  const bool resumes = sim.process.checkpoints && job.restarts > 0;
  sim.overhead_ms = resumes ? restart_overhead_ms_ : 0;
  const int64_t limit_ms = job.time_limit_s * 1000;
  int64_t run_ms = limit_ms;
  if (sim.process.runtime_ms) {
    const int64_t left_ms =
        std::max<int64_t>(0, *sim.process.runtime_ms - (resumes ? sim.done_ms : 0));
    run_ms = sim.overhead_ms + left_ms;
  }
  sim.times_out = run_ms > limit_ms || !sim.process.runtime_ms;
  ends_.push(EndEvent{job.start_ms + std::min(run_ms, limit_ms), id.value, sim.attempt, false});
}

void VirtualCluster::pass() {
  engine_->expire(now_ms_);
  for (JobId id : engine_->schedule(now_ms_)) book_end(id);
  // TERM now; the process is gone when the grace period ends, unless it ends sooner itself.
  for (JobId id : engine_->take_preemptions()) {
    ends_.push(EndEvent{now_ms_ + preempt_grace_ms_, id.value, sim_job(id).attempt, true});
    preemptions_ += 1;
  }
  dirty_ = false;
}

void VirtualCluster::flush() { run_until(now_ms_); }

bool VirtualCluster::end_job(const EndEvent& event) {
  const JobId id(event.job);
  const core::Job* job = engine_->job(id);
  const SimJob& sim = sim_job(id);
  // Stale: the job was cancelled, lost, requeued or preempted after this end was booked.
  if (job == nullptr || job->state != core::JobState::kRunning || sim.attempt != event.attempt)
    return false;
  core::JobEnd end;
  if (event.preempted) {
    end.term_signal = 15;  // SIGTERM; the engine requeues a job it asked to stop
    end.cancelled = true;  // stopped by the owner, as the executor reports a terminate()
    stopping(*job, event.at_ms);
  } else if (sim.times_out) {
    end.timed_out = true;
  } else if (sim.process.oom) {
    end.term_signal = 9;  // SIGKILL, from the OOM killer
    end.oom = true;
  } else {
    end.exit_code = sim.process.exit_code;
  }
  BERTH_CHECK(engine_->job_ended(id, end, event.at_ms, now_ms_).ok(), "end a running job");
  if (event.preempted && job->state != core::JobState::kPending)
    sim_job(id).stopped_runs_ms.pop_back();  // it ended
  job_ends_ += 1;
  return true;
}

int64_t VirtualCluster::next_award_boundary_ms() {
  const std::vector<core::Award>& awards = engine_->funding().awards();
  if (awards.size() != awards_seen_) {
    // Awards are few and rarely added: rebuild the sorted boundaries when one is.
    award_boundaries_ms_.clear();
    for (const core::Award& a : awards) {
      award_boundaries_ms_.push_back(a.start_ms);
      award_boundaries_ms_.push_back(a.end_ms);
    }
    std::sort(award_boundaries_ms_.begin(), award_boundaries_ms_.end());
    award_boundaries_ms_.erase(
        std::unique(award_boundaries_ms_.begin(), award_boundaries_ms_.end()),
        award_boundaries_ms_.end());
    awards_seen_ = awards.size();
  }
  auto it = std::upper_bound(award_boundaries_ms_.begin(), award_boundaries_ms_.end(), now_ms_);
  const int64_t boundary = it == award_boundaries_ms_.end() ? INT64_MAX : *it;
  // A progress report falling overdue changes what an award pays for, so it is a moment to
  // schedule at, too (computed afresh: an accepted report moves it).
  const int64_t report = engine_->next_report_overdue_ms(now_ms_);
  return report != 0 ? std::min(boundary, report) : boundary;
}

bool VirtualCluster::money_waiting() const {
  return std::any_of(engine_->jobs().begin(), engine_->jobs().end(), [](const core::Job& j) {
    return j.state == core::JobState::kPending && core::waits_for_money(j.reason);
  });
}

std::optional<int64_t> VirtualCluster::next_event_ms() {
  int64_t next = next_award_boundary_ms();
  if (!ends_.empty()) next = std::min(next, ends_.top().at_ms);
  if (next == INT64_MAX) return std::nullopt;
  return next;
}

void VirtualCluster::run_until(int64_t t_ms) {
  if (dirty_) pass();
  while (true) {
    const int64_t boundary = next_award_boundary_ms();
    const int64_t next = ends_.empty() ? boundary : std::min(boundary, ends_.top().at_ms);
    if (next > t_ms) break;
    // Events are never booked in the past: a job starts at now and runs for >= 0.
    BERTH_CHECK(next >= now_ms_, "an event in the past");
    now_ms_ = next;
    bool changed = next == boundary && money_waiting();
    while (!ends_.empty() && ends_.top().at_ms == now_ms_) {
      const EndEvent event = ends_.top();
      ends_.pop();
      changed |= end_job(event);
    }
    // Only stale events: nothing changed, so there is nothing to schedule.
    if (changed) pass();
  }
}

Status VirtualCluster::advance_to(int64_t t_ms) {
  if (t_ms < now_ms_)
    return Status::Invalid("cannot move the clock back from " + std::to_string(now_ms_) + " to " +
                           std::to_string(t_ms));
  run_until(t_ms);
  now_ms_ = t_ms;
  return Status::Ok();
}

Status VirtualCluster::advance_by(int64_t duration_ms) {
  if (duration_ms < 0) return Status::Invalid("cannot advance by a negative duration");
  if (duration_ms > INT64_MAX - now_ms_) return Status::Invalid("the clock would overflow");
  return advance_to(now_ms_ + duration_ms);
}

}  // namespace berth::sim
