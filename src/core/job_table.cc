#include "core/job_table.h"

#include <algorithm>
#include <string>
#include <utility>

namespace berth::core {

Result<Job*> JobTable::get(JobId id) {
  Job* job = find(id);
  if (!job) return Status::NotFound("job " + std::to_string(id.value) + " not found");
  return job;
}

Result<Job*> JobTable::add(Job job) {
  if (job.id != next_id())
    return Status::Internal("job ids are not in sequence at " + std::to_string(job.id.value));
  jobs_.push_back(std::move(job));
  return &jobs_.back();
}

std::vector<JobId> JobTable::running() const {
  std::vector<JobId> out;
  for (const Job& j : jobs_)
    if (j.state == JobState::kRunning) out.push_back(j.id);
  return out;
}

std::vector<JobId> JobTable::take_changed() {
  std::vector<JobId> ids;
  ids.reserve(changed_.size());
  for (uint64_t id : changed_) ids.push_back(JobId(id));
  std::sort(ids.begin(), ids.end());
  changed_.clear();
  return ids;
}

void JobTable::count_pending(const Job& job, int delta) {
  project_pending_[job.project.value] += delta;
  org_pending_[job.org.value] += delta;
}

void JobTable::count_running(const Job& job, int sign) {
  project_gpus_[job.project.value] += sign * job.gpus;
  org_gpus_[job.org.value] += sign * job.gpus;
  if (job.award.valid()) award_gpus_[job.award.value] += sign * job.gpus;
  if (job.array_id.valid()) array_running_[job.array_id.value] += sign;
}

std::vector<JobId> JobTable::take_dependents(JobId job) {
  std::vector<JobId> out;
  auto it = dependents_.find(job.value);
  if (it == dependents_.end()) return out;
  out.reserve(it->second.size());
  for (uint64_t id : it->second) out.push_back(JobId(id));
  dependents_.erase(it);
  return out;
}

JobTable::DepState JobTable::dependency_state(const Job& job) const {
  DepState state = DepState::kMet;
  for (const Dependency& d : job.dependencies) {
    const Job& other = at(d.job);
    if (!is_final(other.state)) {
      state = DepState::kWaiting;
      continue;
    }
    const bool ok = other.state == JobState::kCompleted;
    if ((d.type == DependencyType::kAfterOk && !ok) ||
        (d.type == DependencyType::kAfterNotOk && ok))
      return DepState::kNever;
  }
  return state;
}

}  // namespace berth::core
