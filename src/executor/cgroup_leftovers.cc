#include "executor/cgroup_leftovers.h"

#include <algorithm>

#include "executor/cgroup_files.h"

namespace berth::executor {
namespace {

constexpr const char* kAgentsFolder = "berth/";

std::string agent_prefix(const std::string& node) { return "agent-" + node + "-"; }

// The pid at the end of `name` after `prefix`, or 0 when the rest is not a number.
int pid_after(const std::string& name, const std::string& prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  const std::string rest = name.substr(prefix.size());
  if (rest.size() > 9 || rest.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoi(rest);
}

}  // namespace

std::string agent_cgroup_base(const std::string& node, int pid) {
  return kAgentsFolder + agent_prefix(node) + std::to_string(pid);
}

std::vector<std::string> find_leftover_agent_bases(const std::string& parent_dir,
                                                   const std::string& node, int own_pid,
                                                   const std::function<bool(int)>& still_running) {
  std::vector<std::string> found;
  for (const std::string& name : cgroup_files::subfolders(parent_dir)) {
    const int pid = pid_after(name, agent_prefix(node));
    if (pid > 0 && pid != own_pid && !still_running(pid)) found.push_back(name);
  }
  std::sort(found.begin(), found.end());
  return found;
}

int empty_cgroups(Cgroups& cgroups) {
  int emptied = 0;
  for (const std::string& name : cgroups.names()) {
    std::unique_ptr<JobCgroup> box = cgroups.open(name);
    if (!box) continue;
    box->sweep();
    (void)box->remove();  // a process stuck in the kernel leaves a folder, retried next start
    ++emptied;
  }
  cgroups.remove_base();
  return emptied;
}

}  // namespace berth::executor
