// The Engine's job table (job_table.cc): lookups by id, ids in sequence, the changed jobs to
// write, the counters caps read, and which jobs wait on which.
#include "core/job_table.h"

#include <gtest/gtest.h>

#include <vector>

namespace berth::core {
namespace {

Job job_of(uint64_t id, ProjectId project = ProjectId(1), OrgId org = OrgId(1), int gpus = 1) {
  Job j;
  j.id = JobId(id);
  j.project = project;
  j.org = org;
  j.gpus = gpus;
  return j;
}

TEST(JobTableTest, FindsOnlyTheJobsItHolds) {
  JobTable t;
  EXPECT_EQ(t.next_id(), JobId(1));
  ASSERT_TRUE(t.add(job_of(1)).ok());
  ASSERT_TRUE(t.add(job_of(2)).ok());
  EXPECT_EQ(t.next_id(), JobId(3));
  EXPECT_EQ(t.find(JobId(0)), nullptr);
  EXPECT_EQ(t.find(JobId(3)), nullptr);
  ASSERT_NE(t.find(JobId(2)), nullptr);
  EXPECT_EQ(t.find(JobId(2))->id, JobId(2));
  EXPECT_EQ(&t.at(JobId(1)), t.find(JobId(1)));
  auto missing = t.get(JobId(7));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "job 7 not found");
  EXPECT_EQ(*t.get(JobId(1)), t.find(JobId(1)));
}

TEST(JobTableTest, RefusesAnIdOutOfSequenceAndAddsNothing) {
  JobTable t;
  auto added = t.add(job_of(2));
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.status().code(), Code::kInternal);
  EXPECT_EQ(added.status().message(), "job ids are not in sequence at 2");
  EXPECT_EQ(t.size(), 0u);
}

TEST(JobTableTest, AddingAJobNeverMovesTheOthers) {
  JobTable t;
  ASSERT_TRUE(t.add(job_of(1)).ok());
  const Job* first = t.find(JobId(1));
  for (uint64_t id = 2; id <= 10'000; ++id) ASSERT_TRUE(t.add(job_of(id)).ok());
  EXPECT_EQ(t.find(JobId(1)), first);
}

TEST(JobTableTest, ChangedJobsComeOnceInIdOrderAndAreThenForgotten) {
  JobTable t;
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(t.add(job_of(id)).ok());
  t.touch(t.at(JobId(3)));
  t.touch(t.at(JobId(1)));
  t.touch(t.at(JobId(3)));
  EXPECT_EQ(t.take_changed(), (std::vector<JobId>{JobId(1), JobId(3)}));
  EXPECT_TRUE(t.take_changed().empty());
  t.touch(t.at(JobId(2)));
  t.forget_changed();
  EXPECT_TRUE(t.take_changed().empty());
}

TEST(JobTableTest, CountsWaitingJobsAndRunningGpusPerProjectOrganisationAndArray) {
  JobTable t;
  Job a = job_of(1, ProjectId(1), OrgId(1), 4);
  Job b = job_of(2, ProjectId(2), OrgId(1), 2);
  b.array_id = JobId(2);
  t.count_pending(a, +1);
  t.count_pending(b, +1);
  EXPECT_EQ(t.pending_of(ProjectId(1)), 1);
  EXPECT_EQ(t.pending_of(OrgId(1)), 2);
  EXPECT_EQ(t.pending_of(ProjectId(3)), 0);
  t.count_pending(a, -1);
  t.count_running(a, +1);
  t.count_pending(b, -1);
  t.count_running(b, +1);
  EXPECT_EQ(t.pending_of(OrgId(1)), 0);
  EXPECT_EQ(t.gpus_of(ProjectId(1)), 4);
  EXPECT_EQ(t.gpus_of(ProjectId(2)), 2);
  EXPECT_EQ(t.gpus_of(OrgId(1)), 6);
  EXPECT_EQ(t.running_tasks(JobId(2)), 1);
  EXPECT_EQ(t.running_tasks(JobId(1)), 0);  // not an array
  t.count_running(a, -1);
  EXPECT_EQ(t.gpus_of(OrgId(1)), 2);
  EXPECT_EQ(t.gpus_of(ProjectId(1)), 0);
}

TEST(JobTableTest, RunningListsTheRunningJobsInIdOrder) {
  JobTable t;
  for (uint64_t id = 1; id <= 4; ++id) ASSERT_TRUE(t.add(job_of(id)).ok());
  t.at(JobId(2)).state = JobState::kRunning;
  t.at(JobId(4)).state = JobState::kRunning;
  t.at(JobId(3)).state = JobState::kCompleted;
  EXPECT_EQ(t.running(), (std::vector<JobId>{JobId(2), JobId(4)}));
}

TEST(JobTableTest, DependentsComeBackInTheOrderAddedOnce) {
  JobTable t;
  t.add_dependent(JobId(1), JobId(3));
  t.add_dependent(JobId(1), JobId(2));
  t.add_dependent(JobId(2), JobId(3));
  EXPECT_EQ(t.take_dependents(JobId(1)), (std::vector<JobId>{JobId(3), JobId(2)}));
  EXPECT_TRUE(t.take_dependents(JobId(1)).empty());
  EXPECT_EQ(t.take_dependents(JobId(2)), (std::vector<JobId>{JobId(3)}));
}

TEST(JobTableTest, DependenciesAreMetWaitingOrNeverAsEachTypeAsks) {
  JobTable t;
  for (uint64_t id = 1; id <= 4; ++id) ASSERT_TRUE(t.add(job_of(id)).ok());
  t.at(JobId(1)).state = JobState::kCompleted;
  t.at(JobId(2)).state = JobState::kFailed;
  // Job 3 is still pending.
  auto state = [&](std::vector<Dependency> deps) {
    Job& j = t.at(JobId(4));
    j.dependencies = std::move(deps);
    return t.dependency_state(j);
  };
  using D = JobTable::DepState;
  EXPECT_EQ(state({}), D::kMet);
  EXPECT_EQ(state({{DependencyType::kAfterOk, JobId(1)}}), D::kMet);
  EXPECT_EQ(state({{DependencyType::kAfterNotOk, JobId(2)}}), D::kMet);
  EXPECT_EQ(state({{DependencyType::kAfterAny, JobId(2)}}), D::kMet);
  EXPECT_EQ(state({{DependencyType::kAfterOk, JobId(1)}, {DependencyType::kAfterOk, JobId(3)}}),
            D::kWaiting);
  EXPECT_EQ(state({{DependencyType::kAfterOk, JobId(2)}}), D::kNever);
  EXPECT_EQ(state({{DependencyType::kAfterNotOk, JobId(1)}}), D::kNever);
  // Never wins over waiting, whatever the order.
  EXPECT_EQ(state({{DependencyType::kAfterOk, JobId(3)}, {DependencyType::kAfterOk, JobId(2)}}),
            D::kNever);
}

}  // namespace
}  // namespace berth::core
