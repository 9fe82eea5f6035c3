// The Engine's side of scheduling: putting jobs in the scheduler's queue (or parking them on a
// hold or dependency), recomputing priorities, the pass itself with the callbacks it gives the
// scheduler, why a job cannot start now, and the runtimes backfill plans with.
#include <cmath>
#include <unordered_map>

#include "core/engine.h"

namespace berth::core {

void Engine::enqueue(Job& job, int64_t now_ms) {
  job.priority = queue_priority(job, scheduling_, fairshare_.factor(job.org, job.project),
                                cluster_.total_gpus(), now_ms);
  job.expected_start_ms = 0;
  scheduler_.enqueue(job);
}

void Engine::queue_or_park(Job& job, int64_t now_ms) {
  PendingReason reason = PendingReason::kNone;
  if (job.held) {
    reason = PendingReason::kJobHeldUser;
  } else if (!job.dependencies.empty()) {
    const JobTable::DepState d = jobs_.dependency_state(job);
    if (d == JobTable::DepState::kWaiting) reason = PendingReason::kDependency;
    if (d == JobTable::DepState::kNever) reason = PendingReason::kDependencyNeverSatisfied;
  }
  if (reason == PendingReason::kNone) {
    enqueue(job, now_ms);
    // A reason from the last pass (Resources, InsufficientFunds, ...) stands until the next.
    const bool was_parked = job.reason == PendingReason::kJobHeldUser ||
                            job.reason == PendingReason::kDependency ||
                            job.reason == PendingReason::kDependencyNeverSatisfied;
    if (!was_parked) return;
  } else {
    job.expected_start_ms = 0;
  }
  if (job.reason != reason) {
    job.reason = reason;
    touch(job);
  }
}

// Priorities change with age and usage; like Slurm, they are recomputed periodically rather
// than continuously, which keeps the queue's order fixed between recomputations.
void Engine::recompute_priorities(int64_t now_ms) {
  fairshare_.decay(now_ms);
  if (scheduling_.adapt_demotion) learn_from_history();
  std::unordered_map<uint64_t, double> factor;  // per project: the same for all its jobs
  scheduler_.rekey([this](JobId id) -> Job& { return jobs_.at(id); },
                   [&](Job& job) {
                     // A job submitted before its project had any history gets a prediction once it
                     // has one. (Re-predicting every waiting job from the latest runtimes was
                     // measured worse: the jobs that finish first are the short ones, so
                     // predictions drift short.)
                     if (job.estimate_from_history && job.estimate_s == 0) {
                       const int64_t planned = predicted_s(job.project, job.gpus, job.time_limit_s);
                       if (planned != job.estimate_s) {
                         job.estimate_s = planned;
                         touch(job);
                       }
                     }
                     auto [it, fresh] = factor.try_emplace(job.project.value, 0.0);
                     if (fresh) it->second = fairshare_.factor(job.org, job.project);
                     job.priority = queue_priority(job, scheduling_, it->second,
                                                   cluster_.total_gpus(), now_ms);
                   });
  priorities_at_ms_ = now_ms;
}

void Engine::learn_from_history() {
  auto learned = service_.demote_threshold_gpu_s(kAdaptFloorGpuS, kAdaptGain, kAdaptMinJobs);
  if (!learned) return;
  // Gangs are never preempted for it: where they have nearly all the work, least attained
  // service could only stop the few small jobs for the wide ones.
  if (service_.single_node_share() < kAdaptMinSingleNodeShare) learned = 0;
  if (scheduling_.starve_after_s > 0)
    scheduling_.starve_after_s =
        std::max<int64_t>(1, std::llround(kStarveMeanRuns * service_.mean_run_s()));
  // Where jobs are alike, shortest-first orders them by noise in their predictions and only
  // makes the longest wait: submit order is fairer and no slower.
  // Where jobs are alike, or the predictions do not tell them apart, shortest-first orders
  // them by noise and only makes the longest wait: submit order is fairer and no slower.
  if (adapt_order_) {
    const bool informed = service_.all_cv() >= kAdaptAlikeCv &&
                          service_.prediction_error_ratio() < kAdaptPredictionGain;
    scheduling_.order = informed ? QueueOrder::kShortest : QueueOrder::kFifo;
  }
  scheduling_.demote_after_gpu_s = *learned;
  scheduler_.set_limits(scheduling_.demote_after_gpu_s, scheduling_.starve_after_s);
}

PendingReason Engine::cap_reason(const Job& job) const {
  if (job.array_throttle > 0) {
    if (jobs_.running_tasks(job.array_id) >= job.array_throttle)
      return PendingReason::kJobArrayTaskLimit;
  }
  if (const Limit* l = project_limit(job.project);
      l && l->max_gpus >= 0 && project_gpus_in_use(job.project) + job.gpus > l->max_gpus)
    return PendingReason::kQuotaLimit;
  if (const Limit* l = org_limit(job.org); l && l->max_gpus >= 0) {
    if (jobs_.gpus_of(job.org) + job.gpus > l->max_gpus) return PendingReason::kQuotaLimit;
  }
  return PendingReason::kNone;
}

PendingReason Engine::refusal(const Job& job, int64_t now_ms) const {
  if (const PendingReason r = cap_reason(job); r != PendingReason::kNone) return r;
  // Money, at the cheapest model it may run on: if even that is unaffordable, it must wait.
  const int cheapest = cluster_.models_for(job.gpu_model).front();  // validated: not empty
  const Quote q = price(job, cluster_.model_name(cheapest < 0 ? 0 : cheapest), now_ms);
  return q.affordable ? PendingReason::kNone : q.reason;
}

std::vector<JobId> Engine::schedule(int64_t now_ms) {
  if (now_ms - priorities_at_ms_ >= scheduling_.priority_recalc_ms) recompute_priorities(now_ms);
  scheduler_.replan_overdue(
      now_ms, [this](JobId id) -> Job& { return jobs_.at(id); },
      [this](const Job& job) { touch(job); });
  // The Engine as the pass's host: a local class, so it may use the Engine's private parts.
  class Host final : public SchedulerHost {
   public:
    Host(Engine& engine, int64_t now_ms) : e_(engine), now_ms_(now_ms) {}
    Job& job(JobId id) override { return e_.jobs_.at(id); }
    PendingReason admit(Job& job, const std::vector<NodeId>& nodes) override {
      return e_.admit(job, nodes, now_ms_);
    }
    void wait(Job& job, PendingReason reason, int64_t expected_start_ms) override {
      job.expected_start_ms = expected_start_ms;
      if (job.reason != reason) {
        job.reason = reason;
        e_.touch(job);
      }
    }
    PendingReason refusal(const Job& job) override { return e_.refusal(job, now_ms_); }
    bool can_preempt() const override { return true; }
    void preempt(Job& victim) override {
      victim.preempt_requested = true;
      e_.preemptions_.push_back(victim.id);
    }

   private:
    Engine& e_;
    int64_t now_ms_;
  } host(*this, now_ms);
  return scheduler_.pass(cluster_, now_ms, host);
}

std::vector<JobId> Engine::take_preemptions() {
  std::vector<JobId> out;
  out.swap(preemptions_);
  return out;
}

bool Engine::predicts(const JobRequest& r) const {
  return scheduling_.predict_runtimes && (r.time_limit_s == 0 || scheduling_.predict_with_limit);
}

int64_t Engine::predicted_s(ProjectId project, int gpus, int64_t time_limit_s) const {
  const auto p = predictor_.predict(project, gpus);
  return p && *p < time_limit_s ? *p : 0;
}

int64_t Engine::estimate(const JobRequest& r, int64_t time_limit_s) const {
  if (r.estimate_s > 0) return r.estimate_s < time_limit_s ? r.estimate_s : 0;
  return predicts(r) ? predicted_s(r.project, r.gpus, time_limit_s) : 0;
}

void Engine::learn_runtime(const Job& job) {
  const bool own_end = job.state == JobState::kCompleted || job.state == JobState::kFailed ||
                       job.state == JobState::kTimeout;
  // A job requeued before (preempted, or its node lost) ran for all its attempts together.
  if (own_end && job.end_ms > job.start_ms && job.start_ms > 0) {
    const int64_t ran_s = (job.ran_ms + job.end_ms - job.start_ms + 999) / 1000;
    // How well a job like it would have been predicted now, before its own run is learned.
    if (const auto predicted = predictor_.predict(job.project, job.gpus))
      service_.record_prediction(ran_s, *predicted);
    predictor_.record(job.project, job.gpus, ran_s);
    service_.record(job.gpus, ran_s, job.nodes > 1);
  }
}

}  // namespace berth::core
