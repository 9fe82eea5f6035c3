// The file is text, one fact a line, so that an operator can read it:
//   berth-fence 1
//   agent <pid> <start_ticks>
//   cgroups <base, or "-">
//   lease_until_ms <ms>
//   launch <job> <attempt> <rank> <step> <leader pid> <leader start_ticks> <grace_ms>
#include "agent/fence_file.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/files.h"
#include "executor/proc_stat.h"

namespace berth::agent {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMagic = "berth-fence 1";

std::string mark_name(const LaunchKey& k) {
  return std::to_string(k.job) + "_" + std::to_string(k.attempt) + "_" + std::to_string(k.rank) +
         "_" + std::to_string(k.step);
}

std::string marks_dir(const std::string& state_dir) { return state_dir + "/fenced"; }

Status bad_line(const std::string& line) {
  return Status::Invalid("the fence file has a line berth-agent does not understand: " + line);
}

}  // namespace

std::string format_fence_file(const FenceFile& f) {
  std::ostringstream out;
  out << kMagic << "\n";
  out << "agent " << f.agent.pid << " " << f.agent.start_ticks << "\n";
  out << "cgroups " << (f.cgroup_base.empty() ? "-" : f.cgroup_base) << "\n";
  out << "lease_until_ms " << f.lease_until_ms << "\n";
  for (const FenceTarget& t : f.launches)
    out << "launch " << t.key.job << " " << t.key.attempt << " " << t.key.rank << " " << t.key.step
        << " " << t.leader.pid << " " << t.leader.start_ticks << " " << t.grace_ms << "\n";
  return out.str();
}

Result<FenceFile> parse_fence_file(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kMagic) return bad_line(line);
  FenceFile f;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string what;
    words >> what;
    bool ok = true;
    if (what == "agent") {
      ok = static_cast<bool>(words >> f.agent.pid >> f.agent.start_ticks);
    } else if (what == "cgroups") {
      ok = static_cast<bool>(words >> f.cgroup_base);
      if (f.cgroup_base == "-") f.cgroup_base.clear();
    } else if (what == "lease_until_ms") {
      ok = static_cast<bool>(words >> f.lease_until_ms);
    } else if (what == "launch") {
      FenceTarget t;
      ok = static_cast<bool>(words >> t.key.job >> t.key.attempt >> t.key.rank >> t.key.step >>
                             t.leader.pid >> t.leader.start_ticks >> t.grace_ms);
      f.launches.push_back(t);
    } else {
      ok = false;
    }
    std::string extra;
    if (!ok || words >> extra) return bad_line(line);
  }
  return f;
}

std::string fence_file_path(const std::string& state_dir) { return state_dir + "/fence"; }

Status write_fence_file(const std::string& state_dir, const FenceFile& file) {
  const std::string path = fence_file_path(state_dir);
  const std::string tmp = path + ".tmp";
  const std::string text = format_fence_file(file);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Internal("cannot write " + tmp + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::Internal("cannot write " + path + ": " + std::strerror(written ? errno : err));
  return Status::Ok();
}

Result<FenceFile> read_fence_file(const std::string& state_dir) {
  BERTH_ASSIGN_OR_RETURN(const std::string text, read_whole_file(fence_file_path(state_dir)));
  return parse_fence_file(text);
}

void leave_fence_mark(const std::string& state_dir, const LaunchKey& key) {
  std::error_code ec;
  fs::create_directories(marks_dir(state_dir), ec);
  const std::string path = marks_dir(state_dir) + "/" + mark_name(key);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) spdlog::error("cannot leave the fence mark {}: {}", path, std::strerror(errno));
  if (fd >= 0) ::close(fd);
}

bool take_fence_mark(const std::string& state_dir, const LaunchKey& key) {
  return ::unlink((marks_dir(state_dir) + "/" + mark_name(key)).c_str()) == 0;
}

void clear_fence_marks(const std::string& state_dir) {
  std::error_code ec;
  fs::remove_all(marks_dir(state_dir), ec);
}

uint64_t process_start_ticks(int pid) {
  if (pid <= 0) return 0;
  const std::optional<executor::ProcStat> st = executor::read_proc_stat(pid);
  return st ? st->start_ticks : 0;
}

FenceRecorder::FenceRecorder(std::string state_dir, ProcessId agent, std::string cgroup_base)
    : state_dir_(std::move(state_dir)) {
  file_.agent = agent;
  file_.cgroup_base = std::move(cgroup_base);
}

Status FenceRecorder::start() {
  std::lock_guard<std::mutex> lock(mu_);
  return write_locked();
}

void FenceRecorder::lease_renewed(int64_t until_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  file_.lease_until_ms = until_ms;
  (void)write_locked();
}

void FenceRecorder::launches_changed(const std::vector<Running>& running) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<LaunchKey, ProcessId> known;
  for (const FenceTarget& t : file_.launches) known[t.key] = t.leader;
  file_.launches.clear();
  for (const Running& r : running) {
    auto it = known.find(r.key);
    const ProcessId leader =
        it != known.end() ? it->second : ProcessId{r.pgid, process_start_ticks(r.pgid)};
    file_.launches.push_back({r.key, leader, r.grace_ms});
  }
  (void)write_locked();
}

Status FenceRecorder::write_locked() {
  const Status st = write_fence_file(state_dir_, file_);
  if (!st.ok()) spdlog::error("the watchdog's file: {}", st.message());
  return st;
}

}  // namespace berth::agent
