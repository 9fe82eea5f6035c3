// The core loop: the one thread of berthd that changes its state, apart from the HTTP front end.
//
// It owns the Engine, the Store and the Executor (through a LaunchQueue), and reads the time
// from the Clock it is given. Work arrives from other threads: tasks (a request's work, from
// the HTTP threads) and job exits (from the executor). The loop applies them in batches: the
// exits, then the tasks, then a scheduling pass; it commits the batch's changes to the store in
// one transaction, and only then tells each task its batch was committed and hands the jobs
// started to the launch queue (group commit). So nothing is acknowledged or launched that a
// crash could lose, and a job never runs without its start (and money hold) on disk.
//
// Contract
// - Open() loads the state (a fresh centre when the store is empty), then settles the jobs lost
//   while berthd was down: jobs RUNNING in the store, whose supervisor is gone, have their
//   processes stopped (Hooks::stop_orphans) and end as NODE_FAIL (or are requeued), charged up
//   to the store's last-alive mark; this is committed before Open returns, so a later restart
//   does not settle them again. Then each configured node takes its stored state, reason and
//   what its agent last said (Engine::restore_node).
// - With Settings::node_timeout_ms, each batch puts down the nodes whose agents are silent
//   (Engine::expire_silent_nodes) and stops their jobs' processes.
// - A failed write to the store acknowledges nothing: Hooks::store_failed is told first (berthd
//   stops there, exit 70); if it returns, the engine is reloaded from the store, the batch's
//   tasks are told the error, the batch's job exits are kept for the next batch, and nothing
//   the batch started or stopped is launched or stopped.
// - An orderly stop answers what is still queued ("shutting down"), asks every running job to
//   stop (SIGTERM, its grace period), and ends each as NODE_FAIL (or requeued) charged for
//   exactly the time it ran by the clock; a job that ended on its own meanwhile ends normally.
//
// Threads: submit(), report_exit() and stop() may be called from any thread. Everything else
// (the step functions run_batch() and the orderly stop's two halves, engine(), store(),
// commit_changes()) belongs to the core thread: before start(), on the core thread itself (in
// a task), or in tests that drive the loop step by step and never call start().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/engine.h"
#include "executor/executor.h"
#include "executor/launch_queue.h"
#include "server/launch_spec.h"
#include "store/store.h"

namespace berth::server {

// What a request's work may see and ask for, on the core thread.
struct CoreContext {
  core::Engine& engine;
  int64_t now_ms;
  std::vector<JobId> terminate;  // running jobs to stop once the batch is committed
  std::vector<JobId> relaunch;   // running jobs to launch again (an agent that never got them)
  const LaunchSettings* launch = nullptr;  // how a running job is launched (its steps too)
};

// A request's work on the core thread. `run` applies it within a batch (and keeps what it
// will answer); `done` is called after the batch: Ok once it is committed, otherwise why the
// work was not kept (the batch could not be committed, or berthd is shutting down).
// `run` must not throw (the daemon's tasks turn what a handler throws into a reply).
struct CoreTask {
  std::function<void(CoreContext&)> run;
  std::function<void(const Status&)> done;
};

// The answer to work that arrives while the loop stops.
Status shutting_down();

class CoreLoop {
 public:
  struct Settings {
    core::ClusterConfig cluster;
    core::SchedulerConfig scheduling;
    LaunchSettings launch;  // how a started job becomes what the executor runs; its grace_ms
    // A node whose agent is silent this long goes down (Engine::expire_silent_nodes), counted
    // from the agent's last heartbeat or this loop's open, whichever is later; 0: never.
    int64_t node_timeout_ms = 0;
    // Node agents run the jobs (the executor is berthd's RemoteExecutor): a job outlives
    // berthd. Open() leaves RUNNING jobs running for their agents to report, an orderly stop
    // ends none, and every node, heard or not, goes down once silent for node_timeout_ms.
    bool jobs_outlive_berthd = false;
  };
  // The loop's effects outside the engine, store and executor, given by its owner.
  struct Hooks {
    // Stops the processes left by the last berthd of jobs that were running (by job id).
    std::function<void(const std::set<uint64_t>&)> stop_orphans;
    // A write to the store failed after the engine took the batch; `what` is the write
    // ("commit", "recording the state of node h1"). Called on the core thread before anything
    // of the batch is acknowledged; berthd's hook does not return.
    std::function<void(const std::string& what, const Status& error, store::Store& store)>
        store_failed;
  };
  // Makes the executor, given the callback through which it reports each job's end.
  using MakeExecutor = std::function<std::unique_ptr<executor::Executor>(executor::ExitCallback)>;

  // Loads the state from `store` and settles the jobs lost while down (see the contract). The
  // clock must outlive the loop. Refuses a state that cannot be loaded or does not verify.
  static Result<std::unique_ptr<CoreLoop>> Open(Settings settings,
                                                std::unique_ptr<store::Store> store,
                                                const Clock& clock,
                                                const MakeExecutor& make_executor, Hooks hooks);
  // Stops the core thread if it runs (an orderly stop), then the launch queue and executor.
  ~CoreLoop();
  CoreLoop(const CoreLoop&) = delete;
  CoreLoop& operator=(const CoreLoop&) = delete;

  // Any thread. Queues a task for the next batch; false (and `task` not queued, not answered)
  // once the loop is stopping.
  bool submit(CoreTask task);
  // Any thread: the executor's report of a job's end, applied in the next batch.
  void report_exit(executor::JobExit exit);

  // Starts the core thread: a batch whenever work arrives, and at least once per heartbeat,
  // until stop(); then the orderly stop.
  void start();
  // Any thread: asks the core thread to stop (before or after start()). Tasks submitted from
  // now on are refused.
  void stop();
  // Waits for the core thread to end (after stop()).
  void join();

  // Core thread: one batch as described above. Returns the store's error when the batch could
  // not be kept (after Hooks::store_failed and the reload), Ok otherwise.
  Status run_batch();
  // Core thread: the orderly stop in two halves, with the wait for exits between them left to
  // the caller. The first answers every queued task "shutting down" and asks the running jobs
  // to stop, returning them; the second applies the exits reported since, ends the rest as
  // lost at the clock's now, and commits.
  std::vector<JobId> begin_orderly_stop();
  Status finish_orderly_stop(const std::vector<JobId>& stopping);
  // Core thread: waits until every launch and stop asked for so far reached the executor.
  void drain_launches() { launcher_->drain(); }

  // Core thread: the engine and the store, and a commit of the engine's changes outside a
  // batch (at start, when berthd records its admin token). store().backup() alone may be called
  // from any thread.
  core::Engine& engine() { return *engine_; }
  store::Store& store() { return *store_; }
  Status commit_changes();

 private:
  CoreLoop(Settings settings, std::unique_ptr<store::Store> store, const Clock& clock, Hooks hooks);
  Status load_engine(bool at_open);
  Status recover(int64_t last_alive_ms);
  Status restore_node_states(bool at_open);
  Status write_batch(int64_t now_ms, std::string* what);
  Status keep_nothing(const std::string& what, const Status& error, std::vector<CoreTask>& batch,
                      const std::vector<executor::JobExit>& exits);
  void apply_exits(const std::vector<executor::JobExit>& exits, int64_t now_ms);
  void launch(JobId job);
  void loop();
  void orderly_stop();

  const Settings settings_;
  const Clock& clock_;
  const Hooks hooks_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<core::Engine> engine_;
  std::unique_ptr<executor::Executor> executor_;
  std::unique_ptr<executor::LaunchQueue> launcher_;  // after executor_: destroyed before it
  int64_t last_commit_ms_ = 0;
  // What the nodes table holds, in cluster().nodes() order.
  std::vector<core::Node> stored_nodes_;
  int64_t opened_ms_ = 0;  // when Open was called: a node's silence counts from here at the latest

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<CoreTask> tasks_;
  std::deque<executor::JobExit> exits_;
  bool stopping_ = false;
  // Set when the engine could not be reloaded after a failed write: every later batch is
  // refused with it, and nothing is committed.
  Status broken_;
  std::thread thread_;
};

}  // namespace berth::server
