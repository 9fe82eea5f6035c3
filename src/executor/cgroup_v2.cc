// cgroup v2: one unified tree. Decisions:
// - The base's ancestors up to the root get "+cpu +memory" in cgroup.subtree_control, so that
//   the jobs' cgroups have those controllers (in a delegated subtree the operator gives the
//   base's parent them; writing what is already enabled changes nothing).
// - memory.max and memory.swap.max = 0 (a job cannot swap past its limit); cpu.max.
// - Devices: v2 has no devices files; with settings.filter_devices each job's cgroup gets
//   device_filter.h's BPF program (only its GPUs of NVIDIA's major, as v1's whitelist). Without
//   (a kernel that loads none), jobs see only their GPUs through CUDA_VISIBLE_DEVICES.
// - Sweep: cgroup.kill (Linux 5.14); where it is missing, SIGKILL to every process listed.
// - OOM: "oom_kill N" in memory.events.
#include <unistd.h>

#include <sstream>
#include <utility>

#include "executor/cgroup.h"
#include "executor/cgroup_files.h"
#include "executor/device_filter.h"

namespace berth::executor {
namespace {

namespace files = cgroup_files;

class JobCgroupV2 final : public JobCgroup {
 public:
  explicit JobCgroupV2(std::string dir) : dir_(std::move(dir)) {}

  std::vector<std::string> procs_files() const override { return {dir_ + "/cgroup.procs"}; }

  void sweep() override {
    if (!files::write(dir_, "cgroup.kill", "1\n").ok()) files::kill_listed(dir_ + "/cgroup.procs");
  }

  bool oom() const override { return parse_oom_kills(files::read(dir_ + "/memory.events")) > 0; }

  Status remove() override { return files::remove_dir(dir_); }

 private:
  std::string dir_;
};

class CgroupsV2 final : public Cgroups {
 public:
  explicit CgroupsV2(CgroupSettings settings) : settings_(std::move(settings)) {}

  Result<std::unique_ptr<JobCgroup>> create(const std::string& name,
                                            const CgroupLimits& limits) override {
    const std::string base = base_dir();
    BERTH_RETURN_IF_ERROR(files::make_dirs(base));
    BERTH_RETURN_IF_ERROR(enable_controllers());
    const std::string dir = base + "/" + name;
    auto job = std::make_unique<JobCgroupV2>(dir);
    Status st = set_up(dir, limits);
    if (st.ok() && settings_.filter_devices)
      st = attach_device_filter(dir, limits.gpus, kNvidiaMajor);
    if (!st.ok()) {
      (void)job->remove();
      return st;
    }
    return std::unique_ptr<JobCgroup>(std::move(job));
  }

  std::string kind() const override { return "cgroup2"; }

  void remove_base() override {
    ::rmdir(base_dir().c_str());  // fails while not empty
  }

  std::unique_ptr<JobCgroup> open(const std::string& name) const override {
    const std::string dir = base_dir() + "/" + name;
    if (!files::is_dir(dir)) return nullptr;
    return std::make_unique<JobCgroupV2>(dir);
  }

  std::vector<std::string> names() const override { return files::subfolders(base_dir()); }

  std::string base_dir() const override { return settings_.root + "/" + settings_.base; }

 private:
  Status enable_controllers() const {
    std::string dir = settings_.root;
    std::istringstream parts(settings_.base);
    for (std::string part; std::getline(parts, part, '/');) {
      if (part.empty()) continue;
      BERTH_RETURN_IF_ERROR(files::write(dir, "cgroup.subtree_control", "+cpu +memory\n"));
      dir += "/" + part;
    }
    return files::write(dir, "cgroup.subtree_control", "+cpu +memory\n");
  }

  static Status set_up(const std::string& dir, const CgroupLimits& limits) {
    BERTH_RETURN_IF_ERROR(files::make_dirs(dir));
    if (limits.memory_bytes > 0) {
      BERTH_RETURN_IF_ERROR(
          files::write(dir, "memory.max", std::to_string(limits.memory_bytes) + "\n"));
      BERTH_RETURN_IF_ERROR(files::write(dir, "memory.swap.max", "0\n"));
    }
    if (limits.cpu_millis > 0) {
      BERTH_RETURN_IF_ERROR(files::write(dir, "cpu.max",
                                         std::to_string(limits.cpu_millis * kCpuPeriodUs / 1000) +
                                             " " + std::to_string(kCpuPeriodUs) + "\n"));
    }
    return Status::Ok();
  }

  const CgroupSettings settings_;
};

}  // namespace

std::unique_ptr<Cgroups> make_cgroup_v2(CgroupSettings settings) {
  return std::make_unique<CgroupsV2>(std::move(settings));
}

}  // namespace berth::executor
