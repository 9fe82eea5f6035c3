#include "agent/step_server.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace berth::agent {

namespace pb = ::berth::agent::v1;

namespace {

// How long a caller has to send its request once connected.
constexpr int kRequestTimeoutS = 5;

}  // namespace

Result<std::unique_ptr<StepServer>> StepServer::Open(const std::string& address,
                                                     const JobRunner& runner, Send send) {
  BERTH_ASSIGN_OR_RETURN(int fd, listen_step_socket(address));
  return std::unique_ptr<StepServer>(new StepServer(address, fd, runner, std::move(send)));
}

StepServer::StepServer(std::string address, int listen_fd, const JobRunner& runner, Send send)
    : address_(std::move(address)),
      listen_fd_(listen_fd),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      runner_(runner),
      send_(std::move(send)) {
  thread_ = std::thread([this] { serve(); });
}

StepServer::~StepServer() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  fail_all("berth-agent is stopping");
  ::close(listen_fd_);
  ::close(wake_fd_);
}

void StepServer::serve() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR
    if (fds[1].revents != 0) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) take(fd);
  }
}

void StepServer::take(int fd) {
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) {
    ::close(fd);
    return;
  }
  timeval timeout{kRequestTimeoutS, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  StepResult refused;
  Result<std::string> line = read_step_line(fd);
  if (!line.ok()) {
    refused.error = line.status().message();
    return reply(fd, refused);
  }
  Result<StepCall> call = decode_step_call(*line);
  if (!call.ok()) {
    refused.error = call.status().message();
    return reply(fd, refused);
  }
  Result<pb::LaunchId> launch = runner_.step_caller(call->job, peer.pid, peer.uid);
  if (!launch.ok()) {
    spdlog::warn("step refused to pid {} (uid {}): {}", peer.pid, peer.uid,
                 launch.status().message());
    refused.error = launch.status().message();
    return reply(fd, refused);
  }
  pb::FromAgent m;
  pb::StepRequest* r = m.mutable_step_request();
  *r->mutable_id() = *launch;
  for (const std::string& a : call->argv) r->add_argv(a);
  r->set_workdir(call->workdir);
  std::lock_guard<std::mutex> lock(mu_);
  r->set_request(++last_request_);
  if (!send_(m)) {
    refused.error = "berthd is not reachable from this node now";
    return reply(fd, refused);
  }
  pending_[r->request()] = fd;
}

void StepServer::answer(const pb::StepDone& done) {
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(done.request());
    if (it == pending_.end()) return;
    fd = it->second;
    pending_.erase(it);
  }
  StepResult r;
  r.step = done.step();
  r.exit_code = done.exit_code();
  r.signal = done.signal();
  r.ranks = done.ranks();
  if (done.launch_failed())
    r.error = done.reason().empty() ? "the step could not start" : done.reason();
  reply(fd, r);
}

void StepServer::fail_all(const std::string& why) {
  std::map<uint64_t, int> failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    failed.swap(pending_);
  }
  StepResult r;
  r.error = why;
  for (const auto& [request, fd] : failed) reply(fd, r);
}

void StepServer::reply(int fd, const StepResult& result) {
  (void)write_step_line(fd, encode_step_result(result));  // a caller that left cannot be told
  ::close(fd);
}

}  // namespace berth::agent
