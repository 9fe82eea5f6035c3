#include "server/local_agents.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "server/log.h"

namespace berth::server {

namespace fs = std::filesystem;

namespace {

// Whether some process holds the agent's lock in `dir` (its agent runs).
bool agent_running(const std::string& dir) {
  const int fd = ::open((dir + "/agent.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases it when it was ours
  return held;
}

// Forks twice so that the agent is nobody's child but init's, in a session of its own, with
// its output appended to agent.log; returns once the intermediate child has exited.
Status spawn_detached(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) return Status::Internal("cannot open " + log_path + ": " + std::strerror(errno));
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(log);
    return Status::Internal(std::string("cannot start a local agent: ") + std::strerror(errno));
  }
  if (child == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    const int in = ::open("/dev/null", O_RDONLY);
    if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0) ::_exit(127);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // berthd blocks its stop signals
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return Status::Ok();
}

std::string agent_binary() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / "berth-agent").string();
}

}  // namespace

std::string local_agents_socket(const std::string& state_dir) { return state_dir + "/agents.sock"; }

std::string local_agent_dir(const std::string& state_dir, const std::string& node) {
  return state_dir + "/agents/" + node;
}

Status start_local_agents(const core::ClusterConfig& cluster, const std::string& state_dir) {
  const std::string binary = agent_binary();
  if (::access(binary.c_str(), X_OK) != 0)
    return Status::Invalid("[agents] local = true, but there is no berth-agent beside berthd (" +
                           binary + "): build it, or set local = false");
  for (const core::Node& n : cluster.nodes) {
    const std::string dir = local_agent_dir(state_dir, n.name);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::Internal("cannot make " + dir + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
    if (agent_running(dir)) {
      log_info("node " + n.name + ": its local agent is running");
      continue;
    }
    BERTH_RETURN_IF_ERROR(spawn_detached(
        {binary, "--node", n.name, "--server", "unix:" + local_agents_socket(state_dir),
         "--state-dir", dir, "--address", "127.0.0.1", "--gpus", std::to_string(n.gpus),
         "--gpu-model", n.gpu_model, "--cpus", std::to_string(n.cpus), "--memory-mb",
         std::to_string(n.memory_mb)},
        dir + "/agent.log"));
    log_info("node " + n.name + ": started its local agent (log in " + dir + "/agent.log)");
  }
  return Status::Ok();
}

}  // namespace berth::server
