// The Engine's scheduling (scheduling.cc): queue order, caps and limits, fair share, backfill's
// plan, preemption of spot jobs, array throttles and planned runtimes.
#include <gtest/gtest.h>

#include <limits>

#include "core/engine.h"
#include "core/engine_fixture.h"

namespace berth::core {
namespace {

TEST_F(EngineTest, HighTierGoesFirstThenSubmitOrder) {
  top_up(1000'0000);
  const JobId normal = submit(8, 3600, "H100", Tier::kNormal, kT0);
  const JobId high = submit(8, 3600, "H100", Tier::kHigh, kT0 + 1);
  const JobId later = submit(8, 3600, "H100", Tier::kNormal, kT0 + 2);
  engine->schedule(kT0 + 2);
  EXPECT_EQ(job(high).state, JobState::kRunning);
  EXPECT_EQ(job(normal).reason, PendingReason::kResources);
  EXPECT_EQ(job(later).reason, PendingReason::kPriority);
}

TEST_F(EngineTest, FirstFitHonoursTheGpuModel) {
  top_up(1000'0000);
  const JobId any = submit(2, 3600, "");
  const JobId h100 = submit(2, 3600, "H100");
  engine->schedule(kT0);
  EXPECT_EQ(engine->cluster().node(job(any).node)->name, "a1");
  EXPECT_EQ(engine->cluster().node(job(h100).node)->name, "h1");
  EXPECT_EQ(job(any).price_per_gpu_hour_minor, 200'000);  // priced at the node it runs on
}

TEST_F(EngineTest, FairShareFavoursTheProjectThatUsedLess) {
  const ProjectId heavy = project;
  const ProjectId light = engine->create_project(org, "light", kT0)->id;
  ASSERT_TRUE(engine->top_up(heavy, 1000'0000, "", kT0).ok());
  ASSERT_TRUE(engine->top_up(light, 1000'0000, "", kT0).ok());
  JobRequest r;
  r.gpus = 8;
  r.gpu_model = "H100";
  r.time_limit_s = 3600;
  r.project = heavy;
  const JobId used = *engine->submit(r, kT0);
  engine->schedule(kT0);
  ASSERT_TRUE(engine->job_ended(used, JobEnd{}, kT0 + kHour, kT0 + kHour).ok());
  // Both submit at the same moment; the node fits one. The light project goes first.
  const int64_t t = kT0 + kHour + 1;
  const JobId heavy_job = *engine->submit(r, t);
  r.project = light;
  const JobId light_job = *engine->submit(r, t);
  EXPECT_GT(job(light_job).priority, job(heavy_job).priority);
  engine->schedule(t);
  EXPECT_EQ(job(light_job).state, JobState::kRunning);
  EXPECT_EQ(job(heavy_job).state, JobState::kPending);
  EXPECT_GT(engine->fairshare().usage(heavy), 8 * 3600 - 1);
}

TEST_F(EngineTest, PendingJobShowsWhenBackfillExpectsItToStart) {
  top_up(1000'0000);
  const JobId first = submit(8, 3600);
  const JobId second = submit(8, 3600);
  engine->schedule(kT0);
  EXPECT_EQ(job(first).state, JobState::kRunning);
  EXPECT_EQ(job(second).reason, PendingReason::kResources);
  EXPECT_EQ(job(second).expected_start_ms, kT0 + kHour);
}

TEST_F(EngineTest, NormalJobPreemptsTheYoungestSpotJobsAndTheyAreRequeued) {
  top_up(1000'0000);
  const JobId old_spot = submit(4, 3600, "H100", Tier::kSpot, kT0);
  const JobId young_spot = submit(4, 3600, "H100", Tier::kSpot, kT0);
  engine->schedule(kT0);
  ASSERT_EQ(job(old_spot).state, JobState::kRunning);
  ASSERT_EQ(job(young_spot).state, JobState::kRunning);  // same start: the higher id is younger
  const int64_t t = kT0 + 60'000;
  const JobId normal = submit(4, 3600, "H100", Tier::kNormal, t);
  EXPECT_TRUE(engine->schedule(t).empty());
  EXPECT_EQ(engine->take_preemptions(), std::vector<JobId>{young_spot});
  EXPECT_TRUE(engine->take_preemptions().empty());
  EXPECT_EQ(job(normal).reason, PendingReason::kResources);
  EXPECT_EQ(job(normal).expected_start_ms, t);
  // While the spot job is still stopping, nobody else is asked to stop and nothing takes its node.
  const JobId small = submit(1, 600, "H100", Tier::kNormal, t);
  EXPECT_TRUE(engine->schedule(t + 1).empty());
  EXPECT_TRUE(engine->take_preemptions().empty());
  // It stops after its grace period: charged 70 s at the spot price, requeued.
  ASSERT_TRUE(
      engine->job_ended(young_spot, JobEnd{0, 15, false, true, false}, t + 10'000, t + 10'000)
          .ok());
  EXPECT_EQ(job(young_spot).state, JobState::kPending);
  EXPECT_EQ(job(young_spot).restarts, 1);
  EXPECT_EQ(job(young_spot).cost_minor, gpu_cost_minor(kPrice / 2, 4, 70'000));
  engine->schedule(t + 10'000);
  EXPECT_EQ(job(normal).state, JobState::kRunning);
  EXPECT_EQ(job(small).state, JobState::kPending);  // the node is full again: 4 spot + 4 normal
  EXPECT_EQ(job(young_spot).state, JobState::kPending);
  EXPECT_EQ(job(old_spot).state, JobState::kRunning);
  EXPECT_TRUE(engine->verify().ok());
}

TEST_F(EngineTest, SpotJobsNeverPreemptEachOther) {
  top_up(1000'0000);
  submit(8, 3600, "H100", Tier::kSpot, kT0);
  engine->schedule(kT0);
  const JobId other = submit(8, 3600, "H100", Tier::kSpot, kT0 + 1);
  engine->schedule(kT0 + 1);
  EXPECT_TRUE(engine->take_preemptions().empty());
  EXPECT_EQ(job(other).reason, PendingReason::kResources);
}

TEST_F(EngineTest, ArrayTasksRespectTheThrottle) {
  top_up(1000'0000);
  JobRequest r;
  r.project = project;
  r.gpus = 1;
  r.time_limit_s = 600;
  auto ids = engine->submit_array(r, {0, 1, 2, 3, 4}, 2, kT0);
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 5u);
  EXPECT_EQ(job((*ids)[3]).array_id, (*ids)[0]);
  EXPECT_EQ(job((*ids)[3]).array_index, 3);
  EXPECT_EQ(engine->schedule(kT0).size(), 2u);
  EXPECT_EQ(job((*ids)[2]).reason, PendingReason::kJobArrayTaskLimit);
  ASSERT_TRUE(engine->job_ended((*ids)[0], JobEnd{}, kT0 + 1000, kT0 + 1000).ok());
  EXPECT_EQ(engine->schedule(kT0 + 1000).size(), 1u);
}

TEST(LimitsTest, GpuCapsHoldJobsAsQuotaLimitAndPendingCapsRefuseSubmits) {
  SchedulerConfig sc;
  sc.project_limits["vision"] = Limit{4, 2};
  sc.org_limits["hku"] = Limit{6, -1};
  auto e = std::move(*Engine::Create(two_nodes(), kT0, sc));
  const OrgId o = e->create_org("hku", OrgKind::kUniversity, kT0)->id;
  const ProjectId vision = e->create_project(o, "vision", kT0)->id;
  const ProjectId audio = e->create_project(o, "audio", kT0)->id;
  ASSERT_TRUE(e->top_up(vision, 1000'0000, "", kT0).ok());
  ASSERT_TRUE(e->top_up(audio, 1000'0000, "", kT0).ok());
  JobRequest r;
  r.project = vision;
  r.gpu_model = "H100";
  r.time_limit_s = 3600;
  r.gpus = 5;
  EXPECT_EQ(e->submit(r, kT0).status().code(),
            Code::kInvalidArgument);  // over the project's cap: never runs
  r.gpus = 3;
  const JobId a = *e->submit(r, kT0);
  const JobId b = *e->submit(r, kT0);
  EXPECT_EQ(e->submit(r, kT0).status().code(), Code::kConflict);  // two already waiting
  r.project = audio;
  const JobId c = *e->submit(r, kT0);
  e->schedule(kT0);
  EXPECT_EQ(e->job(a)->state, JobState::kRunning);
  EXPECT_EQ(e->job(b)->reason, PendingReason::kQuotaLimit);  // vision would hold 6 > 4
  EXPECT_EQ(e->job(c)->state, JobState::kRunning);           // hku now holds 6 of its 6
  r.gpus = 1;
  const JobId d = *e->submit(r, kT0);
  e->schedule(kT0);
  EXPECT_EQ(e->job(d)->reason, PendingReason::kQuotaLimit);  // the organisation's cap
  ASSERT_TRUE(e->job_ended(a, JobEnd{}, kT0 + 1000, kT0 + 1000).ok());
  e->schedule(kT0 + 1000);
  EXPECT_EQ(e->job(b)->state, JobState::kRunning);
}

TEST_F(GangTest, JobsWithoutALimitArePlannedWithTheProjectsRecentRuntimes) {
  // Two finished 8-GPU jobs ran 10 and 20 minutes: the next is planned for 15.
  for (int64_t minutes : {10, 20}) {
    const JobId id = *submit(8, 1, 0);
    engine->schedule(kT0);
    ASSERT_TRUE(
        engine->job_ended(id, JobEnd{}, kT0 + minutes * 60'000, kT0 + minutes * 60'000).ok());
  }
  const JobId next = *submit(8, 1, 0, kT0 + kHour);
  EXPECT_EQ(engine->job(next)->time_limit_s, 3600);  // the partition's default still ends it
  EXPECT_EQ(engine->job(next)->estimate_s, 15 * 60);
  EXPECT_EQ(engine->job(next)->planned_s(), 15 * 60);
  // A different size falls back to the project's history; a given limit is planned as is.
  EXPECT_EQ(engine->job(*submit(16, 2, 0, kT0 + kHour))->estimate_s, 15 * 60);
  EXPECT_EQ(engine->job(*submit(8, 1, 1800, kT0 + kHour))->estimate_s, 0);
  // A restored engine learns the same history.
  auto restored = Engine::Restore(three_h100(), engine->snapshot());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ((*restored)->predictor().predict(project, 8), 15 * 60);
}

TEST_F(GangTest, ShortestFirstOrdersByPlannedGpuTime) {
  SchedulerConfig config;
  config.order = QueueOrder::kShortest;
  engine = std::move(*Engine::Create(three_h100(), kT0, config));
  org = engine->create_org("o", OrgKind::kUniversity, kT0)->id;
  project = engine->create_project(org, "p", kT0)->id;
  ASSERT_TRUE(engine->top_up(project, 10'000'0000, "", kT0).ok());
  const JobId fill = *submit(24, 3, 600);
  engine->schedule(kT0);
  const JobId long_small = *submit(8, 1, 7200);  // 57,600 GPU-s
  const JobId short_big = *submit(16, 2, 1200);  // 19,200 GPU-s: first
  ASSERT_TRUE(engine->job_ended(fill, JobEnd{}, kT0 + 600'000, kT0 + 600'000).ok());
  const auto started = engine->schedule(kT0 + 600'000);
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[0], short_big);
  EXPECT_EQ(started[1], long_small);
}

}  // namespace
}  // namespace berth::core
