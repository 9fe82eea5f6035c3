// Each job in its own cgroup: its memory and CPU limits, the GPUs it may open, a sweep that
// kills every process it left (those that left its process group too), and whether the OOM
// killer killed in it.
//
// One cgroup per launch, named `<job>_<attempt>` (`_step<n>` for a step), under a base folder
// the daemon owns (CgroupSettings::base: berthd's and each agent's differ, so several can share
// a machine). Two implementations: cgroup v1 (one tree per controller: memory, cpu, devices,
// freezer) and cgroup v2 (one unified tree). Both only make folders and read and write the
// kernel's control files under CgroupSettings::root, so tests run them on a temporary directory.
//
// The job's process joins its cgroup itself, before it drops privileges and execs: the
// executor opens JobCgroup::procs_files() and the child writes "0" (itself) to each
// (job_process.h). A process's descendants stay in its cgroup whatever they do (setsid).
//
// Thread-safety: Cgroups::create may be called from any thread; a JobCgroup is used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth::executor {

struct CgroupSettings {
  // v1: the folder holding one mount per controller (memory/, cpu/, devices/, freezer/);
  // v2: the unified hierarchy's mount.
  std::string root = "/sys/fs/cgroup";
  // The jobs' folder, relative to each controller's root (v1) or to the root (v2), e.g.
  // "berth/berthd-<run>". Made when missing.
  std::string base;
  // v1: a /proc/<pid>/cgroup file; when set, the base is under that process's own cgroup in
  // each controller (so that the limits a daemon is under hold its jobs too).
  std::string own_cgroups;
  // v1: where the character devices' majors are listed (every major but the GPUs' is allowed).
  std::string proc_devices = "/proc/devices";
  // v2: each job's cgroup gets a device filter (device_filter.h); detect_cgroups sets it when
  // the kernel loads one.
  bool filter_devices = false;
};

// What a job's cgroup enforces. 0: no limit.
struct CgroupLimits {
  int64_t memory_bytes = 0;  // memory (v1: limit_in_bytes; v2: memory.max and no swap)
  int64_t cpu_millis = 0;    // CPUs × 1000 (1500: one and a half CPUs per period)
  // The job's GPUs: only these of NVIDIA's character devices (major 195) may be opened, and
  // nvidiactl (195:255). v1: the devices controller; v2: a BPF program (device_filter.h).
  std::vector<int> gpus;
};

inline constexpr int kNvidiaMajor = 195;
inline constexpr int kNvidiaCtlMinor = 255;
inline constexpr int64_t kCpuPeriodUs = 100'000;

class JobCgroup {
 public:
  virtual ~JobCgroup() = default;
  // The files the job's process writes "0" to, to join the cgroup (one per v1 controller).
  virtual std::vector<std::string> procs_files() const = 0;
  // Kills every process in the cgroup (SIGKILL), so that nothing the job started outlives it.
  virtual void sweep() = 0;
  // Whether the OOM killer killed a process in the cgroup. Read after the sweep.
  virtual bool oom() const = 0;
  // Removes the cgroup (its processes must be gone: retried briefly while they exit).
  virtual Status remove() = 0;
};

class Cgroups {
 public:
  virtual ~Cgroups() = default;
  // Makes the launch's cgroup with its limits. Errors name what failed ("cannot write
  // memory.limit_in_bytes in /sys/fs/cgroup/memory/berth/x/7_0: Permission denied"); nothing
  // is left behind.
  virtual Result<std::unique_ptr<JobCgroup>> create(const std::string& name,
                                                    const CgroupLimits& limits) = 0;
  // "cgroup1" or "cgroup2": what the agent reports as its isolation.
  virtual std::string kind() const = 0;
  // Removes the base folder if no job's cgroup is left in it (a daemon stopping).
  virtual void remove_base() = 0;
  // The cgroup `name` in the base as it stands, whoever made it (a watchdog fencing its
  // agent's launch, an agent emptying its predecessor's): null when it does not exist.
  virtual std::unique_ptr<JobCgroup> open(const std::string& name) const = 0;
  // The names of the cgroups in the base now (v1: in any controller).
  virtual std::vector<std::string> names() const = 0;
  // The base folder (v1: in the memory controller); the folder above holds other daemons'.
  virtual std::string base_dir() const = 0;
};

// The cgroup of a job's attempt (and step) in its daemon's base: "<job>_<attempt>", and
// "_step<step>" for a step.
std::string job_cgroup_name(uint64_t job, uint32_t attempt, uint32_t step = 0);

std::unique_ptr<Cgroups> make_cgroup_v1(CgroupSettings settings);
std::unique_ptr<Cgroups> make_cgroup_v2(CgroupSettings settings);

// This machine's cgroups, for jobs under `base` (v1: under this process's own cgroups): v2 when the
// unified hierarchy at /sys/fs/cgroup has the memory and cpu controllers, else v1 when memory, cpu,
// devices and freezer are mounted there. An error says why neither can be used (not root, no
// controllers), fit for the `isolation` an agent reports: "none (not root)".
Result<std::unique_ptr<Cgroups>> detect_cgroups(const std::string& base);

// Parses what the kernel counts, for the implementations and their tests.
// The "oom_kill N" of v1's memory.oom_control or v2's memory.events (-1 when absent: a kernel
// before 4.13).
int64_t parse_oom_kills(const std::string& text);
// The character devices' majors in /proc/devices' text.
std::vector<int> parse_char_majors(const std::string& text);
// A v1 controller's path in /proc/<pid>/cgroup's text ("4:memory:/a/b" gives "/a/b" for
// "memory"; "" when it is not listed).
std::string own_cgroup_path(const std::string& text, const std::string& controller);

}  // namespace berth::executor
