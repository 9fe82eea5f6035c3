// What the agent tells its watchdog (watchdog.h), in `<state_dir>/fence`: who the agent is,
// until when its fencing lease holds, and which fenceable launches run, with what it takes to
// stop each safely. The agent rewrites the file whole (a temporary file renamed over it, so a
// reader sees the old file or the new one) each time the lease is renewed or a fenceable
// launch starts or ends; the watchdog only reads it.
//
// Times are CLOCK_MONOTONIC milliseconds (std::chrono::steady_clock on Linux): one clock for
// every process of the machine, so another process can compare them with its own reading.
//
// Fence marks: before the watchdog signals a launch it leaves `<state_dir>/fenced/<launch>`,
// so that the agent, when it reaps that launch (it may have been stopped, not dead), reports
// the end as lost ("fenced") for berthd to requeue, as it does when it fenced the launch itself.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/agent_state.h"
#include "common/status.h"

namespace berth::agent {

// A process known by its pid and its start time (clock ticks after boot, /proc/<pid>/stat), so
// that a pid the kernel gave to another process since is never taken for it.
struct ProcessId {
  int pid = 0;
  uint64_t start_ticks = 0;  // 0: unknown
  bool operator==(const ProcessId&) const = default;
};

// A running fenceable launch: its process group (led by `leader`), its grace period between
// SIGTERM and SIGKILL, and its cgroup (job_cgroup_name) in the file's cgroup base, if any.
struct FenceTarget {
  LaunchKey key;
  ProcessId leader;
  int64_t grace_ms = 0;
  bool operator==(const FenceTarget&) const = default;
};

struct FenceFile {
  ProcessId agent;
  std::string cgroup_base;     // "": jobs run without cgroups
  int64_t lease_until_ms = 0;  // 0: no lease (never renewed, or fence_ms 0): never fence
  std::vector<FenceTarget> launches;
  bool operator==(const FenceFile&) const = default;
};

std::string format_fence_file(const FenceFile& file);
// Errors: InvalidArgument naming the line that is not understood.
Result<FenceFile> parse_fence_file(const std::string& text);

std::string fence_file_path(const std::string& state_dir);
// Atomically replaces the state dir's file (0600).
Status write_fence_file(const std::string& state_dir, const FenceFile& file);
// NotFound when there is none.
Result<FenceFile> read_fence_file(const std::string& state_dir);

// The watchdog is about to signal `key`.
void leave_fence_mark(const std::string& state_dir, const LaunchKey& key);
// Whether the watchdog signalled `key`; the mark is removed.
bool take_fence_mark(const std::string& state_dir, const LaunchKey& key);
// Removes every mark (a new agent: the ends of its predecessor's launches are recorded).
void clear_fence_marks(const std::string& state_dir);

// The agent's side: keeps the file up to date from the link's renewals and the runner's list.
// Thread-safe; a write that fails is logged (the watchdog then acts on the last file written).
class FenceRecorder {
 public:
  FenceRecorder(std::string state_dir, ProcessId agent, std::string cgroup_base);
  // Writes the file with no lease and no launch: a watchdog of an earlier agent sees it was
  // replaced. Call before starting this agent's watchdog.
  Status start();
  // The lease now holds until `until_ms`.
  void lease_renewed(int64_t until_ms);
  // The running fenceable launches, each with its process group; the leaders' start times are
  // read when a launch is first seen (it is then this agent's unreaped child).
  struct Running {
    LaunchKey key;
    int pgid = 0;
    int64_t grace_ms = 0;
  };
  void launches_changed(const std::vector<Running>& running);

 private:
  Status write_locked();
  const std::string state_dir_;
  std::mutex mu_;
  FenceFile file_;
};

// /proc/<pid>/stat's start time, 0 when there is no such process.
uint64_t process_start_ticks(int pid);

}  // namespace berth::agent
