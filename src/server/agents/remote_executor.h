// berthd's executor when node agents run the jobs ([agents] listen): a launch becomes a Launch
// on the stream of the job's first node, a stop a Signal. Nothing here blocks on a process;
// how each launch ends comes back from its agent (AgentService) as a core-loop task.
//
// The executor remembers where each job was sent (its node and launch id) so that terminate()
// can reach it, learning it again from each agent's inventory after berthd restarts (adopt).
// A launch for a node whose agent holds no stream at the moment is not an error: the job
// stays RUNNING and is sent again when the agent registers (AgentService compares what the
// agent holds with the engine), or ends lost when the node times out.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "executor/executor.h"
#include "proto/agent.pb.h"

namespace berth::server {

class AgentService;

class RemoteExecutor final : public executor::Executor {
 public:
  // `epoch` is this berthd's (the agents refuse launches from an older one).
  RemoteExecutor(AgentService& agents, uint64_t epoch) : agents_(agents), epoch_(epoch) {}

  Result<int> launch(const executor::LaunchSpec& spec) override;
  Status terminate(JobId job, int64_t grace_ms) override;
  size_t running() const override;

  // An agent holds this launch of `job` running (its registration's inventory).
  void adopt(JobId job, const std::string& node, const ::berth::agent::v1::LaunchId& id);
  // The job's end was applied: forget where it ran.
  void forget(JobId job);

 private:
  struct Where {
    std::string node;
    ::berth::agent::v1::LaunchId id;
  };
  AgentService& agents_;
  const uint64_t epoch_;
  mutable std::mutex mu_;
  std::map<uint64_t, Where> sent_;  // by job id
};

}  // namespace berth::server
