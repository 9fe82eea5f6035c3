// JobTable: the Engine's jobs by id, what it counts of them, and which jobs wait on which.
//
// Ids are dense from 1 (index = id - 1) and never reused. The jobs live in a deque, so adding
// one never moves the others: with hundreds of thousands of jobs a vector's regrowth held the
// core thread for a fifth of a second. The counters are the caller's to keep (count_pending,
// count_running), since only the caller knows when a job starts waiting or running; the table
// keeps them in one place so caps and limits read one number. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "core/model.h"

namespace berth::core {

class JobTable {
 public:
  // The job with this id; nullptr when there is none.
  Job* find(JobId id) { return exists(id) ? &jobs_[id.value - 1] : nullptr; }
  const Job* find(JobId id) const { return exists(id) ? &jobs_[id.value - 1] : nullptr; }
  // The same, NotFound ("job N not found") when there is none: for ids a caller gave.
  Result<Job*> get(JobId id);
  // A job that exists: for ids the Engine itself holds (queues, dependencies checked on submit).
  Job& at(JobId id) { return jobs_[id.value - 1]; }
  const Job& at(JobId id) const { return jobs_[id.value - 1]; }
  bool exists(JobId id) const { return id.value != 0 && id.value <= jobs_.size(); }

  // The id the next job added gets.
  JobId next_id() const { return JobId(jobs_.size() + 1); }
  // Adds a job whose id is next_id() (Internal otherwise, nothing added); returns it.
  Result<Job*> add(Job job);
  const std::deque<Job>& all() const { return jobs_; }
  std::deque<Job>& all() { return jobs_; }
  size_t size() const { return jobs_.size(); }
  std::vector<JobId> running() const;

  // Jobs changed since the last take_changed(), to be written.
  void touch(const Job& job) { changed_.insert(job.id.value); }
  // The jobs changed, in id order; forgets them.
  std::vector<JobId> take_changed();
  void forget_changed() { changed_.clear(); }

  // Jobs waiting (pending, held or not) per project and organisation: +1 or -1 by the caller.
  void count_pending(const Job& job, int delta);
  int64_t pending_of(ProjectId project) const { return value(project_pending_, project.value); }
  int64_t pending_of(OrgId org) const { return value(org_pending_, org.value); }
  // GPUs of running jobs per project and organisation, per award holding their subsidy share
  // (job.award, set before the start is counted and kept until the end is), and running tasks
  // per array: sign +1 when a job starts, -1 when it ends.
  void count_running(const Job& job, int sign);
  int gpus_of(ProjectId project) const { return value(project_gpus_, project.value); }
  int gpus_of(OrgId org) const { return value(org_gpus_, org.value); }
  int gpus_of(AwardId award) const { return value(award_gpus_, award.value); }
  int running_tasks(JobId array) const { return value(array_running_, array.value); }

  // Dependencies: `waiting` waits for `on` to end. take_dependents returns (and forgets) the
  // jobs that wait for `job`, in the order they were added.
  void add_dependent(JobId on, JobId waiting) { dependents_[on.value].push_back(waiting.value); }
  std::vector<JobId> take_dependents(JobId job);
  enum class DepState { kMet, kWaiting, kNever };
  // Whether a job's dependencies (on jobs in the table) are met, still waiting, or never will be.
  DepState dependency_state(const Job& job) const;

 private:
  template <typename Map>
  static typename Map::mapped_type value(const Map& map, uint64_t key) {
    auto it = map.find(key);
    return it == map.end() ? 0 : it->second;
  }

  std::deque<Job> jobs_;
  std::unordered_set<uint64_t> changed_;
  std::unordered_map<uint64_t, std::vector<uint64_t>>
      dependents_;                                   // job -> pending jobs waiting on it
  std::unordered_map<uint64_t, int> array_running_;  // array id -> tasks running
  std::unordered_map<uint64_t, int> project_gpus_;   // project id -> GPUs of running jobs
  std::unordered_map<uint64_t, int> org_gpus_;       // org id -> GPUs of running jobs
  std::unordered_map<uint64_t, int> award_gpus_;     // award id -> GPUs of the jobs it subsidises
  std::unordered_map<uint64_t, int64_t> project_pending_, org_pending_;  // jobs waiting
};

}  // namespace berth::core
