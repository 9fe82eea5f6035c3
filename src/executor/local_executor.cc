#include "executor/local_executor.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
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

// Keeps a descriptor off 0-2, so that the child's dup2 onto 0-2 cannot clobber another source
// (berthd may run with its standard descriptors closed).
Fd above_stdio(int fd) {
  if (fd < 0 || fd > 2) return Fd(fd);
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int err = errno;
  ::close(fd);
  errno = err;
  return Fd(moved);
}

// Opens an output file truncated; a file it creates gets mode 0644 whatever the umask.
Result<Fd> open_output(const std::string& path, const char* what) {
  if (path.empty()) return Status::Invalid(std::string(what) + " path is empty");
  int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY;
  Fd fd = above_stdio(::open(path.c_str(), flags | O_CREAT | O_EXCL, 0644));
  if (fd.get() >= 0) {
    ::fchmod(fd.get(), 0644);  // We created it, so this only undoes the umask.
  } else if (errno == EEXIST) {
    fd = above_stdio(::open(path.c_str(), flags | O_CREAT | O_TRUNC, 0644));
  }
  if (fd.get() < 0) {
    return Status::Invalid("cannot open " + std::string(what) + " file " + path + ": " +
                           errno_text(errno));
  }
  return fd;
}

struct Program {
  std::string path;               // what posix_spawn executes
  std::vector<std::string> argv;
};

// Decides how to run the script: directly if it starts with "#!", else through /bin/sh.
Result<Program> resolve_program(const LaunchSpec& spec) {
  if (spec.script_path.empty()) return Status::Invalid("script path is empty");
  std::error_code ec;
  std::string script = std::filesystem::absolute(spec.script_path, ec).string();
  if (ec) return Status::Invalid("script " + spec.script_path + ": " + ec.message());

  Fd fd(::open(script.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return Status::Invalid("cannot open script " + script + ": " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::Invalid("script " + script + " is not a regular file");
  }
  char head[2] = {0, 0};
  ssize_t n;
  do {
    n = ::pread(fd.get(), head, sizeof head, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::Invalid("cannot read script " + script + ": " + errno_text(errno));

  Program program;
  if (n == 2 && head[0] == '#' && head[1] == '!') {
    if (::access(script.c_str(), X_OK) != 0) {
      return Status::Invalid("script " + script + " starts with #! but is not executable: " +
                             errno_text(errno));
    }
    program.path = script;
  } else {
    program.path = "/bin/sh";
    program.argv.push_back("/bin/sh");
  }
  program.argv.push_back(script);
  program.argv.insert(program.argv.end(), spec.args.begin(), spec.args.end());
  return program;
}

bool valid_env_name(const std::string& name) {
  return !name.empty() && name.find('=') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

// berthd's environment, then the spec's, then the two variables the executor owns.
Result<std::vector<std::string>> build_env(const LaunchSpec& spec) {
  std::map<std::string, std::string> merged;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    size_t eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    merged[std::string(text.substr(0, eq))] = std::string(text.substr(eq + 1));
  }
  for (const auto& [name, value] : spec.env) {
    if (!valid_env_name(name)) return Status::Invalid("invalid environment variable name '" + name + "'");
    if (value.find('\0') != std::string::npos) {
      return Status::Invalid("environment variable " + name + " contains a NUL byte");
    }
    merged[name] = value;
  }
  std::string gpus;
  for (int gpu : spec.gpus) {
    if (!gpus.empty()) gpus += ',';
    gpus += std::to_string(gpu);
  }
  merged["CUDA_VISIBLE_DEVICES"] = gpus;
  merged["BERTH_JOB_ID"] = std::to_string(spec.job.value);

  std::vector<std::string> env;
  env.reserve(merged.size());
  for (const auto& [name, value] : merged) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

class SpawnActions {
 public:
  SpawnActions() { ok_ = ::posix_spawn_file_actions_init(&actions_) == 0; }
  ~SpawnActions() {
    if (ok_) ::posix_spawn_file_actions_destroy(&actions_);
  }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }
  // Records the first failure; returns whether everything so far succeeded.
  bool check(int rc) {
    if (rc != 0 && err_ == 0) err_ = rc;
    return ok_ && err_ == 0;
  }
  int error() const { return ok_ ? err_ : ENOMEM; }

 private:
  posix_spawn_file_actions_t actions_;
  bool ok_ = false;
  int err_ = 0;
};

class SpawnAttr {
 public:
  SpawnAttr() { ok_ = ::posix_spawnattr_init(&attr_) == 0; }
  ~SpawnAttr() {
    if (ok_) ::posix_spawnattr_destroy(&attr_);
  }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  posix_spawnattr_t* get() { return &attr_; }
  bool ok() const { return ok_; }

 private:
  posix_spawnattr_t attr_;
  bool ok_ = false;
};

int wait_status_exit_code(const siginfo_t& info) { return info.si_code == CLD_EXITED ? info.si_status : 0; }
int wait_status_signal(const siginfo_t& info) {
  return (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) ? info.si_status : 0;
}

}  // namespace

LocalExecutor::LocalExecutor(ExitCallback on_exit)
    : on_exit_(std::move(on_exit)), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
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
}

Result<int> LocalExecutor::launch(const LaunchSpec& spec) {
  std::lock_guard launch_lock(launch_mu_);
  if (!spec.job.valid()) return Status::Invalid("job id 0 is not a real job");
  {
    std::lock_guard lock(mu_);
    if (jobs_.contains(spec.job)) {
      return Status::Conflict("job " + std::to_string(spec.job.value) + " is already running");
    }
  }

  Result<Program> program = resolve_program(spec);
  if (!program.ok()) return program.status();
  struct stat st {};
  if (spec.workdir.empty()) return Status::Invalid("workdir is empty");
  if (::stat(spec.workdir.c_str(), &st) != 0) {
    return Status::Invalid("workdir " + spec.workdir + ": " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) return Status::Invalid("workdir " + spec.workdir + " is not a directory");
  Result<std::vector<std::string>> env = build_env(spec);
  if (!env.ok()) return env.status();

  Result<Fd> out = open_output(spec.stdout_path, "stdout");
  if (!out.ok()) return out.status();
  Fd err_file;
  if (spec.stderr_path != spec.stdout_path) {
    Result<Fd> err = open_output(spec.stderr_path, "stderr");
    if (!err.ok()) return err.status();
    err_file = std::move(*err);
  }
  int err_fd = err_file.get() >= 0 ? err_file.get() : out->get();

  SpawnActions actions;
  actions.check(::posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0));
  actions.check(::posix_spawn_file_actions_adddup2(actions.get(), out->get(), 1));
  actions.check(::posix_spawn_file_actions_adddup2(actions.get(), err_fd, 2));
  actions.check(::posix_spawn_file_actions_addchdir_np(actions.get(), spec.workdir.c_str()));
  // Leak none of berthd's descriptors (listening socket, database) into the job.
  if (!actions.check(::posix_spawn_file_actions_addclosefrom_np(actions.get(), 3))) {
    return Status::Internal("cannot prepare spawn of job " + std::to_string(spec.job.value) + ": " +
                            errno_text(actions.error()));
  }

  SpawnAttr attr;
  sigset_t empty_mask;
  sigset_t all_signals;
  sigemptyset(&empty_mask);
  sigfillset(&all_signals);
  if (!attr.ok() ||
      ::posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                 POSIX_SPAWN_SETSIGDEF) != 0 ||
      ::posix_spawnattr_setpgroup(attr.get(), 0) != 0 ||
      ::posix_spawnattr_setsigmask(attr.get(), &empty_mask) != 0 ||
      ::posix_spawnattr_setsigdefault(attr.get(), &all_signals) != 0) {
    return Status::Internal("cannot prepare spawn attributes of job " + std::to_string(spec.job.value));
  }

  std::vector<std::string> argv_strings = program->argv;
  std::vector<char*> argv = c_strings(argv_strings);
  std::vector<char*> envp = c_strings(*env);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program->path.c_str(), actions.get(), attr.get(), argv.data(), envp.data());
  if (rc != 0) {
    return Status::Internal("cannot start job " + std::to_string(spec.job.value) + " (" +
                            program->path + " in " + spec.workdir + "): " + errno_text(rc));
  }
  Clock::time_point start = Clock::now();
  int pidfd = pidfd_open(pid);
  if (pidfd < 0) {
    int err = errno;
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Status::Internal("cannot watch job " + std::to_string(spec.job.value) + ": pidfd_open: " +
                            errno_text(err));
  }

  {
    std::lock_guard lock(mu_);
    Job& job = jobs_[spec.job];
    job.id = spec.job;
    job.pgid = pid;
    job.pidfd = pidfd;
    job.start = start;
    job.grace_ms = spec.grace_ms;
    if (spec.time_limit_ms > 0) {
      schedule(job, NextSignal::kTerm, start + std::chrono::milliseconds(spec.time_limit_ms));
    }
  }
  timer_cv_.notify_all();
  wake_reaper();
  return static_cast<int>(pid);
}

Status LocalExecutor::terminate(JobId id, int64_t grace_ms) {
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return Status::NotFound("job " + std::to_string(id.value) + " is not running");
    cancel_locked(it->second, grace_ms);
  }
  timer_cv_.notify_all();
  return Status::Ok();
}

size_t LocalExecutor::running() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

bool LocalExecutor::kill_all(int64_t grace_ms, int64_t wait_ms) {
  std::unique_lock lock(mu_);
  Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(std::max<int64_t>(grace_ms, 0) + std::max<int64_t>(wait_ms, 0));
  for (auto& [id, job] : jobs_) cancel_locked(job, grace_ms);
  timer_cv_.notify_all();
  return idle_cv_.wait_until(lock, deadline, [this] { return jobs_.empty() && reporting_ == 0; });
}

void LocalExecutor::cancel_locked(Job& job, int64_t grace_ms) {
  job.cancelled = true;
  ::kill(-job.pgid, SIGTERM);
  Clock::time_point kill_at = Clock::now() + std::chrono::milliseconds(std::max<int64_t>(grace_ms, 0));
  if (job.next == NextSignal::kKill && job.next_at <= kill_at) return;
  schedule(job, NextSignal::kKill, kill_at);
}

void LocalExecutor::schedule(Job& job, NextSignal next, Clock::time_point at) {
  if (job.next != NextSignal::kNone) deadlines_.erase({job.next_at, job.id.value});
  job.next = next;
  job.next_at = at;
  if (next != NextSignal::kNone) deadlines_.insert({at, job.id.value});
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
    auto [at, id_value] = *deadlines_.begin();
    if (Clock::now() < at) {
      timer_cv_.wait_until(lock, at);
      continue;
    }
    Job& job = jobs_.at(JobId(id_value));
    // The leader has not been reaped (jobs_ still holds it), so the pgid is still this job's.
    if (job.next == NextSignal::kTerm) {
      job.timed_out = true;
      ::kill(-job.pgid, SIGTERM);
      schedule(job, NextSignal::kKill, at + std::chrono::milliseconds(std::max<int64_t>(job.grace_ms, 0)));
    } else {
      ::kill(-job.pgid, SIGKILL);
      schedule(job, NextSignal::kNone, at);
    }
  }
}

void LocalExecutor::reaper_loop() {
  std::vector<pollfd> fds;
  std::vector<JobId> ids;
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

void LocalExecutor::reap(JobId id) {
  JobExit exit;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    Job& job = it->second;
    siginfo_t info{};
    int rc = ::waitid(P_PIDFD, job.pidfd, &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0 && info.si_pid == 0) return;  // not exited after all
    // The leader is a zombie, so its pgid cannot have been reused: sweep what is left of the group.
    ::kill(-job.pgid, SIGKILL);
    exit.job = id;
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
    jobs_.erase(it);
    ++reporting_;
  }
  on_exit_(exit);
  {
    std::lock_guard lock(mu_);
    --reporting_;
  }
  idle_cv_.notify_all();
}

namespace {

// The process group of `pid`, from /proc/<pid>/stat, or -1.
int proc_pgrp(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');  // the command name may itself contain ')' or spaces
  if (paren == std::string::npos) return -1;
  char state = 0;
  int ppid = 0;
  int pgrp = -1;
  if (std::sscanf(text.c_str() + paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) return -1;
  return pgrp;
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

}  // namespace

bool kill_orphan_job(int pgid, JobId job) {
  if (pgid <= 1 || !job.valid() || pgid == ::getpgrp()) return false;
  const std::string entry = "BERTH_JOB_ID=" + std::to_string(job.value);
  bool found = member_of_job(pgid, pgid, entry);
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
        break;
      }
    }
    ::closedir(proc);
  }
  return found && ::kill(-pgid, SIGKILL) == 0;
}

}  // namespace berth::executor
