// The core loop (core_loop.h). Decisions the header leaves open:
// - A batch is at most kMaxBatch tasks; an idle loop still commits once per kHeartbeatMs, so
//   that the store's last-alive mark (what jobs lost in a crash are charged up to) stays close.
// - After a failed write the engine is reloaded from the store rather than undone in memory:
//   the store is the one account of what was acknowledged, and Restore already rebuilds an
//   engine from it (running jobs stay RUNNING; the executor still runs them).
// - A write that fails after the batch's commit (a node's state) leaves the batch kept but not
//   acknowledged, as a crash between the two would.
#include "server/core_loop.h"

#include <chrono>
#include <utility>

#include "server/log.h"

namespace berth::server {

namespace {

constexpr size_t kMaxBatch = 4096;           // tasks applied per batch
constexpr int64_t kHeartbeatMs = 1000;       // the loop records it is alive at least this often
constexpr int64_t kStopSlackMs = 5000;       // beyond the grace period, for the stopped jobs' exits
constexpr size_t kMaxEndReasonBytes = 1000;  // a job's end reason is kept; the store allows 1024
// A node's heartbeat alone is written when it moved this far past the stored one: a thousand
// agents beating every 5 s would otherwise cost 200 writes a second. A restarted berthd charges
// the jobs of a node that never came back up to the stored heartbeat, so at most this early.
constexpr int64_t kStoredHeartbeatStepMs = 10'000;

// Whether `node` differs from its stored row enough to be written (see above).
bool must_store(const core::Node& node, const core::Node& stored) {
  core::Node same_beat = node;
  same_beat.last_heartbeat_ms = stored.last_heartbeat_ms;
  return !(same_beat == stored) ||
         node.last_heartbeat_ms - stored.last_heartbeat_ms >= kStoredHeartbeatStepMs;
}

// Bounds an executor's reason, cut on a UTF-8 character boundary.
void bound_reason(std::string* reason) {
  if (reason->size() <= kMaxEndReasonBytes) return;
  size_t cut = kMaxEndReasonBytes;
  while (cut > 0 && (static_cast<unsigned char>((*reason)[cut]) & 0xC0) == 0x80) --cut;
  reason->resize(cut);
  *reason += "...";
}

}  // namespace

Status shutting_down() { return Status(Code::kUnavailable, "berthd is shutting down"); }

CoreLoop::CoreLoop(Settings settings, std::unique_ptr<store::Store> store, const Clock& clock,
                   Hooks hooks)
    : settings_(std::move(settings)),
      clock_(clock),
      hooks_(std::move(hooks)),
      store_(std::move(store)) {}

Result<std::unique_ptr<CoreLoop>> CoreLoop::Open(Settings settings,
                                                 std::unique_ptr<store::Store> store,
                                                 const Clock& clock,
                                                 const MakeExecutor& make_executor, Hooks hooks) {
  std::unique_ptr<CoreLoop> loop(
      new CoreLoop(std::move(settings), std::move(store), clock, std::move(hooks)));
  loop->opened_ms_ = clock.now_ms();
  BERTH_RETURN_IF_ERROR(loop->load_engine(true));
  CoreLoop* self = loop.get();
  auto report = [self](const executor::JobExit& exit) { self->report_exit(exit); };
  loop->executor_ = make_executor(report);
  loop->launcher_ = std::make_unique<executor::LaunchQueue>(*loop->executor_, report, log_info);
  return loop;
}

CoreLoop::~CoreLoop() {
  stop();
  join();
  // Their threads report into mu_ and exits_, which are destroyed before them otherwise.
  launcher_.reset();
  executor_.reset();
}

// At open: a fresh centre when the store is empty, else the stored one with the jobs lost while
// down settled. After a failed write: the state as last committed, nothing settled.
Status CoreLoop::load_engine(bool at_open) {
  int64_t last_alive_ms = 0;
  auto rows = store_->load(&last_alive_ms);
  // Only rows outside the jobs (the books, funding, tokens) fail a load: a job row that cannot
  // be read is set aside by Restore instead, so that one bad job never keeps berthd down.
  if (!rows.ok())
    return Status(rows.status().code(), "cannot load the state: " + rows.status().message());
  const int64_t now = clock_.now_ms();
  const bool fresh = rows->accounts.empty();
  auto engine = fresh ? core::Engine::Create(settings_.cluster, now, settings_.scheduling)
                      : core::Engine::Restore(settings_.cluster, *rows, settings_.scheduling);
  if (!engine.ok())
    return Status(engine.status().code(), "cannot load the state: " + engine.status().message());
  engine_ = std::move(*engine);
  if (!at_open) return restore_node_states(false);
  // Logged here, once: the commit in recover() writes these jobs back readable.
  for (const core::SetAsideJob& s : engine_->set_aside_at_restore())
    log_warning("job " + std::to_string(s.job.value) +
                (s.kept ? " kept as it was, with a default for: " : " set aside (FAILED): ") +
                "its stored row could not be loaded: " + s.problem);
  BERTH_RETURN_IF_ERROR(recover(fresh ? now : last_alive_ms));
  return restore_node_states(true);
}

// Jobs that were running when the last berthd stopped have lost their supervisor: their
// processes are stopped, and they end as NODE_FAIL (or are requeued) charged up to the last
// moment berthd was known alive. The commit makes this happen once.
Status CoreLoop::recover(int64_t last_alive_ms) {
  // With agents, they still run there, and their ends are reported (or their nodes time out).
  const std::vector<JobId> running =
      settings_.jobs_outlive_berthd ? std::vector<JobId>{} : engine_->running_jobs();
  const int64_t now = clock_.now_ms();
  std::set<uint64_t> ids;
  for (JobId id : running) ids.insert(id.value);
  // A running job set aside at restore may still have processes; they go the same way.
  for (const core::SetAsideJob& s : engine_->set_aside_at_restore())
    if (s.was_running) ids.insert(s.job.value);
  if (!ids.empty() && hooks_.stop_orphans && !settings_.jobs_outlive_berthd)
    hooks_.stop_orphans(ids);
  for (JobId id : running) {
    core::JobEnd end;
    end.lost = true;
    end.reason = "berthd stopped while it ran";
    BERTH_RETURN_IF_ERROR(engine_->job_ended(id, end, last_alive_ms, now));
    log_warning("job " + std::to_string(id.value) + " was running when berthd stopped: " +
                core::job_state_name(engine_->job(id)->state));
  }
  BERTH_RETURN_IF_ERROR(store_->commit(engine_->drain_changes(), now));
  last_commit_ms_ = now;
  return Status::Ok();
}

// An administrator's drain or down outlives a restart: each configured node takes the state
// stored under its name. At open, after recover() (so that no running job is ended a second
// time), and the configured nodes are then written with their states.
Status CoreLoop::restore_node_states(bool at_open) {
  BERTH_ASSIGN_OR_RETURN(auto stored, store_->nodes());
  const int64_t now = clock_.now_ms();
  for (const core::Node& s : stored) {
    const Status st = engine_->restore_node(s, now);
    if (!st.ok() && st.code() != Code::kNotFound) return st;  // a node no longer configured
  }
  // Its audit records and ended jobs go with the first batch's commit.
  if (at_open && settings_.jobs_outlive_berthd) engine_->await_agents(now);
  if (at_open) BERTH_RETURN_IF_ERROR(store_->put_nodes(engine_->cluster().nodes()));
  stored_nodes_ = engine_->cluster().nodes();
  return Status::Ok();
}

Status CoreLoop::commit_changes() {
  const int64_t now = clock_.now_ms();
  BERTH_RETURN_IF_ERROR(store_->commit(engine_->drain_changes(), now));
  last_commit_ms_ = now;
  return Status::Ok();
}

bool CoreLoop::submit(CoreTask task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void CoreLoop::report_exit(executor::JobExit exit) {
  bound_reason(&exit.reason);
  {
    std::lock_guard<std::mutex> lock(mu_);
    exits_.push_back(std::move(exit));
  }
  wake_.notify_one();
}

Status CoreLoop::run_batch() {
  std::vector<CoreTask> batch;
  std::vector<executor::JobExit> exits;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!tasks_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(std::move(tasks_.front()));
      tasks_.pop_front();
    }
    exits.assign(exits_.begin(), exits_.end());
    exits_.clear();
  }
  if (!broken_.ok()) {
    for (CoreTask& t : batch) t.done(broken_);
    return broken_;
  }
  const int64_t now = clock_.now_ms();
  CoreContext ctx{*engine_, now, {}, {}, &settings_.launch};
  apply_exits(exits, now);
  for (CoreTask& t : batch) t.run(ctx);
  engine_->expire(now);
  if (settings_.node_timeout_ms > 0)
    for (JobId id : engine_->expire_silent_nodes(now, settings_.node_timeout_ms, opened_ms_,
                                                 settings_.jobs_outlive_berthd))
      ctx.terminate.push_back(id);  // their processes must go too
  const std::vector<JobId> started = engine_->schedule(now);
  for (JobId id : engine_->take_preemptions()) ctx.terminate.push_back(id);
  std::string what;
  if (const Status st = write_batch(now, &what); !st.ok())
    return keep_nothing(what, st, batch, exits);
  for (CoreTask& t : batch) t.done(Status::Ok());
  for (JobId id : ctx.terminate) launcher_->terminate(id, settings_.launch.grace_ms);
  for (JobId id : started) launch(id);
  for (JobId id : ctx.relaunch)
    if (engine_->job(id) && engine_->job(id)->state == core::JobState::kRunning) launch(id);
  return Status::Ok();
}

void CoreLoop::apply_exits(const std::vector<executor::JobExit>& exits, int64_t now_ms) {
  for (const executor::JobExit& x : exits) {
    core::JobEnd end{x.exit_code, x.term_signal, x.timed_out, x.cancelled, false, x.reason, x.oom};
    const Status st = engine_->job_ended(x.job, end, now_ms, now_ms);
    if (!st.ok())
      log_warning("job end of " + std::to_string(x.job.value) + " ignored: " + st.ToString());
  }
}

// The batch's changes (or a heartbeat), then the nodes it changed (an administrator's state
// and reason, what an agent said, a heartbeat as must_store says), all on disk before any reply. On
// failure *what names the write.
Status CoreLoop::write_batch(int64_t now_ms, std::string* what) {
  const core::ChangeSet changes = engine_->drain_changes();
  if (!changes.empty() || now_ms - last_commit_ms_ >= kHeartbeatMs) {
    *what = "commit";
    BERTH_RETURN_IF_ERROR(store_->commit(changes, now_ms));
    last_commit_ms_ = now_ms;
  }
  const std::vector<core::Node>& nodes = engine_->cluster().nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!must_store(nodes[i], stored_nodes_[i])) continue;
    *what = "recording the state of node " + nodes[i].name;
    BERTH_RETURN_IF_ERROR(store_->put_node(nodes[i]));
    stored_nodes_[i] = nodes[i];
  }
  return Status::Ok();
}

// The engine is ahead of the store: the owner is told first (berthd stops there), then the
// engine goes back to what was committed. The batch's exits wait for the next batch (their jobs
// run again in the reloaded engine); its tasks get the error; nothing is launched or stopped.
Status CoreLoop::keep_nothing(const std::string& what, const Status& error,
                              std::vector<CoreTask>& batch,
                              const std::vector<executor::JobExit>& exits) {
  if (hooks_.store_failed) hooks_.store_failed(what, error, *store_);
  log_error(what + " failed; going back to the state last committed: " + error.ToString());
  if (const Status reloaded = load_engine(false); !reloaded.ok()) {
    log_critical("cannot reload the state after a failed " + what + ": " + reloaded.ToString());
    broken_ = reloaded;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    exits_.insert(exits_.begin(), exits.begin(), exits.end());
  }
  const Status refused(Code::kUnavailable,
                       "berthd could not save this request: " + error.message());
  for (CoreTask& t : batch) t.done(refused);
  return error;
}

// Hands a started job to the launch queue; one whose launch description cannot be used ends at
// once, FAILED with the reason, charged only for the instant it held its GPUs.
void CoreLoop::launch(JobId id) {
  Result<executor::LaunchSpec> spec = launch_spec(*engine_, *engine_->job(id), settings_.launch);
  if (spec.ok()) return launcher_->launch(std::move(*spec));
  executor::JobExit exit;
  exit.job = id;
  exit.exit_code = 127;
  exit.reason = "cannot start: " + spec.status().message();
  log_info("job " + std::to_string(id.value) + " " + exit.reason);
  report_exit(std::move(exit));
}

void CoreLoop::start() {
  thread_ = std::thread([this] { loop(); });
}

void CoreLoop::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
}

void CoreLoop::join() {
  if (thread_.joinable()) thread_.join();
}

void CoreLoop::loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(kHeartbeatMs),
                     [this] { return stopping_ || !tasks_.empty() || !exits_.empty(); });
      if (stopping_) break;
    }
    (void)run_batch();  // a failed batch was the hooks' to handle; the loop goes on from the store
  }
  const std::vector<JobId> stopping = begin_orderly_stop();
  if (!stopping.empty()) {
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, std::chrono::milliseconds(settings_.launch.grace_ms + kStopSlackMs),
                   [&] { return exits_.size() >= stopping.size(); });
  }
  const Status st = finish_orderly_stop(stopping);
  if (!st.ok()) log_error("commit at shutdown failed: " + st.ToString());
}

// An orderly stop ends the jobs the loop supervises rather than leaving them to run unbilled.
std::vector<JobId> CoreLoop::begin_orderly_stop() {
  std::deque<CoreTask> queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queued.swap(tasks_);
  }
  // Answered so that no HTTP thread waits forever.
  for (CoreTask& t : queued) t.done(shutting_down());
  if (settings_.jobs_outlive_berthd) return {};  // they run on; their agents report them
  const std::vector<JobId> running = engine_->running_jobs();
  if (running.empty()) return running;
  log_info("stopping " + std::to_string(running.size()) + " running job(s)");
  for (JobId id : running) launcher_->terminate(id, settings_.launch.grace_ms);
  return running;
}

Status CoreLoop::finish_orderly_stop(const std::vector<JobId>& stopping) {
  if (stopping.empty()) {
    if (!broken_.ok()) return broken_;
    return store_->commit(engine_->drain_changes(), clock_.now_ms());
  }
  std::vector<executor::JobExit> exits;
  {
    std::lock_guard<std::mutex> lock(mu_);
    exits.assign(exits_.begin(), exits_.end());
    exits_.clear();
  }
  const int64_t now = clock_.now_ms();
  for (const executor::JobExit& x : exits) {
    // A job this stop ended reports itself cancelled and ends below, as lost; one that ended on
    // its own just before the stop ends as it ended.
    if (x.cancelled) continue;
    const core::JobEnd end{x.exit_code, x.term_signal, x.timed_out, false, false, x.reason, x.oom};
    (void)engine_->job_ended(x.job, end, now, now);
  }
  core::JobEnd lost;
  lost.lost = true;
  lost.reason = "berthd was stopped while it ran";
  for (JobId id : stopping)
    if (engine_->job(id)->state == core::JobState::kRunning)
      (void)engine_->job_ended(id, lost, now, now);
  if (!broken_.ok()) return broken_;
  return store_->commit(engine_->drain_changes(), now);
}

}  // namespace berth::server
