// berthd's local agents ([agents] local, the embedded default): one berth-agent process per
// node of the configuration, on berthd's own machine, so that `make run` works as a cluster
// does and its jobs outlive berthd (src/agent/README.md §1).
//
// Each agent is started detached (forked twice, in a session of its own, then exec'd: never a
// thread nor a child that berthd's exit takes along), from the berth-agent beside berthd's
// executable, with <state_dir>/agents/<node>/ as its state directory and agent.log there. An
// agent already running for a node (it holds its state directory's lock, as a previous berthd
// left it) is left alone. The agents dial berthd through <state_dir>/agents.sock.
#pragma once

#include <string>

#include "common/status.h"
#include "core/cluster.h"

namespace berth::server {

// The Unix socket local agents dial: in the state directory, which only berthd's user enters.
std::string local_agents_socket(const std::string& state_dir);

// Starts the agents of `cluster`'s nodes that are not running. An error names what is missing
// (berth-agent beside berthd, a state directory that cannot be made).
Status start_local_agents(const core::ClusterConfig& cluster, const std::string& state_dir);

// The state directory of `node`'s local agent.
std::string local_agent_dir(const std::string& state_dir, const std::string& node);

}  // namespace berth::server
