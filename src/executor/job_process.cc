#include "executor/job_process.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace berth::executor {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Moves a descriptor to 10 or above (close-on-exec), so that the child's dup2 onto 0-3 can
// never clobber it.
int above_nine(int fd) {
  if (fd < 0 || fd >= 10) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  const int err = errno;
  ::close(fd);
  errno = err;
  return moved;
}

bool valid_env_name(const std::string& name) {
  return !name.empty() && name.find('=') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

constexpr size_t kPasswdBuffer = 1 << 16;

Identity identity_of(const passwd& pw) {
  Identity who;
  who.uid = pw.pw_uid;
  who.gid = pw.pw_gid;
  who.name = pw.pw_name;
  who.home = pw.pw_dir != nullptr && *pw.pw_dir ? pw.pw_dir : "/";
  who.shell = pw.pw_shell != nullptr && *pw.pw_shell ? pw.pw_shell : "/bin/sh";
  return who;
}

std::vector<gid_t> groups_of(const Identity& who) {
  int n = 32;
  std::vector<gid_t> groups(n);
  while (::getgrouplist(who.name.c_str(), who.gid, groups.data(), &n) < 0) groups.resize(n);
  groups.resize(n);
  return groups;
}

}  // namespace

Result<Identity> resolve_identity(const std::string& user, bool allow_root) {
  const uid_t self = ::geteuid();
  std::vector<char> buffer(kPasswdBuffer);
  passwd pw{};
  passwd* found = nullptr;
  Identity who;
  if (user.empty()) {
    ::getpwuid_r(self, &pw, buffer.data(), buffer.size(), &found);
    if (found != nullptr) {
      who = identity_of(pw);
    } else {
      who.uid = self;
      who.gid = ::getegid();
      who.name = "uid " + std::to_string(self);
    }
  } else {
    const int rc = ::getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found);
    if (found == nullptr) {
      return Status::Invalid("unknown Unix user '" + user + "'" +
                             (rc != 0 ? ": " + errno_text(rc) : ""));
    }
    who = identity_of(pw);
    if (who.uid != self) {
      if (self != 0)
        return Status::Invalid("cannot run a job as " + user + ": berthd does not run as root");
      who.switch_user = true;
      who.groups = groups_of(who);
    }
  }
  if (who.uid == 0 && !allow_root) {
    return Status::Invalid(
        "refused to run the job as root (uid 0); an operator allows it with [jobs] allow_root = "
        "true");
  }
  return who;
}

Result<std::vector<std::string>> build_job_env(const std::map<std::string, std::string>& env,
                                               const Identity& who, const std::vector<int>& gpus,
                                               uint64_t job_id) {
  std::map<std::string, std::string> merged = {
      {"HOME", who.home},
      {"USER", who.name},
      {"LOGNAME", who.name},
      {"SHELL", who.shell},
      {"PATH", who.uid == 0 ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                            : "/usr/local/bin:/usr/bin:/bin"},
  };
  for (const auto& [name, value] : env) {
    if (!valid_env_name(name))
      return Status::Invalid("invalid environment variable name '" + name + "'");
    if (value.find('\0') != std::string::npos) {
      return Status::Invalid("environment variable " + name + " contains a NUL byte");
    }
    merged[name] = value;
  }
  std::string devices;
  for (int gpu : gpus) {
    if (!devices.empty()) devices += ',';
    devices += std::to_string(gpu);
  }
  merged["CUDA_VISIBLE_DEVICES"] = devices;
  merged["BERTH_JOB_ID"] = std::to_string(job_id);
  std::vector<std::string> out;
  out.reserve(merged.size());
  for (const auto& [name, value] : merged) out.push_back(name + "=" + value);
  return out;
}

Result<Script> load_script(const std::string& path) {
  if (path.empty()) return Status::Invalid("script path is empty");
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (in < 0) return Status::Invalid("cannot open script " + path + ": " + errno_text(errno));
  std::unique_ptr<int, void (*)(int*)> in_guard(new int(in), [](int* fd) {
    ::close(*fd);
    delete fd;
  });
  struct stat st {};
  if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode))
    return Status::Invalid("script " + path + " is not a regular file");
  Script script;
  script.fd = above_nine(::memfd_create("berth-job-script", MFD_CLOEXEC));
  if (script.fd < 0)
    return Status::Internal("cannot copy script " + path + ": memfd_create: " + errno_text(errno));
  std::string head;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(script.fd);
      return Status::Invalid("cannot read script " + path + ": " + errno_text(err));
    }
    if (n == 0) break;
    if (head.size() < 256)
      head.append(buf, std::min<size_t>(static_cast<size_t>(n), 256 - head.size()));
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(script.fd, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        const int err = errno;
        ::close(script.fd);
        return Status::Internal("cannot copy script " + path + ": " + errno_text(err));
      }
      done += w;
    }
  }
  ::lseek(script.fd, 0, SEEK_SET);
  // As the kernel reads a #! line: the interpreter, then everything after it as one argument.
  if (head.rfind("#!", 0) == 0) {
    const std::string line = head.substr(
        2, head.find('\n') == std::string::npos ? std::string::npos : head.find('\n') - 2);
    const size_t start = line.find_first_not_of(" \t");
    if (start != std::string::npos) {
      const size_t end = line.find_first_of(" \t", start);
      script.interpreter =
          line.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (end != std::string::npos) {
        const size_t arg = line.find_first_not_of(" \t", end);
        const size_t last = line.find_last_not_of(" \t\r");
        if (arg != std::string::npos && last >= arg)
          script.interpreter_arg = line.substr(arg, last - arg + 1);
      }
    }
  }
  if (script.interpreter.empty()) script.interpreter = "/bin/sh";
  return script;
}

namespace {

// What the child reports when a step fails.
enum class Step : int {
  kCgroup = 1,
  kGroups,
  kGid,
  kUid,
  kWorkdir,
  kStdin,
  kStdout,
  kStdoutKind,
  kStderr,
  kStderrKind,
  kDescriptors,
  kExec
};
struct Failure {
  Step step;
  int err;
};

// The plan as the child reads it: plain pointers into the parent's prepared strings.
struct ChildArgs {
  const char* program;
  char* const* argv;
  char* const* envp;
  const char* workdir;
  const char* stdout_path;
  const char* stderr_path;  // nullptr: the same file as stdout
  bool append_output;
  int script_fd;
  int report_fd;
  const int* cgroup_fds;
  size_t cgroup_fd_count;
  bool switch_user;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  size_t group_count;
};

// Everything below runs in the child, which shares berthd's memory until it execs: only
// system calls, no allocation, no locks.
[[noreturn]] void child_fail(const ChildArgs& a, Step step, int err) {
  const Failure f{step, err};
  while (::write(a.report_fd, &f, sizeof f) < 0 && errno == EINTR) {
  }
  ::_exit(127);
}

// A descriptor for 0-2 must not already be one of them (berthd may run with them closed).
int off_stdio(int fd) { return fd >= 0 && fd < 3 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd; }

bool is_dev_null(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

// Opens an output as the job's user, never following a final symlink and never blocking.
// Always in append mode, truncated first unless `append`: the job's steps (`berth run` within
// it) append to the same file while the script writes, and neither overwrites the other.
// Returns the descriptor, -1 when open failed (errno set), -2 when it is not a regular file.
int open_output(const char* path, bool append) {
  const int fd = off_stdio(::open(path,
                                  O_WRONLY | O_CREAT | O_APPEND | (append ? 0 : O_TRUNC) |
                                      O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
                                  0600));
  if (fd < 0) return -1;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return -1;
  if (!S_ISREG(st.st_mode) && !is_dev_null(st)) return -2;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) return -1;
  return fd;
}

int child_main(void* arg) {
  const ChildArgs& a = *static_cast<const ChildArgs*>(arg);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for KILL, STOP
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setpgid(0, 0);
  // "0": the writer itself; from here on everything the job starts stays in its cgroup.
  for (size_t i = 0; i < a.cgroup_fd_count; ++i)
    if (::write(a.cgroup_fds[i], "0", 1) != 1) child_fail(a, Step::kCgroup, errno);
  if (a.switch_user) {
    if (::syscall(SYS_setgroups, a.group_count, a.groups) != 0) child_fail(a, Step::kGroups, errno);
    if (::syscall(SYS_setresgid, a.gid, a.gid, a.gid) != 0) child_fail(a, Step::kGid, errno);
    if (::syscall(SYS_setresuid, a.uid, a.uid, a.uid) != 0) child_fail(a, Step::kUid, errno);
  }
  if (::chdir(a.workdir) != 0) child_fail(a, Step::kWorkdir, errno);
  const int in = off_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (in < 0) child_fail(a, Step::kStdin, errno);
  const int out = open_output(a.stdout_path, a.append_output);
  if (out < 0) child_fail(a, out == -2 ? Step::kStdoutKind : Step::kStdout, errno);
  int err = out;
  if (a.stderr_path != nullptr) {
    err = open_output(a.stderr_path, a.append_output);
    if (err < 0) child_fail(a, err == -2 ? Step::kStderrKind : Step::kStderr, errno);
  }
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0 || ::dup2(a.script_fd, 3) < 0) {
    child_fail(a, Step::kDescriptors, errno);
  }
  // Nothing of berthd's beyond 0-3 reaches the job; the report pipe stays open until exec.
  if (::syscall(SYS_close_range, 4U, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    child_fail(a, Step::kDescriptors, errno);
  ::umask(022);
  ::execve(a.program, a.argv, a.envp);
  child_fail(a, Step::kExec, errno);
}

std::string describe(const ProcessPlan& plan, const Failure& f) {
  const std::string as = " as " + plan.who.name;
  const std::string why = errno_text(f.err);
  switch (f.step) {
    case Step::kCgroup:
      return "cannot move the job into its cgroup: " + why;
    case Step::kGroups:
    case Step::kGid:
    case Step::kUid:
      return "cannot switch to user " + plan.who.name + " (uid " + std::to_string(plan.who.uid) +
             "): " + why;
    case Step::kWorkdir:
      return "cannot enter workdir " + plan.workdir + as + ": " + why;
    case Step::kStdin:
      return "cannot open /dev/null" + as + ": " + why;
    case Step::kStdout:
    case Step::kStderr: {
      const std::string& path = f.step == Step::kStdout ? plan.stdout_path : plan.stderr_path;
      const char* what = f.step == Step::kStdout ? "output " : "error output (stderr) ";
      if (f.err == ELOOP)
        return "cannot open " + std::string(what) + path + as + ": it is a symbolic link";
      if (f.err == ENXIO)
        return "cannot open " + std::string(what) + path + as + ": it is not a regular file";
      // A script's "--output=logs/%j.out" with no logs/: neither berth nor Slurm makes the folder.
      if (f.err == ENOENT)
        return "cannot open " + std::string(what) + path + as + ": " + why + " (its directory " +
               path.substr(0, path.rfind('/') + 1) + " must exist before the job starts)";
      return "cannot open " + std::string(what) + path + as + ": " + why;
    }
    case Step::kStdoutKind:
      return "output " + plan.stdout_path + " is not a regular file";
    case Step::kStderrKind:
      return "error output (stderr) " + plan.stderr_path + " is not a regular file";
    case Step::kDescriptors:
      return "cannot set up the job's descriptors: " + why;
    case Step::kExec:
      return "cannot run " + plan.program + as + ": " + why;
  }
  return "the job's process failed to start: " + why;
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<int> spawn_job_process(const ProcessPlan& plan) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0)
    return Status::Internal("cannot start the job: pipe: " + errno_text(errno));
  report[0] = above_nine(report[0]);
  report[1] = above_nine(report[1]);
  if (report[0] < 0 || report[1] < 0) {
    const int err = errno;
    if (report[0] >= 0) ::close(report[0]);
    if (report[1] >= 0) ::close(report[1]);
    return Status::Internal("cannot start the job: " + errno_text(err));
  }
  const std::vector<char*> argv = c_strings(plan.argv);
  const std::vector<char*> envp = c_strings(plan.env);
  const ChildArgs args{plan.program.c_str(),
                       argv.data(),
                       envp.data(),
                       plan.workdir.c_str(),
                       plan.stdout_path.c_str(),
                       plan.stderr_path == plan.stdout_path ? nullptr : plan.stderr_path.c_str(),
                       plan.append_output,
                       plan.script_fd,
                       report[1],
                       plan.cgroup_fds.data(),
                       plan.cgroup_fds.size(),
                       plan.who.switch_user,
                       plan.who.uid,
                       plan.who.gid,
                       plan.who.groups.data(),
                       plan.who.groups.size()};
  constexpr size_t kStackBytes = 64 * 1024;
  std::unique_ptr<char[]> stack(new char[kStackBytes]);
  // No signal handler of berthd may run in the child while it shares berthd's memory.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::clone(child_main, stack.get() + kStackBytes, CLONE_VM | CLONE_VFORK | SIGCHLD,
                            const_cast<ChildArgs*>(&args));
  const int clone_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return Status::Internal("cannot start the job: clone: " + errno_text(clone_err));
  }
  // CLONE_VFORK: the child has exec'd (closing its end of the pipe) or exited by now.
  Failure failure{};
  ssize_t n;
  do {
    n = ::read(report[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return Status::Invalid(describe(plan, failure));
  }
  return static_cast<int>(pid);
}

}  // namespace berth::executor
