// The cgroups a killed agent left behind. Each agent boxes its jobs under a base of its own,
// `berth/agent-<node>-<pid>` (cgroup.h), so that several agents can share a machine; an agent
// killed with SIGKILL leaves that base and its jobs' cgroups, with whatever still runs in them
// (a process that left its job's process group escapes the restarted agent's kill by group).
// The next agent of the same node finds those bases and empties them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "executor/cgroup.h"

namespace berth::executor {

// The cgroup base of the agent of `node` that runs as `pid`: "berth/agent-<node>-<pid>".
std::string agent_cgroup_base(const std::string& node, int pid);

// The folders in `parent_dir` (the folder holding the bases: Cgroups::base_dir's parent) that
// are bases of `node`'s agents, but `own_pid`'s and those of a pid `still_running` says is an
// agent that runs: their names ("agent-gpu-01-4242"), in order.
std::vector<std::string> find_leftover_agent_bases(const std::string& parent_dir,
                                                   const std::string& node, int own_pid,
                                                   const std::function<bool(int)>& still_running);

// Kills every process in each cgroup of `cgroups`' base and removes them, then the base.
// Returns how many cgroups it emptied.
int empty_cgroups(Cgroups& cgroups);

}  // namespace berth::executor
