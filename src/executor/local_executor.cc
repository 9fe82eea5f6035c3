#include "executor/local_executor.h"

#include "executor/cgroup_files.h"
#include "executor/job_process.h"
#include "executor/proc_stat.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string_view>
#include <system_error>
#include <vector>

namespace berth::executor {
namespace {

// glibc 2.36 declares pidfd_open without C linkage in C++, so call the system call directly.
int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

std::string errno_text(int err) { return std::strerror(err); }

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

int wait_status_exit_code(const siginfo_t& info) {
  return info.si_code == CLD_EXITED ? info.si_status : 0;
}
int wait_status_signal(const siginfo_t& info) {
  return (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) ? info.si_status : 0;
}

}  // namespace

LocalExecutor::LocalExecutor(ExitCallback on_exit, std::unique_ptr<Cgroups> cgroups)
    : on_exit_(std::move(on_exit)),
      cgroups_(std::move(cgroups)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  // Without the eventfd the reaper could never be stopped; this is a resource failure at
  // start-up, not something a caller can handle.
  if (wake_fd_ < 0) std::abort();
  reaper_ = std::thread([this] { reaper_loop(); });
  timer_ = std::thread([this] { timer_loop(); });
}

LocalExecutor::~LocalExecutor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  timer_cv_.notify_all();
  wake_reaper();
  reaper_.join();
  timer_.join();
  for (auto& [id, job] : jobs_) ::close(job.pidfd);
  ::close(wake_fd_);
  if (cgroups_) cgroups_->remove_base();  // jobs left running keep theirs
}

Result<int> LocalExecutor::launch(const LaunchSpec& spec) {
  std::lock_guard launch_lock(launch_mu_);
  if (!spec.job.valid()) return Status::Invalid("job id 0 is not a real job");
  {
    std::lock_guard lock(mu_);
    if (jobs_.contains({spec.job.value, spec.step})) {
      return Status::Conflict("job " + std::to_string(spec.job.value) +
                              (spec.step > 0 ? " step " + std::to_string(spec.step) : "") +
                              " is already running");
    }
  }
  if (spec.workdir.empty()) return Status::Invalid("workdir is empty");
  if (spec.stdout_path.empty() || spec.stderr_path.empty())
    return Status::Invalid("output path is empty");

  BERTH_ASSIGN_OR_RETURN(Identity who, resolve_identity(spec.user, spec.allow_root));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> env,
                         build_job_env(spec.env, who, spec.gpus, spec.job.value));
  BERTH_ASSIGN_OR_RETURN(Script script, load_script(spec.script_path));
  Fd script_fd(script.fd);

  ProcessPlan plan;
  plan.who = std::move(who);
  plan.program = script.interpreter;
  plan.argv.push_back(script.interpreter);
  if (!script.interpreter_arg.empty()) plan.argv.push_back(script.interpreter_arg);
  plan.argv.push_back(kScriptFdPath);
  plan.argv.insert(plan.argv.end(), spec.args.begin(), spec.args.end());
  plan.env = std::move(env);
  plan.workdir = spec.workdir;
  plan.stdout_path = spec.stdout_path;
  plan.stderr_path = spec.stderr_path;
  plan.append_output = spec.append_output;
  plan.script_fd = script_fd.get();
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<JobCgroup> box, make_box(spec));
  std::vector<Fd> procs;
  if (box) {
    for (const std::string& path : box->procs_files()) {
      procs.emplace_back(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
      if (procs.back().get() < 0) {
        const std::string why = "cannot open " + path + ": " + errno_text(errno);
        close_box(*box);
        return Status::Internal("cannot create the job's cgroup: " + why);
      }
      plan.cgroup_fds.push_back(procs.back().get());
    }
  }
  Result<int> spawned = spawn_job_process(plan);
  procs.clear();
  if (!spawned.ok()) {
    if (box) close_box(*box);
    return spawned.status();
  }
  const pid_t pid = *spawned;
  Clock::time_point start = Clock::now();
  int pidfd = pidfd_open(pid);
  if (pidfd < 0) {
    int err = errno;
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (box) close_box(*box);
    return Status::Internal("cannot watch job " + std::to_string(spec.job.value) +
                            ": pidfd_open: " + errno_text(err));
  }

  {
    std::lock_guard lock(mu_);
    Job& job = jobs_[{spec.job.value, spec.step}];
    job.key = {spec.job.value, spec.step};
    job.pgid = pid;
    job.pidfd = pidfd;
    job.start = start;
    job.grace_ms = spec.grace_ms;
    job.box = std::move(box);
    if (spec.time_limit_ms > 0) {
      job.limit_at = start + std::chrono::milliseconds(spec.time_limit_ms);
      job.warn_signal = spec.warn_signal;
      job.warn_leader_only = spec.warn_leader_only;
      if (spec.warn_signal > 0) {
        const int64_t warn_after_ms =
            std::max<int64_t>(spec.time_limit_ms - std::max<int64_t>(spec.warn_before_ms, 0), 0);
        schedule(job, NextSignal::kWarn, start + std::chrono::milliseconds(warn_after_ms));
      } else {
        schedule(job, NextSignal::kTerm, job.limit_at);
      }
    }
  }
  timer_cv_.notify_all();
  wake_reaper();
  return static_cast<int>(pid);
}

Status LocalExecutor::terminate(JobId id, int64_t grace_ms) {
  return terminate_step(id, 0, grace_ms);
}

Status LocalExecutor::terminate_step(JobId id, uint32_t step, int64_t grace_ms) {
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find({id.value, step});
    if (it == jobs_.end())
      return Status::NotFound("job " + std::to_string(id.value) +
                              (step > 0 ? " step " + std::to_string(step) : "") +
                              " is not running");
    cancel_locked(it->second, grace_ms);
  }
  timer_cv_.notify_all();
  return Status::Ok();
}

size_t LocalExecutor::running() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

std::string LocalExecutor::isolation() const { return cgroups_ ? cgroups_->kind() : "none"; }

Result<std::unique_ptr<JobCgroup>> LocalExecutor::make_box(const LaunchSpec& spec) {
  if (!cgroups_) return std::unique_ptr<JobCgroup>();
  CgroupLimits limits;
  limits.memory_bytes = spec.memory_mb * 1024 * 1024;
  limits.cpu_millis = int64_t{spec.cpus} * 1000;
  limits.gpus = spec.gpus;
  Result<std::unique_ptr<JobCgroup>> box =
      cgroups_->create(job_cgroup_name(spec.job.value, spec.attempt, spec.step), limits);
  if (!box.ok())
    return Status::Internal("cannot create the job's cgroup: " + box.status().message());
  return box;
}

bool LocalExecutor::close_box(JobCgroup& box) {
  box.sweep();
  const bool oom = box.oom();
  // A cgroup left behind (a process stuck in the kernel) costs a folder, not the job's end.
  (void)box.remove();
  return oom;
}

bool LocalExecutor::kill_all(int64_t grace_ms, int64_t wait_ms) {
  std::unique_lock lock(mu_);
  Clock::time_point deadline =
      Clock::now() +
      std::chrono::milliseconds(std::max<int64_t>(grace_ms, 0) + std::max<int64_t>(wait_ms, 0));
  for (auto& [id, job] : jobs_) cancel_locked(job, grace_ms);
  timer_cv_.notify_all();
  return idle_cv_.wait_until(lock, deadline, [this] { return jobs_.empty() && reporting_ == 0; });
}

void LocalExecutor::cancel_locked(Job& job, int64_t grace_ms) {
  job.cancelled = true;
  ::kill(-job.pgid, SIGTERM);
  Clock::time_point kill_at =
      Clock::now() + std::chrono::milliseconds(std::max<int64_t>(grace_ms, 0));
  if (job.next == NextSignal::kKill && job.next_at <= kill_at) return;
  schedule(job, NextSignal::kKill, kill_at);
}

void LocalExecutor::schedule(Job& job, NextSignal next, Clock::time_point at) {
  if (job.next != NextSignal::kNone) deadlines_.erase({job.next_at, job.key});
  job.next = next;
  job.next_at = at;
  if (next != NextSignal::kNone) deadlines_.insert({at, job.key});
}

void LocalExecutor::wake_reaper() {
  uint64_t one = 1;
  // The eventfd is non-blocking; a full counter already means "wake up", so failure is harmless.
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void LocalExecutor::timer_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (deadlines_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    auto [at, key] = *deadlines_.begin();
    if (Clock::now() < at) {
      timer_cv_.wait_until(lock, at);
      continue;
    }
    Job& job = jobs_.at(key);
    // The leader has not been reaped (jobs_ still holds it), so the pgid is still this job's.
    if (job.next == NextSignal::kWarn) {
      ::kill(job.warn_leader_only ? job.pgid : -job.pgid, job.warn_signal);
      schedule(job, NextSignal::kTerm, job.limit_at);
    } else if (job.next == NextSignal::kTerm) {
      job.timed_out = true;
      ::kill(-job.pgid, SIGTERM);
      schedule(job, NextSignal::kKill,
               at + std::chrono::milliseconds(std::max<int64_t>(job.grace_ms, 0)));
    } else {
      ::kill(-job.pgid, SIGKILL);
      schedule(job, NextSignal::kNone, at);
    }
  }
}

void LocalExecutor::reaper_loop() {
  std::vector<pollfd> fds;
  std::vector<Key> ids;
  while (true) {
    fds.clear();
    ids.clear();
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      fds.push_back({wake_fd_, POLLIN, 0});
      ids.emplace_back();
      for (const auto& [id, job] : jobs_) {
        fds.push_back({job.pidfd, POLLIN, 0});
        ids.push_back(id);
      }
    }
    int n = ::poll(fds.data(), fds.size(), -1);
    if (n < 0) continue;  // EINTR; nothing else can fail with valid descriptors
    if (fds[0].revents != 0) {
      uint64_t count;
      [[maybe_unused]] ssize_t r = ::read(wake_fd_, &count, sizeof count);
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents != 0) reap(ids[i]);
    }
  }
}

void LocalExecutor::reap(Key key) {
  JobExit exit;
  std::unique_ptr<JobCgroup> box;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(key);
    if (it == jobs_.end()) return;
    Job& job = it->second;
    siginfo_t info{};
    int rc = ::waitid(P_PIDFD, job.pidfd, &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0 && info.si_pid == 0) return;  // not exited after all
    // The leader is a zombie, so its pgid cannot have been reused: sweep what is left of the group.
    ::kill(-job.pgid, SIGKILL);
    exit.job = JobId(key.first);
    exit.step = key.second;
    if (rc == 0) {
      siginfo_t reaped{};
      while (::waitid(P_PIDFD, job.pidfd, &reaped, WEXITED) != 0 && errno == EINTR) {
      }
      exit.exit_code = wait_status_exit_code(info);
      exit.term_signal = wait_status_signal(info);
    } else {
      exit.exit_code = -1;  // someone else reaped it (SIGCHLD ignored?): the status is lost
    }
    exit.timed_out = job.timed_out;
    exit.cancelled = job.cancelled;
    exit.runtime_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - job.start).count();
    ::close(job.pidfd);
    schedule(job, NextSignal::kNone, job.next_at);
    box = std::move(job.box);
    jobs_.erase(it);
    ++reporting_;
  }
  // Outside the lock: freezing and emptying a cgroup can take a moment.
  if (box) exit.oom = close_box(*box);
  on_exit_(exit);
  {
    std::lock_guard lock(mu_);
    --reporting_;
  }
  idle_cv_.notify_all();
}

namespace {

// The process group of `pid`, or -1.
int proc_pgrp(int pid) {
  const std::optional<ProcStat> st = read_proc_stat(pid);
  return st ? st->pgrp : -1;
}

bool environ_has(int pid, const std::string& entry) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\0', pos);
    if (end == std::string::npos) end = text.size();
    if (std::string_view(text).substr(pos, end - pos) == entry) return true;
    pos = end + 1;
  }
  return false;
}

bool member_of_job(int pid, int pgid, const std::string& entry) {
  return proc_pgrp(pid) == pgid && environ_has(pid, entry);
}

// A job whose daemon died while sweeping its cgroup (v1) may be left frozen, where a SIGKILL
// waits: thawing its freezer cgroup lets the signal take effect.
void thaw(int pid) {
  const std::string path =
      own_cgroup_path(cgroup_files::read("/proc/" + std::to_string(pid) + "/cgroup"), "freezer");
  if (path.empty() || path == "/") return;
  (void)cgroup_files::write("/sys/fs/cgroup/freezer" + path, "freezer.state", "THAWED\n");
}

}  // namespace

bool kill_orphan_job(int pgid, JobId job) {
  if (pgid <= 1 || !job.valid() || pgid == ::getpgrp()) return false;
  const std::string entry = "BERTH_JOB_ID=" + std::to_string(job.value);
  int found_pid = member_of_job(pgid, pgid, entry) ? pgid : 0;
  bool found = found_pid != 0;
  if (!found) {
    // The leader may be gone while the rest of its group still runs.
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return false;
    while (dirent* d = ::readdir(proc)) {
      char* end = nullptr;
      long pid = std::strtol(d->d_name, &end, 10);
      if (end == d->d_name || *end != '\0' || pid <= 0) continue;
      if (member_of_job(static_cast<int>(pid), pgid, entry)) {
        found = true;
        found_pid = static_cast<int>(pid);
        break;
      }
    }
    ::closedir(proc);
  }
  if (!found || ::kill(-pgid, SIGKILL) != 0) return false;
  thaw(found_pid);
  return true;
}

}  // namespace berth::executor
