#include "common/step_wire.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace berth {

using json = nlohmann::json;

std::string encode_step_call(const StepCall& call) {
  return json{{"job", call.job}, {"argv", call.argv}, {"workdir", call.workdir}}.dump() + "\n";
}

Result<StepCall> decode_step_call(const std::string& line) {
  const json j = json::parse(line, nullptr, false);
  if (!j.is_object()) return Status::Invalid("the step request is not a JSON object");
  StepCall call;
  auto job = j.find("job");
  auto argv = j.find("argv");
  auto workdir = j.find("workdir");
  if (job == j.end() || !job->is_number_unsigned())
    return Status::Invalid("the step request's 'job' is not a job id");
  call.job = job->get<uint64_t>();
  if (argv == j.end() || !argv->is_array() || argv->empty())
    return Status::Invalid("the step request's 'argv' is not a list of words");
  for (const json& a : *argv) {
    if (!a.is_string()) return Status::Invalid("the step request's 'argv' holds a non-string");
    call.argv.push_back(a.get<std::string>());
  }
  if (workdir != j.end() && !workdir->is_string())
    return Status::Invalid("the step request's 'workdir' is not a string");
  if (workdir != j.end()) call.workdir = workdir->get<std::string>();
  return call;
}

std::string encode_step_result(const StepResult& r) {
  json j{{"step", r.step}, {"exit_code", r.exit_code}, {"signal", r.signal}, {"ranks", r.ranks}};
  if (!r.error.empty()) j["error"] = r.error;
  return j.dump() + "\n";
}

Result<StepResult> decode_step_result(const std::string& line) {
  const json j = json::parse(line, nullptr, false);
  if (!j.is_object()) return Status::Invalid("the agent's answer is not a JSON object");
  StepResult r;
  try {
    r.step = j.value("step", 0u);
    r.exit_code = j.value("exit_code", 0);
    r.signal = j.value("signal", 0);
    r.ranks = j.value("ranks", 0u);
    r.error = j.value("error", std::string());
  } catch (const json::exception& e) {
    return Status::Invalid(std::string("the agent's answer cannot be read: ") + e.what());
  }
  return r;
}

namespace {

Result<sockaddr_un> abstract_address(const std::string& address, socklen_t* len) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (address.size() < 2 || address[0] != '@' || address.size() > sizeof(a.sun_path))
    return Status::Invalid("'" + address + "' is not a step socket address (@name)");
  // sun_path[0] = '\0' marks the abstract namespace; the name follows, unterminated.
  std::memcpy(a.sun_path + 1, address.data() + 1, address.size() - 1);
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
  return a;
}

Status errno_status(const std::string& what) {
  return Status(Code::kUnavailable, what + ": " + std::strerror(errno));
}

}  // namespace

Result<int> listen_step_socket(const std::string& address) {
  socklen_t len = 0;
  BERTH_ASSIGN_OR_RETURN(sockaddr_un a, abstract_address(address, &len));
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_status("cannot make the step socket");
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 64) != 0) {
    const Status st = errno_status("cannot listen on " + address);
    ::close(fd);
    return st;
  }
  return fd;
}

Result<int> connect_step_socket(const std::string& address) {
  socklen_t len = 0;
  BERTH_ASSIGN_OR_RETURN(sockaddr_un a, abstract_address(address, &len));
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_status("cannot make a socket");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
    const Status st = errno_status("cannot reach the node's berth-agent at " + address);
    ::close(fd);
    return st;
  }
  return fd;
}

Result<std::string> read_step_line(int fd) {
  std::string line;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("reading the step socket");
    if (n == 0) return Status(Code::kUnavailable, "the other side closed the step socket");
    line.append(buf, static_cast<size_t>(n));
    if (const size_t nl = line.find('\n'); nl != std::string::npos) return line.substr(0, nl);
    if (line.size() > kMaxStepLineBytes)
      return Status::Invalid("a step message is longer than " + std::to_string(kMaxStepLineBytes) +
                             " bytes");
  }
}

Status write_step_line(int fd, const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::send(fd, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("writing the step socket");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace berth
