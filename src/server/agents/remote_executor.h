// berthd's executor when node agents run the jobs ([agents] listen): a launch becomes a Launch
// on the stream of each of the job's nodes (one rank each, GangBook), a stop a Signal. Nothing here
// blocks on a process; how each launch ends comes back from its agent (AgentService) as a core-loop
// task.
//
// The executor remembers where each job was sent (its nodes, attempt, the ranks that ended) so
// that terminate() can reach it, learning it again from each agent's registration after
// berthd restarts (track).
// A launch for a node whose agent holds no stream at the moment is not an error: the job
// stays RUNNING and is sent again when the agent registers (AgentService compares what the
// agent holds with the engine), or ends lost when the node times out.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <functional>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "executor/executor.h"
#include "proto/agent.pb.h"
#include "server/agents/gang_book.h"
#include "server/agents/step_book.h"

namespace berth::server {

class AgentService;

class RemoteExecutor final : public executor::Executor {
 public:
  // `epoch` is this berthd's (the agents refuse launches from an older one); `grace_ms` is
  // given to the ranks stopped when their job ends (SIGTERM, then SIGKILL).
  RemoteExecutor(AgentService& agents, uint64_t epoch, int64_t grace_ms)
      : agents_(agents), epoch_(epoch), grace_ms_(grace_ms) {}

  // How a launch's script (LaunchSpec::script_path) is read; by default the file. A berthd on a
  // shared store falls back to the store's copy of a script another berthd received.
  using ReadScript = std::function<Result<std::string>(const std::string& path)>;
  void set_script_reader(ReadScript read) { read_script_ = std::move(read); }
  // The file at `path`; kNotFound when there is none.
  static Result<std::string> read_script_file(const std::string& path);

  // Sends a Launch to each rank's node (rank 0 on spec.node).
  Result<int> launch(const executor::LaunchSpec& spec) override;
  // Signals every rank that has not ended.
  Status terminate(JobId job, int64_t grace_ms) override;
  size_t running() const override;

  // The job runs on `nodes` (rank r on nodes[r]) in `attempt`: what an agent's registration,
  // or an end after a berthd restart, teaches the executor (launches are sent again only to
  // an agent that does not hold them).
  void track(JobId job, uint32_t attempt, std::vector<std::string> nodes, bool every_node);
  bool tracks(JobId job) const;
  // A rank's end of the job's current attempt (GangBook::on_end).
  GangBook::Verdict rank_ended(JobId job, const ::berth::agent::v1::JobEnded& end);
  // End `seq` from `node` was committed; `hold` keeps it unacknowledged while its job runs.
  // Sends the node its ack, if one is due.
  void settled(const std::string& node, uint64_t seq, bool hold, JobId job);
  // The job ended in the core: its held ends are acknowledged, its ranks still running
  // stopped (a gang's other ranks once rank 0 ended), and it is forgotten.
  void finish(JobId job);
  // Jobs whose ends are held (the core loop finishes those that ended another way).
  std::vector<JobId> holding() const;
  // A node's agent registered: it sends each end it holds again.
  void node_registered(const std::string& node);

  // A rank of a job started on its node (JobStarted).
  void rank_started(const ::berth::agent::v1::JobStarted& started);
  // Launches with a rank neither started nor ended `timeout_ms` after they were sent (by this
  // process's steady clock; GangBook::overdue): each reported once.
  struct Overdue {
    JobId job;
    uint32_t rank = 0;
    std::string node;
  };
  std::vector<Overdue> overdue(int64_t timeout_ms);

  // Steps (`berth run` within a job; StepBook): `argv` in `workdir` on every node of the job,
  // whose launch is `job` (launch_spec: its outputs and attempt), for `requester`'s request.
  // NotFound when the job was not sent to agents.
  Result<uint32_t> start_step(const executor::LaunchSpec& job, const std::string& requester,
                              uint64_t request, const std::vector<std::string>& argv,
                              const std::string& workdir);
  // A step's rank ended: the requester is answered once the step is over.
  void step_ended(const ::berth::agent::v1::JobEnded& end);
  // An agent holds step `step` of the job (its registration).
  void saw_step(JobId job, uint32_t step);

 private:
  void signal_ranks(JobId job, const std::vector<std::pair<std::string, uint32_t>>& ranks,
                    uint32_t attempt, int64_t grace_ms, uint32_t step = 0);
  void answer_step(const std::string& node, ::berth::agent::v1::StepDone done);
  void send_ack(const std::string& node, uint64_t ack);

  AgentService& agents_;
  ReadScript read_script_ = read_script_file;
  const uint64_t epoch_;
  const int64_t grace_ms_;
  mutable std::mutex mu_;
  GangBook book_;
  StepBook steps_;
};

}  // namespace berth::server
