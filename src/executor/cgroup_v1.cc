// cgroup v1: one tree per controller, the job's cgroup made in each of memory, cpu, devices
// and freezer. Decisions:
// - Devices: "a" denied, then every block device and every character major listed in
//   /proc/devices but NVIDIA's (195) allowed, then 195:<minor> of the job's own GPUs and
//   nvidiactl (195:255). A whitelist cannot allow "all but one major", so the majors are read
//   at each creation (nvidia-uvm's is dynamic: it is listed once its driver is loaded).
// - Memory: limit_in_bytes, and memsw.limit_in_bytes to the same value where the kernel
//   accounts swap, so that a job cannot swap past its memory.
// - Sweep: freezer FROZEN (waiting up to a second for the kernel to get there), SIGKILL to
//   every process listed, THAWED: frozen processes cannot fork while they are being killed,
//   and they die once thawed.
// - OOM: "oom_kill N" in memory.oom_control (kernel 4.13 and later); on an older kernel, a
//   failed charge (failcnt) with the peak usage at the limit.
#include <unistd.h>

#include <set>
#include <sstream>
#include <utility>

#include "executor/cgroup.h"
#include "executor/cgroup_files.h"

namespace berth::executor {
namespace {

namespace files = cgroup_files;

constexpr const char* kControllers[] = {"memory", "cpu", "devices", "freezer"};

int64_t number_in(const std::string& path) {
  std::istringstream in(files::read(path));
  int64_t n = 0;
  return in >> n ? n : 0;
}

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::string last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

class JobCgroupV1 final : public JobCgroup {
 public:
  explicit JobCgroupV1(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}

  // dirs_ in kControllers' order.
  const std::string& memory() const { return dirs_[0]; }
  const std::string& freezer() const { return dirs_[3]; }

  std::vector<std::string> procs_files() const override {
    std::vector<std::string> out;
    for (const std::string& d : dirs_) out.push_back(d + "/cgroup.procs");
    return out;
  }

  void sweep() override {
    if (!files::write(freezer(), "freezer.state", "FROZEN\n").ok()) {
      files::kill_listed(freezer() + "/cgroup.procs");  // no freezer: kill what is there
      return;
    }
    for (int i = 0; i < 1000 && last_line(files::read(freezer() + "/freezer.state")) != "FROZEN";
         ++i)
      files::pause_ms(1);
    files::kill_listed(freezer() + "/cgroup.procs");
    (void)files::write(freezer(), "freezer.state", "THAWED\n");
  }

  bool oom() const override {
    const int64_t kills = parse_oom_kills(files::read(memory() + "/memory.oom_control"));
    if (kills >= 0) return kills > 0;
    const int64_t limit = number_in(memory() + "/memory.limit_in_bytes");
    return number_in(memory() + "/memory.failcnt") > 0 && limit > 0 &&
           number_in(memory() + "/memory.max_usage_in_bytes") >= limit;
  }

  Status remove() override {
    Status first = Status::Ok();
    for (const std::string& d : dirs_) {
      Status st = files::remove_dir(d);
      if (first.ok() && !st.ok()) first = st;
    }
    return first;
  }

 private:
  std::vector<std::string> dirs_;
};

class CgroupsV1 final : public Cgroups {
 public:
  explicit CgroupsV1(CgroupSettings settings) : settings_(std::move(settings)) {}

  Result<std::unique_ptr<JobCgroup>> create(const std::string& name,
                                            const CgroupLimits& limits) override {
    const std::vector<std::string> dirs = dirs_of(name);
    auto job = std::make_unique<JobCgroupV1>(dirs);
    Status st = set_up(dirs, limits);
    if (!st.ok()) {
      (void)job->remove();
      return st;
    }
    return std::unique_ptr<JobCgroup>(std::move(job));
  }

  std::string kind() const override { return "cgroup1"; }

  void remove_base() override {
    for (const std::string& d : dirs_of(""))
      ::rmdir(d.substr(0, d.size() - 1).c_str());  // fails, harmlessly, while not empty
  }

  std::unique_ptr<JobCgroup> open(const std::string& name) const override {
    std::vector<std::string> dirs = dirs_of(name);
    bool any = false;
    for (const std::string& d : dirs) any = any || files::is_dir(d);
    if (!any) return nullptr;
    return std::make_unique<JobCgroupV1>(std::move(dirs));
  }

  std::vector<std::string> names() const override {
    std::set<std::string> all;
    for (const std::string& d : dirs_of(""))
      for (std::string& n : files::subfolders(d)) all.insert(std::move(n));
    return {all.begin(), all.end()};
  }

  std::string base_dir() const override {
    const std::string d = dirs_of("")[0];
    return d.substr(0, d.size() - 1);
  }

 private:
  // The cgroup `name` in each controller (kControllers' order).
  std::vector<std::string> dirs_of(const std::string& name) const {
    std::vector<std::string> dirs;
    const std::string own = settings_.own_cgroups.empty() ? "" : files::read(settings_.own_cgroups);
    for (const char* c : kControllers) {
      const std::string under = own_cgroup_path(own, c);
      dirs.push_back(settings_.root + "/" + c + (under == "/" ? "" : under) + "/" + settings_.base +
                     "/" + name);
    }
    return dirs;
  }

  Status set_up(const std::vector<std::string>& dirs, const CgroupLimits& limits) const {
    for (const std::string& d : dirs) BERTH_RETURN_IF_ERROR(files::make_dirs(d));
    const std::string& memory = dirs[0];
    if (limits.memory_bytes > 0) {
      const std::string bytes = std::to_string(limits.memory_bytes) + "\n";
      BERTH_RETURN_IF_ERROR(files::write(memory, "memory.limit_in_bytes", bytes));
      if (::access((memory + "/memory.memsw.limit_in_bytes").c_str(), F_OK) == 0)
        BERTH_RETURN_IF_ERROR(files::write(memory, "memory.memsw.limit_in_bytes", bytes));
    }
    if (limits.cpu_millis > 0) {
      const std::string& cpu = dirs[1];
      BERTH_RETURN_IF_ERROR(
          files::write(cpu, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs) + "\n"));
      BERTH_RETURN_IF_ERROR(files::write(
          cpu, "cpu.cfs_quota_us", std::to_string(limits.cpu_millis * kCpuPeriodUs / 1000) + "\n"));
    }
    return allow_devices(dirs[2], limits.gpus);
  }

  Status allow_devices(const std::string& dir, const std::vector<int>& gpus) const {
    BERTH_RETURN_IF_ERROR(files::write(dir, "devices.deny", "a\n"));
    std::vector<std::string> allowed = {"b *:* rwm"};
    for (int major : parse_char_majors(files::read(settings_.proc_devices)))
      if (major != kNvidiaMajor) allowed.push_back("c " + std::to_string(major) + ":* rwm");
    for (int gpu : gpus)
      allowed.push_back("c " + std::to_string(kNvidiaMajor) + ":" + std::to_string(gpu) + " rwm");
    allowed.push_back("c " + std::to_string(kNvidiaMajor) + ":" + std::to_string(kNvidiaCtlMinor) +
                      " rwm");
    for (const std::string& line : allowed)
      BERTH_RETURN_IF_ERROR(files::write(dir, "devices.allow", line + "\n"));
    return Status::Ok();
  }

  const CgroupSettings settings_;
};

}  // namespace

std::unique_ptr<Cgroups> make_cgroup_v1(CgroupSettings settings) {
  return std::make_unique<CgroupsV1>(std::move(settings));
}

}  // namespace berth::executor
