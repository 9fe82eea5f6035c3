// The core loop (server/core_loop.h) driven step by step with its fakes: a store that can fail
// a commit, a manual clock and an executor that records launches and stops. No sleeps: the
// tests call run_batch() and the orderly stop's halves themselves, except the last, which runs
// the core thread and waits only on replies.
#include "server/core_loop.h"

#include <gtest/gtest.h>

#include <future>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/one_node.h"
#include "server/core_loop_fakes.h"
#include "server/launch_spec.h"
#include "store/sqlite_store.h"

namespace berth::server {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHourMs = 60 * kMinute;
constexpr Minor kPricePerGpuHour = 300'000;  // one_node(): 30.0000 per GPU-hour

// What a job of one GPU costs for `ran_ms`.
Minor cost_of(int64_t ran_ms) { return kPricePerGpuHour * ran_ms / kHourMs; }

class CoreLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.empty()); }
  void TearDown() override { loop_.reset(); }

  // Opens a loop on the state kept in the temporary folder. A loop already open is dropped
  // first without an orderly stop, as a crash would leave it; the new executor knows no job.
  void open() {
    loop_.reset();
    auto sqlite = store::SqliteStore::Open(dir_ + "/berth.db");
    ASSERT_TRUE(sqlite.ok()) << sqlite.status().ToString();
    auto faulty = std::make_unique<FaultyStore>(std::move(*sqlite));
    store_ = faulty.get();
    CoreLoop::Settings settings{core::one_node(),
                                {},
                                LaunchSettings{dir_, "test-run", false, "", false, 1000},
                                node_timeout_ms_};
    CoreLoop::Hooks hooks;
    hooks.stop_orphans = [this](const std::set<uint64_t>& jobs) { orphans_.push_back(jobs); };
    hooks.store_failed = [this](const std::string& what, const Status&, store::Store&) {
      failed_.push_back(what);
    };
    auto make_executor = [this](executor::ExitCallback report) {
      auto fake = std::make_unique<FakeExecutor>(std::move(report));
      executor_ = fake.get();
      return fake;
    };
    auto loop = CoreLoop::Open(std::move(settings), std::move(faulty), clock_, make_executor,
                               std::move(hooks));
    ASSERT_TRUE(loop.ok()) << loop.status().ToString();
    loop_ = std::move(*loop);
  }

  // Runs `work` in one batch and returns what the loop told it after the batch; the launches
  // and stops of the batch have reached the executor when it returns.
  Status step(const std::function<void(CoreContext&)>& work = [](CoreContext&) {}) {
    std::optional<Status> done;
    EXPECT_TRUE(loop_->submit({work, [&](const Status& st) { done = st; }}));
    const Status batch = loop_->run_batch();
    loop_->drain_launches();
    EXPECT_TRUE(done.has_value());
    EXPECT_EQ(batch.ok(), done.has_value() && done->ok());
    return done.value_or(Status::Internal("not answered"));
  }

  // An organisation with a project whose wallet holds 1000.0000.
  void fund() {
    ASSERT_TRUE(step([&](CoreContext& c) {
                  const OrgId org =
                      c.engine.create_org("hku", core::OrgKind::kUniversity, c.now_ms)->id;
                  project_ = c.engine.create_project(org, "vision", c.now_ms)->id;
                  ASSERT_TRUE(c.engine.top_up(project_, 1000'0000, "", c.now_ms).ok());
                }).ok());
  }
  core::JobRequest one_gpu() const {
    core::JobRequest r;
    r.name = "train";
    r.user = "ana";
    r.project = project_;
    r.gpus = 1;
    r.time_limit_s = 4 * 3600;
    r.launch = R"({"stdout": "/dev/null"})";
    return r;
  }
  // Submits a job of one GPU in one batch, which starts it; the job's id (invalid if the
  // batch was not kept).
  JobId start_job(Status* batch = nullptr) {
    JobId id;
    const Status st = step([&](CoreContext& c) {
      auto submitted = c.engine.submit(one_gpu(), c.now_ms);
      ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
      id = *submitted;
    });
    if (batch) *batch = st;
    return st.ok() ? id : JobId();
  }

  const core::Job& job(JobId id) { return *loop_->engine().job(id); }
  const core::Node& h1() { return *loop_->engine().cluster().node_by_name("h1"); }
  // h1's agent registers (with the configured figures) or beats, in one batch.
  void agent_registers() {
    ASSERT_TRUE(step([&](CoreContext& c) {
                  const core::Node& n = h1();
                  core::AgentHello hello{"0.1.0", "10.0.0.1", "none",     n.gpu_model,
                                         n.gpus,  n.cpus,     n.memory_mb};
                  ASSERT_TRUE(c.engine.agent_registered(n.id, hello, c.now_ms).ok());
                }).ok());
  }
  void agent_beats() {
    ASSERT_TRUE(step([&](CoreContext& c) {
                  ASSERT_TRUE(c.engine.node_heard(h1().id, c.now_ms).ok());
                }).ok());
  }
  Minor wallet_available() {
    const core::Engine& e = loop_->engine();
    return e.ledger().account(e.funding().project(project_)->wallet)->available();
  }
  void expect_books_verify() {
    const Status st = loop_->engine().verify();
    EXPECT_TRUE(st.ok()) << st.ToString();
  }

  ScratchDir scratch_;
  const std::string dir_ = scratch_.path();
  ManualClock clock_{kT0};
  std::unique_ptr<CoreLoop> loop_;
  FaultyStore* store_ = nullptr;      // owned by loop_
  FakeExecutor* executor_ = nullptr;  // owned by loop_
  std::vector<std::set<uint64_t>> orphans_;
  std::vector<std::string> failed_;
  ProjectId project_;
  int64_t node_timeout_ms_ = 0;
};

TEST_F(CoreLoopTest, ABatchIsAcknowledgedAndItsJobsLaunchedOnlyOnceCommitted) {
  open();
  fund();
  const JobId id = start_job();
  ASSERT_TRUE(id.valid());
  EXPECT_EQ(executor_->launched(), std::vector<JobId>{id});
  EXPECT_EQ(job(id).state, core::JobState::kRunning);
  // What was acknowledged is in the store: a restart finds the job (and settles it as lost).
  open();
  EXPECT_EQ(orphans_, std::vector<std::set<uint64_t>>{{id.value}});
  EXPECT_EQ(job(id).state, core::JobState::kNodeFail);
}

TEST_F(CoreLoopTest, AJobTheOomKillerEndedIsOutOfMemoryChargedForItsTime) {
  open();
  fund();
  const JobId id = start_job();
  clock_.advance_ms(30 * kMinute);
  executor_->exit_out_of_memory(id);
  ASSERT_TRUE(step().ok());
  EXPECT_EQ(job(id).state, core::JobState::kOutOfMemory);
  EXPECT_EQ(job(id).cost_minor, cost_of(30 * kMinute));
  expect_books_verify();
}

// The job's box on its node, from its requests as Slurm reads them: decided at submit (the
// route reads them into the request), or, for a job submitted before berth kept boxes, read
// from its launch description at launch by the same rule.
TEST_F(CoreLoopTest, ALaunchCarriesTheCpusAndMemoryTheJobAskedFor) {
  open();
  fund();
  const std::vector<std::pair<std::string, std::pair<int, int64_t>>> cases = {
      {R"({})", {0, 0}},
      {R"({"resources": {"mem_mb": 512}})", {0, 512}},
      {R"({"resources": {"cpus_per_task": 4, "ntasks_per_node": 2}})", {8, 0}},
      {R"({"resources": {"cpus_per_task": 2, "mem_per_cpu_mb": 300}})", {2, 600}},
      {R"({"resources": {"mem_per_cpu_mb": 300}})", {0, 300}},
      {R"({"resources": {"cpus_per_gpu": 6, "mem_per_gpu_mb": 800}})", {6, 800}},
  };
  for (const auto& [resources, expected] : cases) {
    core::JobRequest r = one_gpu();
    nlohmann::json launch = nlohmann::json::parse(resources);
    launch["stdout"] = "/dev/null";
    r.launch = launch.dump();
    for (bool kept : {true, false}) {
      r.box = kept ? box_request(launch) : core::BoxRequest{};
      JobId id;
      ASSERT_TRUE(step([&](CoreContext& c) { id = *c.engine.submit(r, c.now_ms); }).ok());
      EXPECT_EQ(job(id).cpus_per_node, kept ? expected.first : 0) << resources;
      ASSERT_FALSE(executor_->specs().empty()) << resources;
      const executor::LaunchSpec spec = executor_->specs().back();
      EXPECT_EQ(spec.job, id);
      EXPECT_EQ(spec.cpus, expected.first) << resources;
      EXPECT_EQ(spec.memory_mb, expected.second) << resources;
      executor_->exit(id, 0);  // its GPU free for the next
      ASSERT_TRUE(step().ok());
    }
  }
}

TEST_F(CoreLoopTest, AFailedCommitAcknowledgesNothingAndLaunchesNothing) {
  open();
  fund();
  const Minor available = wallet_available();
  store_->fail_next_commit();
  JobId first;
  const Status failed =
      step([&](CoreContext& c) { first = *c.engine.submit(one_gpu(), c.now_ms); });
  EXPECT_EQ(failed.code(), Code::kUnavailable) << failed.ToString();
  EXPECT_EQ(failed_, std::vector<std::string>{"commit"});
  EXPECT_TRUE(executor_->launched().empty());
  // The engine went back to what was committed: no such job, no money held for it.
  EXPECT_EQ(loop_->engine().job(first), nullptr);
  EXPECT_EQ(wallet_available(), available);
  expect_books_verify();
  // The request made again is kept: the same id, started and launched once.
  const JobId again = start_job();
  EXPECT_EQ(again, first);
  EXPECT_EQ(executor_->launched(), std::vector<JobId>{again});
  EXPECT_EQ(job(again).state, core::JobState::kRunning);
}

TEST_F(CoreLoopTest, AFailedCommitStopsNoJobAndKeepsTheExitsItTook) {
  open();
  fund();
  const JobId a = start_job();
  const JobId b = start_job();
  clock_.advance_ms(10 * kMinute);
  executor_->exit(a, 0);  // a ended on its own; b is cancelled in the batch that fails
  store_->fail_next_commit();
  const Status failed = step([&](CoreContext& c) {
    ASSERT_TRUE(c.engine.cancel(b, c.now_ms).ok());
    c.terminate.push_back(b);
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(executor_->stopped().empty());
  EXPECT_EQ(job(a).state, core::JobState::kRunning);
  EXPECT_EQ(job(b).state, core::JobState::kRunning);
  // a's end was not lost with the batch: the next one applies it.
  clock_.advance_ms(kMinute);
  ASSERT_TRUE(step().ok());
  EXPECT_EQ(job(a).state, core::JobState::kCompleted);
  EXPECT_EQ(job(b).state, core::JobState::kRunning);
  expect_books_verify();
}

TEST_F(CoreLoopTest, ANodeStateThatCannotBeRecordedIsNotAcknowledged) {
  open();
  store_->fail_next_node_state();
  const Status failed = step([&](CoreContext& c) {
    const core::Node* h1 = c.engine.cluster().node_by_name("h1");
    ASSERT_TRUE(c.engine.change_node_state(h1->id, core::NodeState::kDrain, c.now_ms).ok());
  });
  EXPECT_EQ(failed.code(), Code::kUnavailable) << failed.ToString();
  EXPECT_EQ(failed_, std::vector<std::string>{"recording the state of node h1"});
  // The engine holds what the store holds: the node is still up, and a restart agrees.
  EXPECT_EQ(loop_->engine().cluster().node_by_name("h1")->state, core::NodeState::kUp);
  open();
  EXPECT_EQ(loop_->engine().cluster().node_by_name("h1")->state, core::NodeState::kUp);
}

TEST_F(CoreLoopTest, AJobLostWhileDownIsSettledOnceUpToTheLastAliveMark) {
  open();
  fund();
  const JobId id = start_job();
  clock_.advance_ms(10 * kMinute);
  ASSERT_TRUE(step().ok());  // a heartbeat: the last moment berthd is known alive
  const int64_t last_alive_ms = clock_.now_ms();
  clock_.advance_ms(50 * kMinute);  // berthd is down meanwhile
  open();
  EXPECT_EQ(orphans_, std::vector<std::set<uint64_t>>{{id.value}});
  EXPECT_EQ(job(id).state, core::JobState::kNodeFail);
  EXPECT_EQ(job(id).end_ms, last_alive_ms);
  EXPECT_EQ(job(id).cost_minor, cost_of(10 * kMinute));
  EXPECT_TRUE(executor_->launched().empty());
  expect_books_verify();
  const Minor available = wallet_available();
  // A second restart finds it settled: nothing to stop, nothing charged again.
  clock_.advance_ms(5 * kMinute);
  open();
  EXPECT_EQ(orphans_.size(), 1u);
  EXPECT_EQ(job(id).state, core::JobState::kNodeFail);
  EXPECT_EQ(job(id).end_ms, last_alive_ms);
  EXPECT_EQ(job(id).cost_minor, cost_of(10 * kMinute));
  EXPECT_EQ(wallet_available(), available);
  expect_books_verify();
}

TEST_F(CoreLoopTest, AnOrderlyStopChargesEachJobExactlyTheTimeItRan) {
  open();
  fund();
  const Minor available = wallet_available();
  const JobId a = start_job();  // at kT0
  clock_.advance_ms(20 * kMinute);
  const JobId b = start_job();  // at kT0 + 20 min
  const JobId c = start_job();
  clock_.advance_ms(25 * kMinute);
  const std::vector<JobId> stopping = loop_->begin_orderly_stop();
  loop_->drain_launches();
  EXPECT_EQ(stopping, (std::vector<JobId>{a, b, c}));
  EXPECT_EQ(executor_->stopped(), (std::vector<JobId>{a, b, c}));
  // a leaves on SIGTERM; c had ended on its own just before; b reports nothing in time.
  executor_->exit(a, 0, true);
  executor_->exit(c, 0);
  ASSERT_TRUE(loop_->finish_orderly_stop(stopping).ok());
  const int64_t now = kT0 + 45 * kMinute;
  EXPECT_EQ(job(a).state, core::JobState::kNodeFail);
  EXPECT_EQ(job(b).state, core::JobState::kNodeFail);
  EXPECT_EQ(job(c).state, core::JobState::kCompleted);
  for (JobId id : {a, b, c}) EXPECT_EQ(job(id).end_ms, now);
  EXPECT_EQ(job(a).cost_minor, cost_of(45 * kMinute));
  EXPECT_EQ(job(b).cost_minor, cost_of(25 * kMinute));
  EXPECT_EQ(job(c).cost_minor, cost_of(25 * kMinute));
  EXPECT_EQ(wallet_available(), available - cost_of(95 * kMinute));
  expect_books_verify();
  // The stop was committed: a restart has nothing left running to settle.
  open();
  EXPECT_TRUE(orphans_.empty());
  EXPECT_EQ(job(b).cost_minor, cost_of(25 * kMinute));
  expect_books_verify();
}

TEST_F(CoreLoopTest, AStopAnswersWhatIsQueuedAndRefusesWhatComesAfter) {
  open();
  bool ran = false;
  std::optional<Status> done;
  ASSERT_TRUE(
      loop_->submit({[&](CoreContext&) { ran = true; }, [&](const Status& st) { done = st; }}));
  EXPECT_TRUE(loop_->begin_orderly_stop().empty());
  EXPECT_FALSE(ran);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->code(), Code::kUnavailable);
  EXPECT_FALSE(loop_->submit({[](CoreContext&) {}, [](const Status&) {}}));
}

TEST_F(CoreLoopTest, TheCoreThreadAnswersAfterEachCommitAndStopsInOrder) {
  open();
  fund();
  executor_->exit_when_stopped();
  loop_->start();
  std::promise<Status> answered;
  JobId id;
  ASSERT_TRUE(loop_->submit({[&](CoreContext& c) { id = *c.engine.submit(one_gpu(), c.now_ms); },
                             [&](const Status& st) { answered.set_value(st); }}));
  ASSERT_TRUE(answered.get_future().get().ok());
  clock_.advance_ms(30 * kMinute);
  loop_->stop();
  loop_->join();
  EXPECT_EQ(executor_->stopped(), std::vector<JobId>{id});
  EXPECT_EQ(job(id).state, core::JobState::kNodeFail);
  EXPECT_EQ(job(id).cost_minor, cost_of(30 * kMinute));
  expect_books_verify();
}

class CoreLoopAgentsTest : public CoreLoopTest {
 protected:
  CoreLoopAgentsTest() { node_timeout_ms_ = kMinute; }
};

TEST_F(CoreLoopAgentsTest, ASilentAgentsNodeGoesDownItsJobStoppedAndChargedToTheHeartbeat) {
  open();
  fund();
  agent_registers();
  const JobId id = start_job();
  clock_.advance_ms(5 * kMinute);
  agent_beats();
  const int64_t heard_ms = clock_.now_ms();
  clock_.advance_ms(kMinute);
  ASSERT_TRUE(step().ok());
  EXPECT_EQ(h1().state, core::NodeState::kUp) << "silent for the timeout, not longer";
  clock_.advance_ms(1);
  ASSERT_TRUE(step().ok());
  EXPECT_EQ(h1().state, core::NodeState::kDown);
  EXPECT_TRUE(h1().silent_down);
  EXPECT_EQ(job(id).state, core::JobState::kNodeFail);
  EXPECT_EQ(job(id).end_ms, heard_ms);
  EXPECT_EQ(job(id).cost_minor, cost_of(5 * kMinute));
  EXPECT_EQ(executor_->stopped(), std::vector<JobId>{id}) << "its processes are stopped";
  expect_books_verify();
  // The node's row was written with the batch: a restart finds it down, saying why.
  open();
  EXPECT_EQ(h1().state, core::NodeState::kDown);
  EXPECT_TRUE(h1().silent_down);
  EXPECT_NE(h1().state_reason.find("agent silent since"), std::string::npos) << h1().state_reason;
}

// An administrator's drain outlives the agent's silence and a restart of berthd during it:
// the agent that comes back finds its node drained, with the administrator's reason.
TEST_F(CoreLoopAgentsTest, ADrainSurvivesTheAgentsSilenceAndARestartMeanwhile) {
  open();
  agent_registers();
  ASSERT_TRUE(
      step([&](CoreContext& c) {
        ASSERT_TRUE(
            c.engine.change_node_state(h1().id, core::NodeState::kDrain, c.now_ms, "disk swap")
                .ok());
      }).ok());
  clock_.advance_ms(kMinute + 1);
  ASSERT_TRUE(step().ok());
  ASSERT_EQ(h1().state, core::NodeState::kDown);
  open();
  EXPECT_EQ(h1().state, core::NodeState::kDown);
  EXPECT_EQ(h1().reason_before_silence, "disk swap");
  agent_registers();
  EXPECT_EQ(h1().state, core::NodeState::kDrain);
  EXPECT_EQ(h1().state_reason, "disk swap");
  open();
  EXPECT_EQ(h1().state, core::NodeState::kDrain);
}

TEST_F(CoreLoopAgentsTest, EachNodeHasAFullTimeoutAfterARestart) {
  open();
  agent_registers();
  clock_.advance_ms(10 * kMinute);  // berthd was down for all of it: no batch ran
  open();
  ASSERT_TRUE(step().ok());
  EXPECT_EQ(h1().state, core::NodeState::kUp);
  clock_.advance_ms(kMinute + 1);
  ASSERT_TRUE(step().ok());
  EXPECT_EQ(h1().state, core::NodeState::kDown);
}

TEST_F(CoreLoopAgentsTest, AHeartbeatAloneIsWrittenOnlyOnceItMovedTenSeconds) {
  open();
  agent_registers();
  const int64_t registered_ms = clock_.now_ms();
  clock_.advance_ms(9'999);
  agent_beats();
  EXPECT_EQ(h1().last_heartbeat_ms, clock_.now_ms());
  open();
  EXPECT_EQ(h1().last_heartbeat_ms, registered_ms) << "not written";
  clock_.advance_ms(10'000);
  agent_beats();
  const int64_t written_ms = clock_.now_ms();
  open();
  EXPECT_EQ(h1().last_heartbeat_ms, written_ms);
  EXPECT_EQ(h1().agent_version, "0.1.0");
  EXPECT_EQ(h1().address, "10.0.0.1");
}

}  // namespace
}  // namespace berth::server
