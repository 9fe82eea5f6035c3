#include "server/frontend.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace berth::server {

namespace {

using Phase = RequestReader::Phase;
constexpr int64_t kSweepEveryMs = 100;  // how often deadlines are checked: their resolution
constexpr size_t kReadChunk = 16 * 1024;
constexpr int kReadsPerWakeup = 4;  // then other connections get their turn
// After a refusal, what the client still sends is read and dropped for a while, so that it sees
// the error instead of a reset while it is still writing (a 413's body, say).
constexpr int64_t kLingerMs = 2000;
constexpr size_t kLingerBytes = 64 << 20;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::pair<std::string, int> address_of(const sockaddr_storage& a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return {text, ntohs(in->sin_port)};
  }
  if (a.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return {text, ntohs(in6->sin6_port)};
  }
  return {"", 0};
}

// Sends all of `data` on a non-blocking socket, waiting for room until `deadline_ms`.
bool send_all(int fd, std::string_view data, int64_t deadline_ms) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    const int64_t left = deadline_ms - steady_ms();
    if (left <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000))) < 0 && errno != EINTR)
      return false;
  }
  return true;
}

// Slow clients are held as file descriptors, so berthd may need more than the usual 1024.
void raise_fd_limit(rlim_t wanted) {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= wanted) return;
  r.rlim_cur = r.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, r.rlim_max);
  (void)setrlimit(RLIMIT_NOFILE, &r);
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Error";
  }
}

}  // namespace

// ---- RequestReader ----

RequestReader::Phase RequestReader::refuse(int status, std::string message) {
  refusal_status_ = status;
  refusal_message_ = std::move(message);
  return phase_ = Phase::kRefused;
}

RequestReader::Phase RequestReader::add(std::string_view bytes) {
  if (phase_ == Phase::kRefused) return phase_;
  buf_.append(bytes);
  if (phase_ == Phase::kReady) return phase_;  // the rest waits until the ready request is taken
  return phase_ = scan();
}

std::string RequestReader::take() {
  if (phase_ != Phase::kReady) return {};
  const size_t n = header_end_ + body_bytes_;
  std::string request = buf_.substr(0, n);
  buf_.erase(0, n);
  header_end_ = 0;
  body_bytes_ = 0;
  phase_ = scan();
  return request;
}

RequestReader::Phase RequestReader::scan() {
  if (header_end_ == 0) {
    // A blank line between requests is allowed (RFC 9112 2.2): skip it.
    size_t skip = 0;
    while (skip < buf_.size() && (buf_[skip] == '\r' || buf_[skip] == '\n')) ++skip;
    buf_.erase(0, skip);
    if (buf_.empty()) return Phase::kIdle;
    const size_t end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (buf_.size() > max_header_bytes_)
        return refuse(431, "the request line and headers are larger than " +
                               std::to_string(max_header_bytes_) + " bytes");
      return Phase::kHeaders;
    }
    if (end + 4 > max_header_bytes_)
      return refuse(431, "the request line and headers are larger than " +
                             std::to_string(max_header_bytes_) + " bytes");
    if (Status st = read_headers(std::string_view(buf_).substr(0, end)); !st.ok()) return phase_;
    header_end_ = end + 4;
  }
  return buf_.size() >= header_end_ + body_bytes_ ? Phase::kReady : Phase::kBody;
}

// Finds how long the body is; everything else about the headers is httplib's to parse.
Status RequestReader::read_headers(std::string_view head) {
  const size_t first_eol = head.find("\r\n");
  std::string_view rest =
      first_eol == std::string_view::npos ? std::string_view() : head.substr(first_eol + 2);
  bool have_length = false;
  while (!rest.empty()) {
    const size_t eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' ||
        line.front() == '\t') {
      refuse(400, "malformed header line");
      return Status::Invalid("");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "transfer-encoding")) {
      refuse(411, "request bodies must be sent with a Content-Length, not chunked");
      return Status::Invalid("");
    }
    if (!iequals(name, "content-length")) continue;
    if (value.empty() || value.size() > 18 ||
        value.find_first_not_of("0123456789") != std::string_view::npos) {
      refuse(400, "Content-Length is not a number");
      return Status::Invalid("");
    }
    const size_t length = std::stoull(std::string(value));
    if (have_length && length != body_bytes_) {
      refuse(400, "conflicting Content-Length headers");
      return Status::Invalid("");
    }
    if (length > max_body_bytes_) {
      refuse(413, "request body is larger than " + std::to_string(max_body_bytes_) + " bytes");
      return Status::Invalid("");
    }
    body_bytes_ = length;
    have_length = true;
  }
  return Status::Ok();
}

// ---- Frontend ----

struct Frontend::Conn {
  Conn(int fd_, std::string ip, int port, const HttpLimits& l)
      : fd(fd_),
        peer_ip(std::move(ip)),
        peer_port(port),
        reader(l.max_header_bytes, l.max_body_bytes) {}
  int fd;
  std::string peer_ip;
  int peer_port;
  std::string local_ip;
  int local_port = 0;
  RequestReader reader;
  int64_t deadline_ms = 0;
  int served = 0;
  bool fresh = true;      // no request answered yet: its header deadline runs from the accept
  bool busy = false;      // a worker holds its request; it is not watched meanwhile
  bool draining = false;  // refused: reading and dropping what comes until the client closes
  size_t drained = 0;
};

struct Frontend::Job {
  int fd;
  std::string request;
  std::string peer_ip, local_ip;
  int peer_port, local_port;
  bool close;
};

namespace {

// One whole request, read from memory; the reply is collected and sent once it is complete.
class BufferedStream final : public httplib::Stream {
 public:
  BufferedStream(int fd, const std::string& in, const std::string& peer_ip, int peer_port,
                 const std::string& local_ip, int local_port)
      : fd_(fd),
        in_(in),
        peer_ip_(peer_ip),
        local_ip_(local_ip),
        peer_port_(peer_port),
        local_port_(local_port) {}

  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - pos_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = peer_ip_;
    port = peer_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_ip_;
    port = local_port_;
  }
  // httplib answers 500 to a socket numbered FD_SETSIZE or more (it would select() on it); this
  // stream never select()s, so a high descriptor is reported as 0.
  socket_t socket() const override { return fd_ < FD_SETSIZE ? fd_ : 0; }
  const std::string& reply() const { return out_; }

 private:
  int fd_;
  const std::string& in_;
  const std::string& peer_ip_;
  const std::string& local_ip_;
  int peer_port_, local_port_;
  size_t pos_ = 0;
  std::string out_;
};

}  // namespace

Frontend::Frontend(Router& router, HttpLimits limits)
    : router_(router), limits_(std::move(limits)) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  router_.set_keep_alive_max_count(static_cast<size_t>(limits_.max_requests_per_connection));
  router_.set_keep_alive_timeout(std::max<time_t>(1, limits_.idle_timeout_ms / 1000));
}

Frontend::~Frontend() {
  for (auto& [fd, c] : conns_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Result<int> Frontend::bind(const std::string& host, int port) {
  if (epoll_fd_ < 0 || wake_fd_ < 0)
    return Status::Internal(std::string("cannot create an epoll set: ") + strerror(errno));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found) != 0 ||
      !found)
    return Status(Code::kUnavailable, "cannot resolve " + host);
  for (addrinfo* a = found; a && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0)
      listen_fd_ = fd;
    else
      ::close(fd);
  }
  freeaddrinfo(found);
  if (listen_fd_ < 0) return Status(Code::kUnavailable, "cannot listen on " + host + ":" + service);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  watch(listen_fd_, true);
  raise_fd_limit(static_cast<rlim_t>(limits_.max_connections) + 256);
  return address_of(bound).second;
}

void Frontend::stop() {
  stopping_ = true;
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

void Frontend::watch(int fd, bool on) {
  if (!on) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

void Frontend::run() {
  for (int i = 0; i < std::max(1, limits_.workers); ++i)
    workers_.emplace_back([this] { worker_loop(); });
  std::vector<epoll_event> events(512);
  int64_t last_sweep = steady_ms();
  while (!stopping_) {
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                             static_cast<int>(kSweepEveryMs));
    const int64_t now = steady_ms();
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        accept_all(now);
      } else if (fd == wake_fd_) {
        uint64_t count = 0;
        (void)!::read(wake_fd_, &count, sizeof count);
      } else if (auto it = conns_.find(fd); it != conns_.end() && !it->second->busy) {
        on_readable(*it->second, now);
      }
    }
    std::vector<Done> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done.swap(done_);
    }
    for (const Done& d : done) finish(d, now);
    if (now - last_sweep >= kSweepEveryMs) {
      sweep(now);
      last_sweep = now;
    }
  }
  // Workers finish the requests they hold (the core answers them, or says it is stopping).
  ::close(listen_fd_);
  listen_fd_ = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers_quit_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  for (auto& [fd, c] : conns_) ::close(fd);
  conns_.clear();
  per_client_.clear();
}

void Frontend::accept_all(int64_t now_ms) {
  while (true) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd =
        accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop accepting until the next sweep rather than spin on the backlog.
        watch(listen_fd_, false);
        listen_paused_ = true;
      }
      return;
    }
    auto [ip, port] = address_of(addr);
    auto slot = per_client_.try_emplace(ip, 0).first;
    if (static_cast<int>(conns_.size()) >= limits_.max_connections ||
        slot->second >= limits_.max_connections_per_client) {
      ::close(fd);
      if (slot->second == 0) per_client_.erase(slot);
      continue;
    }
    ++slot->second;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
               sizeof one);  // replies are small: no waiting for ACKs
    auto c = std::make_unique<Conn>(fd, ip, port, limits_);
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0)
      std::tie(c->local_ip, c->local_port) = address_of(local);
    c->deadline_ms = now_ms + limits_.header_timeout_ms;
    watch(fd, true);
    conns_.emplace(fd, std::move(c));
  }
}

void Frontend::on_readable(Conn& c, int64_t now_ms) {
  if (c.draining) return drain(c);
  const Phase before = c.reader.phase();
  char buf[kReadChunk];
  for (int round = 0; round < kReadsPerWakeup; ++round) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      const Phase p = c.reader.add(std::string_view(buf, static_cast<size_t>(n)));
      if (p == Phase::kReady || p == Phase::kRefused || static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    close_conn(c.fd);  // the client closed, or the connection failed
    return;
  }
  after_input(c, before, now_ms);
}

void Frontend::after_input(Conn& c, Phase before, int64_t now_ms) {
  switch (c.reader.phase()) {
    case Phase::kRefused:
      refuse(c, c.reader.refusal_status(),
             c.reader.refusal_status() == 413   ? "payload_too_large"
             : c.reader.refusal_status() == 411 ? "length_required"
             : c.reader.refusal_status() == 431 ? "header_too_large"
                                                : "invalid_argument",
             c.reader.refusal_message(), now_ms);
      return;
    case Phase::kReady:
      dispatch(c);
      return;
    case Phase::kHeaders:
      if (before == Phase::kIdle && !c.fresh) c.deadline_ms = now_ms + limits_.header_timeout_ms;
      return;
    case Phase::kBody:
      if (before != Phase::kBody) c.deadline_ms = now_ms + limits_.body_timeout_ms;
      return;
    case Phase::kIdle:
      return;
  }
}

void Frontend::dispatch(Conn& c) {
  c.busy = true;
  watch(c.fd, false);
  auto job = std::make_unique<Job>();
  job->fd = c.fd;
  job->request = c.reader.take();
  job->peer_ip = c.peer_ip;
  job->peer_port = c.peer_port;
  job->local_ip = c.local_ip;
  job->local_port = c.local_port;
  job->close = stopping_ || c.served + 1 >= limits_.max_requests_per_connection;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  work_ready_.notify_one();
}

void Frontend::finish(const Done& d, int64_t now_ms) {
  auto it = conns_.find(d.fd);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  c.busy = false;
  c.fresh = false;
  ++c.served;
  if (!d.keep_alive) {
    close_conn(d.fd);
    return;
  }
  watch(c.fd, true);
  c.deadline_ms = now_ms + limits_.idle_timeout_ms;
  after_input(c, Phase::kIdle, now_ms);  // a pipelined request may already be here, even whole
}

void Frontend::sweep(int64_t now_ms) {
  if (listen_paused_ && listen_fd_ >= 0) {
    watch(listen_fd_, true);
    listen_paused_ = false;
  }
  std::vector<int> expired;
  for (const auto& [fd, c] : conns_)
    if (!c->busy && now_ms >= c->deadline_ms) expired.push_back(fd);
  for (int fd : expired) {
    Conn& c = *conns_.at(fd);
    if (c.reader.phase() == Phase::kIdle)
      close_conn(fd);
    else if (!c.draining)
      refuse(c, 408, "request_timeout", "the request did not arrive in time", now_ms);
    else
      close_conn(fd);
  }
}

void Frontend::refuse(Conn& c, int status, const std::string& code, const std::string& message,
                      int64_t now_ms) {
  const std::string body = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
  const std::string reply =
      "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  // Best effort and never blocking: this thread serves every connection.
  (void)!::send(c.fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(c.fd, SHUT_WR);
  c.draining = true;
  c.deadline_ms = now_ms + kLingerMs;
  drain(c);
}

void Frontend::drain(Conn& c) {
  char buf[kReadChunk];
  for (int round = 0; round < kReadsPerWakeup; ++round) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.drained += static_cast<size_t>(n);
      if (c.drained > kLingerBytes) return close_conn(c.fd);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // more later, or the deadline
    return close_conn(c.fd);  // the client closed (or the connection failed)
  }
  // Still sending: the next wakeup reads on, until the linger deadline.
}

void Frontend::close_conn(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  watch(fd, false);
  ::close(fd);
  auto slot = per_client_.find(it->second->peer_ip);
  if (slot != per_client_.end() && --slot->second <= 0) per_client_.erase(slot);
  conns_.erase(it);
}

void Frontend::worker_loop() {
  while (true) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_ready_.wait(lock, [this] { return workers_quit_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    serve_job(*job);
  }
}

void Frontend::serve_job(Job& job) {
  BufferedStream strm(job.fd, job.request, job.peer_ip, job.peer_port, job.local_ip,
                      job.local_port);
  bool client_closes = false;
  bool ok = router_.serve(strm, job.close, client_closes);
  ok = send_all(job.fd, strm.reply(), steady_ms() + limits_.write_timeout_ms) && ok;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back(Done{job.fd, ok && !client_closes && !job.close});
  }
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

}  // namespace berth::server
