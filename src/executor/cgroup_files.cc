#include "executor/cgroup_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>

namespace berth::executor::cgroup_files {

Status write(const std::string& dir, const std::string& file, const std::string& text) {
  const std::string path = dir + "/" + file;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  ssize_t n = -1;
  if (fd >= 0) {
    do {
      n = ::write(fd, text.data(), text.size());
    } while (n < 0 && errno == EINTR);
  }
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    return Status::Internal("cannot write " + file + " in " + dir + ": " + std::strerror(err));
  return Status::Ok();
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Status make_dirs(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string part = path.substr(0, slash);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
      return Status::Internal("cannot make " + part + ": " + std::strerror(errno));
    if (slash == std::string::npos) return Status::Ok();
  }
}

Status remove_dir(const std::string& path) {
  constexpr int kTries = 100;  // 10 ms apart: a killed process takes a moment to exit
  for (int i = 0;; ++i) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return Status::Ok();
    if (errno != EBUSY || i + 1 == kTries)
      return Status::Internal("cannot remove " + path + ": " + std::strerror(errno));
    pause_ms(10);
  }
}

std::vector<std::string> subfolders(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != ".." && is_dir(dir + "/" + name)) out.push_back(name);
  }
  ::closedir(d);
  return out;
}

bool is_dir(const std::string& dir) {
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

int kill_listed(const std::string& procs_path) {
  std::istringstream in(read(procs_path));
  int listed = 0;
  for (long pid = 0; in >> pid;) {
    if (pid <= 1) continue;  // never "everyone" nor init, whatever the file says
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    ++listed;
  }
  return listed;
}

void pause_ms(int ms) {
  timespec t{ms / 1000, (ms % 1000) * 1'000'000L};
  while (::nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

}  // namespace berth::executor::cgroup_files
