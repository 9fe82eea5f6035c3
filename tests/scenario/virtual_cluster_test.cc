// The virtual-clock runner on its own: results do not depend on how time is advanced, and
// end events booked for an earlier attempt of a job are ignored.
#include "sim/virtual_cluster.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace berth::sim {
namespace {

using core::JobState;
using core::NodeState;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

core::ClusterConfig small_cluster() {
  core::ClusterConfig c;
  c.nodes = {core::Node{NodeId(), "n1", "H100", 8, 64, 1000, NodeState::kUp},
             core::Node{NodeId(), "n2", "H100", 8, 64, 1000, NodeState::kUp},
             core::Node{NodeId(), "a1", "A100", 4, 32, 1000, NodeState::kUp}};
  c.prices = {{"H100", 300'000}, {"A100", 123'457}};
  c.partitions = {core::Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

// A centre with one subsidised project whose award starts three hours in, and a wallet too
// small for everything, so that admission waits on money as well as on GPUs.
std::unique_ptr<VirtualCluster> make_centre(SimOptions options = {}) {
  auto vc = VirtualCluster::Create(small_cluster(), kT0, options);
  EXPECT_TRUE(vc.ok()) << vc.status().ToString();
  core::Engine& e = (*vc)->engine();
  const OrgId org = e.create_org("hku", core::OrgKind::kUniversity, kT0)->id;
  const ProjectId p = e.create_project(org, "vision", kT0)->id;
  const SchemeId s = e.create_scheme("ai", 7000, ~0u >> (32 - core::kOrgKindCount),
                                     core::Shortfall::kWallet, 100'000'0000, kT0)
                         ->id;
  EXPECT_TRUE(e.create_award(s, p, 20'000'0000, 12, kT0 + 3 * kHour, kT0 + 30 * kHour, kT0).ok());
  EXPECT_TRUE(e.top_up(p, 1'500'0000, "", kT0).ok());
  return std::move(*vc);
}

struct Submission {
  int64_t at_ms;
  core::JobRequest request;
  SimProcess process;
};

// A fixed pseudo-random workload: sizes, models, tiers, runtimes under and over their limits.
std::vector<Submission> workload() {
  std::vector<Submission> out;
  uint64_t x = 42;
  auto next = [&x](uint64_t n) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return (x >> 33) % n;
  };
  for (int i = 0; i < 60; ++i) {
    Submission s;
    s.at_ms = kT0 + static_cast<int64_t>(next(36)) * 10 * kMinute;
    s.request.project = ProjectId(1);
    s.request.gpus = 1 + static_cast<int>(next(4));
    s.request.gpu_model = next(3) == 0 ? "A100" : "";
    s.request.tier = static_cast<core::Tier>(next(3));
    s.request.time_limit_s = (1 + static_cast<int64_t>(next(4))) * 1800;
    if (next(5) != 0)
      s.process.runtime_ms =
          static_cast<int64_t>(next(150)) * kMinute + static_cast<int64_t>(next(1000));
    s.process.exit_code = next(7) == 0 ? 1 : 0;
    out.push_back(s);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Submission& a, const Submission& b) { return a.at_ms < b.at_ms; });
  return out;
}

struct Replay {
  std::vector<core::Job> jobs;
  uint64_t preemptions = 0;
};

// Replays the workload, moving the clock by at most max_step_ms at a time (0: straight to
// each submission). Preempted spot jobs take 30 s to stop.
Replay replay(int64_t max_step_ms, uint64_t jitter_seed) {
  SimOptions options;
  options.preempt_grace_ms = 30'000;
  auto vc = make_centre(options);
  const int64_t end = kT0 + 36 * kHour;
  uint64_t x = jitter_seed;
  auto go_to = [&](int64_t target) {
    while (vc->now_ms() < target) {
      int64_t step = target - vc->now_ms();
      if (max_step_ms > 0) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        step = std::min<int64_t>(
            step, 1 + static_cast<int64_t>((x >> 33) % static_cast<uint64_t>(max_step_ms)));
      }
      EXPECT_TRUE(vc->advance_by(step).ok());
    }
  };
  for (const Submission& s : workload()) {
    go_to(s.at_ms);
    EXPECT_TRUE(vc->submit(s.request, s.process).ok());
  }
  go_to(end);
  EXPECT_TRUE(vc->engine().verify().ok());
  const auto& jobs = vc->engine().jobs();
  return {{jobs.begin(), jobs.end()}, vc->preemptions()};
}

void expect_same_jobs(const Replay& ra, const Replay& rb) {
  EXPECT_EQ(ra.preemptions, rb.preemptions);
  const std::vector<core::Job>& a = ra.jobs;
  const std::vector<core::Job>& b = rb.jobs;
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("job " + std::to_string(i + 1));
    EXPECT_EQ(a[i].state, b[i].state);
    EXPECT_EQ(a[i].start_ms, b[i].start_ms);
    EXPECT_EQ(a[i].end_ms, b[i].end_ms);
    EXPECT_EQ(a[i].node, b[i].node);
    EXPECT_EQ(a[i].gpu_ids, b[i].gpu_ids);
    EXPECT_EQ(a[i].cost_minor, b[i].cost_minor);
    EXPECT_EQ(a[i].subsidy_minor, b[i].subsidy_minor);
    EXPECT_EQ(a[i].copay_minor, b[i].copay_minor);
    EXPECT_EQ(a[i].award, b[i].award);
    EXPECT_EQ(a[i].restarts, b[i].restarts);
  }
}

TEST(VirtualClusterTest, AdvancingInOneStepOrManyGivesTheSameResults) {
  const Replay direct = replay(0, 1);
  int finished = 0, subsidised = 0;
  for (const core::Job& j : direct.jobs) {
    finished += core::is_final(j.state);
    subsidised += j.subsidy_minor > 0;
  }
  // The workload is not trivial: most jobs ran, some with the award that starts later.
  EXPECT_GT(finished, 30);
  EXPECT_GT(subsidised, 5);
  EXPECT_GT(direct.preemptions, 0u);
  expect_same_jobs(direct, replay(kMinute, 7));
  expect_same_jobs(direct, replay(37 * kMinute, 11));
  expect_same_jobs(direct, replay(1000, 13));
}

TEST(VirtualClusterTest, StaleEndOfARequeuedJobIsIgnored) {
  auto vc = make_centre();
  core::JobRequest r;
  r.project = ProjectId(1);
  r.gpus = 8;
  r.time_limit_s = 2 * 3600;
  r.requeue = true;
  SimProcess run_1h;
  run_1h.runtime_ms = kHour;
  const JobId id = *vc->submit(r, run_1h);
  ASSERT_TRUE(vc->advance_by(30 * kMinute).ok());
  ASSERT_EQ(vc->engine().job(id)->state, JobState::kRunning);
  ASSERT_EQ(vc->engine().job(id)->node, NodeId(1));
  // n1 fails: the job is requeued and restarts on n2 at once, with a fresh hour to run.
  ASSERT_TRUE(vc->set_node_state(NodeId(1), NodeState::kDown).ok());
  ASSERT_TRUE(vc->advance_by(0).ok());
  EXPECT_EQ(vc->engine().job(id)->state, JobState::kRunning);
  EXPECT_EQ(vc->engine().job(id)->restarts, 1);
  EXPECT_EQ(vc->engine().job(id)->node, NodeId(2));
  // The first attempt's end (at 1 h) must not end the second attempt.
  ASSERT_TRUE(vc->advance_to(kT0 + kHour + kMinute).ok());
  EXPECT_EQ(vc->engine().job(id)->state, JobState::kRunning);
  EXPECT_EQ(vc->job_ends(), 0u);
  ASSERT_TRUE(vc->advance_to(kT0 + 2 * kHour).ok());
  const core::Job& j = *vc->engine().job(id);
  EXPECT_EQ(j.state, JobState::kCompleted);
  EXPECT_EQ(j.end_ms, kT0 + 90 * kMinute);
  // Charged for both attempts: 30 min then 60 min of 8 GPUs at 30/GPU-hour.
  EXPECT_EQ(j.cost_minor, 8 * 300'000 * 3 / 2);
  EXPECT_EQ(vc->job_ends(), 1u);
  EXPECT_TRUE(vc->engine().verify().ok());
}

TEST(VirtualClusterTest, CancelledRunningJobEndsNowAndItsBookedEndIsIgnored) {
  auto vc = make_centre();
  core::JobRequest r;
  r.project = ProjectId(1);
  r.gpus = 1;
  r.time_limit_s = 3600;
  const JobId id = *vc->submit(r);  // no runtime: would run to its limit
  ASSERT_TRUE(vc->advance_by(10 * kMinute).ok());
  ASSERT_TRUE(*vc->cancel(id));
  EXPECT_EQ(vc->engine().job(id)->state, JobState::kCancelled);
  EXPECT_EQ(vc->engine().job(id)->end_ms, kT0 + 10 * kMinute);
  ASSERT_TRUE(vc->advance_by(2 * kHour).ok());
  EXPECT_EQ(vc->engine().job(id)->state, JobState::kCancelled);
  EXPECT_EQ(vc->job_ends(), 0u);
}

TEST(VirtualClusterTest, RuntimeOverTheLimitTimesOutAtTheLimit) {
  auto vc = make_centre();
  core::JobRequest r;
  r.project = ProjectId(1);
  r.time_limit_s = 1800;
  SimProcess long_run;
  long_run.runtime_ms = 5 * kHour;
  SimProcess exact;
  exact.runtime_ms = 30 * kMinute;
  exact.exit_code = 3;
  const JobId over = *vc->submit(r, long_run);
  const JobId at_limit = *vc->submit(r, exact);
  ASSERT_TRUE(vc->advance_by(kHour).ok());
  EXPECT_EQ(vc->engine().job(over)->state, JobState::kTimeout);
  EXPECT_EQ(vc->engine().job(over)->end_ms, kT0 + 30 * kMinute);
  // A process that exits exactly at its limit ended on its own.
  EXPECT_EQ(vc->engine().job(at_limit)->state, JobState::kFailed);
  EXPECT_EQ(vc->engine().job(at_limit)->exit_code, 3);
}

TEST(VirtualClusterTest, ArrayTasksRunTheirOwnProcessesOrOneShared) {
  auto vc = make_centre();
  core::JobRequest r;
  r.project = ProjectId(1);
  r.time_limit_s = 3600;
  SimProcess short_run, failing;
  short_run.runtime_ms = 10 * kMinute;
  failing.runtime_ms = 20 * kMinute;
  failing.exit_code = 2;
  // Neither one process nor one per task: refused, and no job is created.
  EXPECT_FALSE(vc->submit_array(r, {0, 1, 2}, 0, {short_run, failing}).ok());
  EXPECT_TRUE(vc->engine().jobs().empty());
  const std::vector<JobId> own = *vc->submit_array(r, {0, 1}, 0, {short_run, failing});
  const std::vector<JobId> shared = *vc->submit_array(r, {4, 5}, 0, {short_run});
  ASSERT_EQ(own.size(), 2u);
  ASSERT_EQ(shared.size(), 2u);
  ASSERT_TRUE(vc->advance_by(kHour).ok());
  const core::Engine& e = vc->engine();
  EXPECT_EQ(e.job(own[0])->state, JobState::kCompleted);
  EXPECT_EQ(e.job(own[0])->end_ms, kT0 + 10 * kMinute);
  EXPECT_EQ(e.job(own[1])->state, JobState::kFailed);
  EXPECT_EQ(e.job(own[1])->end_ms, kT0 + 20 * kMinute);
  for (JobId id : shared) {
    EXPECT_EQ(e.job(id)->state, JobState::kCompleted);
    EXPECT_EQ(e.job(id)->end_ms, kT0 + 10 * kMinute);
  }
}

TEST(VirtualClusterTest, ReleasedJobIsScheduledAtTheNextFlush) {
  auto vc = make_centre();
  core::JobRequest r;
  r.project = ProjectId(1);
  r.time_limit_s = 3600;
  r.hold = true;
  const JobId id = *vc->submit(r);
  ASSERT_TRUE(vc->advance_by(kMinute).ok());
  EXPECT_EQ(vc->engine().job(id)->reason, core::PendingReason::kJobHeldUser);
  ASSERT_TRUE(vc->release(id).ok());
  vc->flush();  // nothing else happened: the release alone must bring a pass
  EXPECT_EQ(vc->engine().job(id)->state, JobState::kRunning);
  EXPECT_EQ(vc->engine().job(id)->start_ms, kT0 + kMinute);
  EXPECT_FALSE(vc->hold(id).ok());  // running
}

TEST(VirtualClusterTest, AReportFallingOverdueIsAnEventForAWaitingJob) {
  auto vc = VirtualCluster::Create(small_cluster(), kT0, {});
  ASSERT_TRUE(vc.ok());
  core::Engine& e = (*vc)->engine();
  const OrgId org = e.create_org("hku", core::OrgKind::kUniversity, kT0)->id;
  const ProjectId p = e.create_project(org, "vision", kT0)->id;
  const SchemeId s = e.create_scheme("strict", 7000, ~0u >> (32 - core::kOrgKindCount),
                                     core::Shortfall::kWait, 100'000'0000, kT0)
                         ->id;
  // An award too small for any job's share, so the job waits; a report is due a month in.
  ASSERT_TRUE(e.create_award(s, p, 1, 8, kT0, kT0 + 300 * 24 * kHour, kT0, 1).ok());
  ASSERT_TRUE(e.top_up(p, 1'000'0000, "", kT0).ok());
  core::JobRequest r;
  r.project = p;
  r.time_limit_s = 3600;
  const JobId id = *(*vc)->submit(r);
  (*vc)->flush();
  EXPECT_EQ(e.job(id)->reason, core::PendingReason::kInsufficientFunds);
  const int64_t due_ms = kT0 + 31 * 24 * kHour;  // 2026-02-01
  EXPECT_EQ((*vc)->next_event_ms(), std::optional<int64_t>(due_ms));
  // Nothing else happens: the due date alone must bring a pass, which shows the new reason.
  ASSERT_TRUE((*vc)->advance_by(40 * 24 * kHour).ok());
  EXPECT_EQ(e.job(id)->reason, core::PendingReason::kProgressReportOverdue);
}

TEST(VirtualClusterTest, RefusesToMoveTheClockBack) {
  auto vc = make_centre();
  ASSERT_TRUE(vc->advance_by(kMinute).ok());
  EXPECT_FALSE(vc->advance_to(kT0).ok());
  EXPECT_EQ(vc->now_ms(), kT0 + kMinute);
}

// Learning least attained service (adapt_demotion) turns a shortest-first order into submit
// order while the jobs that finished are alike (2 hours and a few minutes each), keeps it where
// they differ and their project predicts them (one project's jobs run 5 minutes, another's,
// one in four, 10 hours), and leaves an order the operator chose alone.
core::QueueOrder order_learned(core::QueueOrder order, bool alike) {
  SimOptions options;
  options.scheduling.order = order;
  options.scheduling.demote_after_gpu_s = 3600;
  options.scheduling.adapt_demotion = true;
  core::ClusterConfig cluster = small_cluster();
  for (core::GpuPrice& p : cluster.prices) p.per_gpu_hour_minor = 0;
  auto vc = VirtualCluster::Create(cluster, kT0, options);
  EXPECT_TRUE(vc.ok()) << vc.status().ToString();
  core::Engine& e = (*vc)->engine();
  const OrgId org = e.create_org("hku", core::OrgKind::kUniversity, kT0)->id;
  const ProjectId quick = e.create_project(org, "quick", kT0)->id;
  const ProjectId slow = e.create_project(org, "slow", kT0)->id;
  core::JobRequest r;
  r.gpus = 1;
  r.time_limit_s = 12 * 3600;
  for (int i = 0; i < 150; ++i) {
    const bool long_one = !alike && i % 4 == 0;
    r.project = long_one ? slow : quick;
    const int64_t runtime_ms =
        alike ? 2 * kHour + (i % 7) * kMinute : (long_one ? 10 * kHour : 5 * kMinute);
    EXPECT_TRUE((*vc)->submit(r, SimProcess{.runtime_ms = runtime_ms}).ok());
    EXPECT_TRUE((*vc)->advance_by(10 * kMinute).ok());
  }
  EXPECT_TRUE((*vc)->advance_by(100 * kHour).ok());
  if (alike) {
    EXPECT_EQ(e.demote_after_gpu_s(), 0) << "alike: nothing is demoted";
  }
  return e.queue_order();
}

TEST(VirtualClusterTest, LearningMakesShortestFirstSubmitOrderForJobsAlikeOnly) {
  using core::QueueOrder;
  EXPECT_EQ(order_learned(QueueOrder::kShortest, /*alike=*/true), QueueOrder::kFifo);
  EXPECT_EQ(order_learned(QueueOrder::kShortest, /*alike=*/false), QueueOrder::kShortest);
  for (const bool alike : {true, false}) {
    EXPECT_EQ(order_learned(QueueOrder::kPriority, alike), QueueOrder::kPriority);
    EXPECT_EQ(order_learned(QueueOrder::kFifo, alike), QueueOrder::kFifo);
  }
}

}  // namespace
}  // namespace berth::sim
