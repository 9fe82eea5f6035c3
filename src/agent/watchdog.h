// berth-agent's watchdog: fences the agent's launches when the agent cannot (src/agent/README.md
// §3). The agent is its jobs' parent; SIGKILLed or SIGSTOPped, its own fence (JobRunner::fence)
// never runs, while berthd requeues its fenceable jobs once the node's timeout passes. So each
// agent starts one watchdog: `berth-agent --watchdog PID TICKS --state-dir DIR`, exec'd,
// detached in a session of its own (a signal to the agent or its group does not reach it), not
// holding agent.lock. It reads the agent's fence file (fence_file.h) every kPollMs, and just
// after the lease's end, and when the lease has run out stops each fenceable launch listed
// there: SIGTERM to its process group, its grace, SIGKILL to the group and to every process in
// its cgroup. The agent fencing the same launch at the same time is harmless: every signal to a
// group is sent only while its leader is the process recorded (pid and start time), and the
// agent's end of a launch the watchdog signalled says "fenced" either way (fence marks).
//
// It exits when a new agent has written the file (the agent was replaced; the new one kills
// what its predecessor left, "berth-agent restarted"), or when its agent is gone (dead, or
// exited in an orderly way) with no lease or no fenceable launch left to stop. With fence_ms 0
// the agent writes no lease, and the watchdog never fences.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "agent/fence_file.h"
#include "common/status.h"

namespace berth::agent {

// Whether `p` runs (a stopped process does; a zombie, or another process with its pid, not).
bool process_alive(const ProcessId& p);
// Sends `sig` (0: none, only asks) to the process group `leader` leads, unless its pid is
// another process's now (a different start time) or its start time is unknown. A leader that
// is gone still names its group while members live (the kernel reuses no pid that is a group's
// id). Returns whether the group was there.
bool signal_launch_group(const ProcessId& leader, int sig);

// Stops `targets` at once, each marked first (fence_file.h): SIGTERM to each group, then each
// one's grace (cut short once its group is gone), then SIGKILL to each group and, when
// `cgroup_base` is set, to every process in its cgroup. Blocks for the longest grace at most.
void fence_launches(const std::string& state_dir, const std::string& cgroup_base,
                    const std::vector<FenceTarget>& targets);

class Watchdog {
 public:
  static constexpr int64_t kPollMs = 500;
  // Watches the agent `agent` (pid and start time) of `state_dir`.
  Watchdog(std::string state_dir, ProcessId agent);
  // One look at `now_ms` (CLOCK_MONOTONIC): fences the launches listed and not yet fenced if
  // the lease has run out. false: the watchdog's work is over (see above).
  bool poll(int64_t now_ms);
  // How long to wait before the next poll: kPollMs, or until just after the lease runs out.
  int64_t wait_ms(int64_t now_ms) const;

 private:
  const std::string state_dir_;
  const ProcessId agent_;
  int64_t lease_until_ms_ = 0;  // as last read
  std::set<LaunchKey> fenced_;
};

// `berth-agent --watchdog`: polls until the work is over. Returns the exit code.
int run_watchdog(const std::string& state_dir, const ProcessId& agent);
// Starts the watchdog of this agent (`program`: berth-agent's path), detached.
Status start_watchdog(const std::string& program, const std::string& state_dir,
                      const ProcessId& agent);
// This process, as its watchdog knows it.
ProcessId this_process();

}  // namespace berth::agent
