#include "agent/watchdog.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "common/spawn.h"
#include "executor/cgroup.h"
#include "executor/proc_stat.h"

namespace berth::agent {
namespace {

constexpr int64_t kGraceStepMs = 50;  // how often a grace period looks whether the group is gone

int64_t mono_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void sleep_ms(int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Every process left in the launch's cgroup gets SIGKILL.
void sweep_cgroup(const std::string& cgroup_base, const LaunchKey& key) {
  if (cgroup_base.empty()) return;
  auto cgroups = executor::detect_cgroups(cgroup_base);
  if (!cgroups.ok()) return;
  if (auto box = (*cgroups)->open(executor::job_cgroup_name(key.job, key.attempt, key.step)))
    box->sweep();
}

}  // namespace

bool process_alive(const ProcessId& p) {
  if (p.pid <= 0 || p.start_ticks == 0 || process_start_ticks(p.pid) != p.start_ticks) return false;
  const std::optional<executor::ProcStat> st = executor::read_proc_stat(p.pid);
  return st && st->state != 'Z' && st->state != 'X';
}

bool signal_launch_group(const ProcessId& leader, int sig) {
  if (leader.pid <= 1 || leader.start_ticks == 0 || leader.pid == ::getpgrp()) return false;
  const uint64_t now = process_start_ticks(leader.pid);
  if (now != 0 && now != leader.start_ticks) return false;  // the pid is another process's
  return ::kill(-leader.pid, sig) == 0 || errno == EPERM;
}

void fence_launches(const std::string& state_dir, const std::string& cgroup_base,
                    const std::vector<FenceTarget>& targets) {
  const int64_t start = mono_ms();
  for (const FenceTarget& t : targets) {
    leave_fence_mark(state_dir, t.key);
    if (signal_launch_group(t.leader, SIGTERM))
      spdlog::warn("{}: the agent's lease ran out; stopping it, as berthd may requeue it",
                   to_string(t.key));
  }
  std::vector<FenceTarget> left = targets;
  while (!left.empty()) {
    const int64_t waited = mono_ms() - start;
    std::erase_if(left, [&](const FenceTarget& t) {
      const bool gone = !signal_launch_group(t.leader, 0);
      if (!gone && waited < t.grace_ms) return false;
      signal_launch_group(t.leader, SIGKILL);
      sweep_cgroup(cgroup_base, t.key);
      return true;
    });
    if (!left.empty()) sleep_ms(kGraceStepMs);
  }
}

Watchdog::Watchdog(std::string state_dir, ProcessId agent)
    : state_dir_(std::move(state_dir)), agent_(agent) {}

bool Watchdog::poll(int64_t now_ms) {
  const Result<FenceFile> file = read_fence_file(state_dir_);
  if (file.ok() && !(file->agent == agent_)) {
    spdlog::info("watchdog of agent {}: agent {} replaced it; exiting", agent_.pid,
                 file->agent.pid);
    return false;
  }
  const bool agent_alive = process_alive(agent_);
  if (!file.ok()) return agent_alive;  // nothing to act on (yet)
  lease_until_ms_ = file->lease_until_ms;
  std::vector<FenceTarget> due;
  for (const FenceTarget& t : file->launches)
    if (!fenced_.count(t.key)) due.push_back(t);
  if (lease_until_ms_ > 0 && now_ms > lease_until_ms_ && !due.empty()) {
    spdlog::warn("watchdog of agent {}: its lease ran out {} ms ago; fencing {} launch(es)",
                 agent_.pid, now_ms - lease_until_ms_, due.size());
    fence_launches(state_dir_, file->cgroup_base, due);
    for (const FenceTarget& t : due) fenced_.insert(t.key);
    due.clear();
  }
  if (agent_alive) return true;
  const bool waiting = lease_until_ms_ > 0 && !due.empty();
  if (!waiting)
    spdlog::info("watchdog of agent {}: the agent is gone, nothing to fence; exiting", agent_.pid);
  return waiting;
}

int64_t Watchdog::wait_ms(int64_t now_ms) const {
  if (lease_until_ms_ > now_ms) return std::min(kPollMs, lease_until_ms_ - now_ms + 1);
  return kPollMs;
}

int run_watchdog(const std::string& state_dir, const ProcessId& agent) {
  spdlog::info("watchdog of agent {} ({}) started", agent.pid, state_dir);
  Watchdog watchdog(state_dir, agent);
  for (;;) {
    const int64_t now = mono_ms();
    if (!watchdog.poll(now)) return 0;
    sleep_ms(watchdog.wait_ms(now));
  }
}

Status start_watchdog(const std::string& program, const std::string& state_dir,
                      const ProcessId& agent) {
  return spawn_detached({program, "--watchdog", std::to_string(agent.pid),
                         std::to_string(agent.start_ticks), "--state-dir", state_dir});
}

ProcessId this_process() { return {::getpid(), process_start_ticks(::getpid())}; }

}  // namespace berth::agent
