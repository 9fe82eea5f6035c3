// The agent's job runner: runs the launches berthd sends to this node and reports each end
// exactly once, its book (agent_state.h) kept in agent.db (agent_store.h) under the state dir.
//
// - A Launch is recorded before its process starts; its script (bytes from berthd) is written
//   to the state dir for the executor to read, then removed. JobStarted is sent once it runs;
//   a launch that cannot start (unknown user, output it cannot open) ends launch_failed, with
//   the executor's reason.
// - An end is recorded, then sent as JobEnded with its end_seq; resend_ends() sends every end
//   not yet acknowledged (after each registration); an Ack settles them.
// - A Launch or Signal from an epoch older than the highest seen is ignored and reported by
//   on_launch/on_signal returning false (the link then drops the stream).
// - Until the per-job shims land (src/agent/README.md §8, step 2), the agent is its jobs'
//   parent (LocalExecutor): jobs run on through any absence of berthd, but when the agent
//   itself restarts it cannot learn how they ended, so Open() kills each process group of a
//   launch that was running and records its end as stopped, "berth-agent restarted".
//
// Thread-safety: every method may be called from any thread (the link's reader, the
// executor's reaper); `send` is called with the runner's lock held and must only queue.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/agent_state.h"
#include "agent/agent_store.h"
#include "agent/fence_file.h"
#include "common/clock.h"
#include "common/status.h"
#include "executor/executor.h"
#include "proto/agent.pb.h"

namespace berth::agent {

class JobRunner {
 public:
  using Send = std::function<void(const ::berth::agent::v1::FromAgent&)>;
  using MakeExecutor =
      std::function<std::unique_ptr<executor::Executor>(executor::ExitCallback on_exit)>;

  // Opens the book in `state_dir` (created 0700 when absent) and settles what a previous agent
  // left running (see above). `send` queues a message to berthd (dropped while unconnected).
  static Result<std::unique_ptr<JobRunner>> Open(const std::string& state_dir, const Clock& clock,
                                                 const MakeExecutor& make_executor, Send send);
  ~JobRunner();

  // false: a replaced controller's message (nothing done).
  bool on_launch(const ::berth::agent::v1::Launch& launch);
  bool on_signal(const ::berth::agent::v1::Signal& signal);
  void on_ack(uint64_t end_seq);
  // The controller's answer to the registration: its epoch, and the launches it already ended
  // (killed here when they still run).
  void on_registered(const ::berth::agent::v1::Registered& registered);
  // The registration's inventory and the highest epoch seen.
  void fill_register(::berth::agent::v1::Register* reg) const;
  // Sends every end not yet acknowledged, in end_seq order.
  void resend_ends();
  // The lease ran out (link_policy.h Lease): stops every running fenceable launch (SIGTERM,
  // its grace, SIGKILL); each ends lost, "fenced". Returns how many it stops.
  size_t fence();
  size_t running() const;

  // For the watchdog (watchdog.h): `f` gets every running fenceable launch each time one starts
  // or ends (called with the runner's lock held). Set before the link runs. A launch the
  // watchdog signalled (its fence mark, fence_file.h) ends lost, "fenced", as fence() makes it.
  using FenceableChanged = std::function<void(const std::vector<FenceRecorder::Running>&)>;
  void on_fenceable_change(FenceableChanged f);

 private:
  JobRunner(std::string state_dir, const Clock& clock, std::unique_ptr<AgentStore> store,
            Send send);
  void exited(const executor::JobExit& exit);
  // Records and sends the end of `key` (lock held).
  void end(const LaunchKey& key, const EndReport& report);
  Status save(const LaunchKey& key);  // lock held; a failed write is logged too
  executor::LaunchSpec spec_of(const ::berth::agent::v1::Launch& launch,
                               const std::string& script_path) const;

  const std::string state_dir_;
  const Clock& clock_;
  const std::unique_ptr<AgentStore> store_;
  const Send send_;
  void fenceable_changed();  // lock held
  FenceableChanged fenceable_changed_;
  mutable std::mutex mu_;
  AgentState book_;
  std::map<uint64_t, LaunchKey> running_by_job_;  // the executor knows jobs by id
  std::map<uint64_t, int64_t> grace_by_job_;      // each running launch's grace period
  std::map<uint64_t, bool> fencing_;              // jobs being stopped by the fence
  std::unique_ptr<executor::Executor> executor_;  // last: its threads stop first
};

}  // namespace berth::agent
