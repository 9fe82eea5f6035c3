// Starting one job's process: who it runs as, what it sees, and the child's few steps between
// fork and exec.
//
// Everything is decided and every string prepared in the parent (resolve_identity,
// build_job_env, load_script); spawn_job_process then forks (clone with CLONE_VM|CLONE_VFORK,
// as posix_spawn does) and the child makes only async-signal-safe calls, in this order:
//   signals back to default and unblocked; a new process group; "0" written to each of its
//   cgroup's procs files (joining it while still privileged); setgroups/setresgid/setresuid
//   (raw system calls: glibc's would broadcast to berthd's threads); chdir(workdir); stdin from
//   /dev/null; stdout/stderr opened O_WRONLY|O_CREAT|O_TRUNC|O_NOFOLLOW|O_NONBLOCK, mode 0600,
//   then fstat: a regular file (or /dev/null) only, O_NONBLOCK cleared; the script's memfd on
//   fd 3; every other descriptor closed on exec; execve with the clean environment.
// So the file system is touched only as the job's user, and nothing can block: a FIFO fails
// to open (ENXIO) or is refused after fstat. A failing step sends (step, errno) to the parent
// over a close-on-exec pipe, and the parent turns it into the job's reason, e.g.
// "cannot open output /etc/x as nobody: Permission denied".
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth::executor {

// The Unix user a job runs as.
struct Identity {
  bool switch_user = false;  // false: it runs as this process's own user
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (when switching)
  std::string name;
  std::string home = "/";
  std::string shell = "/bin/sh";
};

// `user` empty: this process's own user. Otherwise that user, which needs root unless it is
// our own. A job is never run as uid 0 unless `allow_root`.
Result<Identity> resolve_identity(const std::string& user, bool allow_root);

// The job's whole environment: HOME, USER, LOGNAME, SHELL and PATH of `who`, then `env` (which
// may replace them), then CUDA_VISIBLE_DEVICES and BERTH_JOB_ID, which nothing replaces.
// Nothing of this process's own environment. Errors: a malformed name or a NUL in a value.
Result<std::vector<std::string>> build_job_env(const std::map<std::string, std::string>& env,
                                               const Identity& who, const std::vector<int>& gpus,
                                               uint64_t job_id);

// A job's script, copied into an anonymous memory file so that a job running as another user
// can read it without the state directory being readable (see README.md). `interpreter` and
// `interpreter_arg` come from its #! line; a script without one runs under /bin/sh.
struct Script {
  int fd = -1;  // the memfd, close-on-exec, above 9; owned by the caller
  std::string interpreter;
  std::string interpreter_arg;  // empty: none
};
Result<Script> load_script(const std::string& path);

struct ProcessPlan {
  Identity who;
  std::string program;  // absolute path given to execve
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value
  std::string workdir;
  std::string stdout_path;
  std::string stderr_path;     // equal to stdout_path: one file for both
  bool append_output = false;  // O_APPEND rather than O_TRUNC
  int script_fd = -1;          // becomes fd 3 in the child
  // The job's cgroup's procs files, open for writing (close-on-exec, owned by the caller): the
  // child joins the cgroup by writing "0" (itself) to each. Empty: no cgroup.
  std::vector<int> cgroup_fds;
};

// The path at which the job reads its script (fd 3).
inline constexpr const char* kScriptFdPath = "/dev/fd/3";

// Starts the plan as the leader of a new process group. Returns its pid, or — with nothing left
// running — kInvalidArgument whose message is the reason the job could not start, or kInternal
// when the fork itself failed.
Result<int> spawn_job_process(const ProcessPlan& plan);

}  // namespace berth::executor
