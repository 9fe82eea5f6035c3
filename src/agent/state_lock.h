// One agent per state directory: berth-agent holds <state_dir>/agent.lock (flock) for its whole
// life, so a second agent on the same directory is refused, and berthd can tell whether a
// node's local agent still runs (src/server/local_agents.h).
#pragma once

#include <string>

#include "common/status.h"

namespace berth::agent {

// Makes the state directory (0700) if needed and takes its lock, held until the process exits
// (the descriptor is close-on-exec: no job inherits it). An error names the directory, and says
// so when another agent holds it.
Status lock_state_dir(const std::string& state_dir);

}  // namespace berth::agent
