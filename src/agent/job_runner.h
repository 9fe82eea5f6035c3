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
// - Steps (`berth run` within a job; src/agent/README.md §5): a Launch with id.step > 0 runs its
//   args in the job's launch on this node (its user, GPUs, variables, limits), appending to the
//   outputs it names; it is stopped when the job's own launch here ends. step_caller() checks
//   that a process asking for a step belongs to a job running here.
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

  // Every launch gets BERTH_STEP_SOCKET=`address` (where `berth run` asks for a step; before
  // any launch).
  void set_step_socket(std::string address) { step_socket_ = std::move(address); }
  // The job's own launch on this node (step 0), when process `pid` of user `uid` belongs to it:
  // a process of its group or a descendant of its leader, running as the job's user. Otherwise
  // Denied or NotFound, saying why.
  Result<::berth::agent::v1::LaunchId> step_caller(uint64_t job, int pid, unsigned uid) const;

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
  // A step's spec: the job's launch here with the step's command and outputs; NotFound when the
  // job does not run here (lock held).
  Result<executor::LaunchSpec> step_spec(const ::berth::agent::v1::Launch& step,
                                         const std::string& script_path) const;
  // Stops the running steps of `job` (its own launch ended; lock held).
  void stop_steps(uint64_t job);

  const std::string state_dir_;
  const Clock& clock_;
  const std::unique_ptr<AgentStore> store_;
  const Send send_;
  void fenceable_changed();  // lock held
  FenceableChanged fenceable_changed_;
  mutable std::mutex mu_;
  AgentState book_;
  // The executor knows launches by (job, step): a node runs one rank of a job.
  using ExecKey = std::pair<uint64_t, uint32_t>;
  std::map<ExecKey, LaunchKey> running_;
  std::map<ExecKey, int64_t> grace_;  // each running launch's grace period
  std::map<ExecKey, bool> fencing_;   // launches being stopped by the fence
  std::map<uint64_t, ::berth::agent::v1::Launch> job_launches_;  // running step 0s, by job
  std::string step_socket_;
  std::unique_ptr<executor::Executor> executor_;  // last: its threads stop first
};

}  // namespace berth::agent
