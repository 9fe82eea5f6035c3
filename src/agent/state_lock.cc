#include "agent/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace berth::agent {

Status lock_state_dir(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec)
    return Status::Invalid("cannot make the state directory " + state_dir + ": " + ec.message());
  const std::string path = state_dir + "/agent.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Invalid("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return Status::Conflict("another berth-agent uses the state directory " + state_dir);
    return Status::Invalid("cannot lock " + path + ": " + std::strerror(err));
  }
  return Status::Ok();  // fd stays open, and the lock held, until the process ends
}

}  // namespace berth::agent
