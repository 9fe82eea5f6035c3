// Starting a daemon's helper that must outlive it: berthd's local agents, an agent's watchdog.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace berth {

// Forks twice and execs `args` (args[0]: the program's path), so that it is nobody's child but
// init's (no zombie, whoever exits first), in a session of its own (a signal to the caller's
// process group does not reach it), with stdin from /dev/null, no other descriptor of the
// caller's but stdout and stderr, and no signal blocked. Its stdout and stderr are appended to
// `log_path`, or are the caller's when it is empty. Returns once the intermediate child has
// exited. Safe in a process with threads: the children only make async-signal-safe calls.
Status spawn_detached(const std::vector<std::string>& args, const std::string& log_path = "");

// The path of the running program (/proc/self/exe), "" when it cannot be read.
std::string this_program();

}  // namespace berth
