#include "server/local_agents.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/spawn.h"
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

std::string agent_binary() {
  return (fs::path(this_program()).parent_path() / "berth-agent").string();
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
