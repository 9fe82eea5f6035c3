// What the two implementations share: the parsers of the kernel's text, and choosing one.
#include "executor/cgroup.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "executor/cgroup_files.h"
#include "executor/device_filter.h"

namespace berth::executor {

int64_t parse_oom_kills(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key;
    int64_t n = 0;
    if (words >> key >> n && key == "oom_kill") return n;
  }
  return -1;
}

std::vector<int> parse_char_majors(const std::string& text) {
  std::istringstream in(text);
  std::vector<int> majors;
  bool in_char = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Character devices:", 0) == 0) {
      in_char = true;
      continue;
    }
    if (line.rfind("Block devices:", 0) == 0) break;
    std::istringstream words(line);
    int major = 0;
    if (in_char && words >> major && (majors.empty() || majors.back() != major))
      majors.push_back(major);
  }
  return majors;
}

std::string own_cgroup_path(const std::string& text, const std::string& controller) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    std::istringstream names(line.substr(first + 1, second - first - 1));
    for (std::string name; std::getline(names, name, ',');)
      if (name == controller) return line.substr(second + 1);
  }
  return "";
}

std::string job_cgroup_name(uint64_t job, uint32_t attempt, uint32_t step) {
  return std::to_string(job) + "_" + std::to_string(attempt) +
         (step > 0 ? "_step" + std::to_string(step) : "");
}

namespace {

bool has_controllers(const std::string& list, std::initializer_list<const char*> wanted) {
  std::istringstream in(list);
  std::vector<std::string> have;
  for (std::string w; in >> w;) have.push_back(w);
  for (const char* w : wanted)
    if (std::find(have.begin(), have.end(), w) == have.end()) return false;
  return true;
}

}  // namespace

Result<std::unique_ptr<Cgroups>> detect_cgroups(const std::string& base) {
  if (::geteuid() != 0) return Status(Code::kUnavailable, "not root");
  CgroupSettings s;
  s.base = base;
  if (has_controllers(cgroup_files::read(s.root + "/cgroup.controllers"), {"memory", "cpu"})) {
    s.filter_devices = device_filter_supported().ok();
    return make_cgroup_v2(s);
  }
  for (const char* c : {"memory", "cpu", "devices", "freezer"}) {
    if (::access((s.root + "/" + c + "/cgroup.procs").c_str(), W_OK) != 0)
      return Status(Code::kUnavailable, std::string("no cgroup v2 with memory and cpu, nor v1 ") +
                                            c + " controller at " + s.root);
  }
  s.own_cgroups = "/proc/self/cgroup";
  return make_cgroup_v1(s);
}

}  // namespace berth::executor
