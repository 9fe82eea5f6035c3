// berthd's HTTP front end: one epoll thread owns every socket and reads each request into
// memory until it is whole; only then does a worker thread parse, route and answer it (with
// cpp-httplib's routing). A slow or idle client therefore costs a buffer, never a thread, and
// deadlines on the headers, the body and idle keep-alive close the ones that dawdle.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "config/config.h"

namespace berth::server {

// Cuts whole HTTP/1.1 requests out of the bytes a connection sends, in any split, keeping
// bytes that follow a request (pipelining) for the next. Request bodies must come with a
// Content-Length: chunked bodies are refused (411).
class RequestReader {
 public:
  enum class Phase {
    kIdle,     // nothing of a request yet
    kHeaders,  // part of the request line or headers
    kBody,     // headers whole, body still arriving
    kReady,    // one whole request is buffered: take() it
    kRefused,  // malformed or over a limit: refusal() says why; the connection must close
  };
  RequestReader(size_t max_header_bytes, size_t max_body_bytes)
      : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {}

  Phase add(std::string_view bytes);
  Phase phase() const { return phase_; }
  // The whole request (headers and body) once kReady; what follows it stays for the next one.
  std::string take();
  // Why the request was refused: an HTTP status (400, 411, 413, 431) and a message.
  int refusal_status() const { return refusal_status_; }
  const std::string& refusal_message() const { return refusal_message_; }
  size_t buffered() const { return buf_.size(); }

 private:
  Phase scan();
  Phase refuse(int status, std::string message);
  Status read_headers(std::string_view head);

  size_t max_header_bytes_;
  size_t max_body_bytes_;
  std::string buf_;
  Phase phase_ = Phase::kIdle;
  size_t header_end_ = 0;  // bytes of request line and headers, with the blank line, once known
  size_t body_bytes_ = 0;
  int refusal_status_ = 0;
  std::string refusal_message_;
};

// cpp-httplib's server with its routing and parsing, answering requests the front end has
// already read whole.
class Router : public httplib::Server {
 public:
  // httplib stops a streamed reply (a content provider, as the backup's) when its listening
  // socket is invalid, taking that as "shutting down". The front end owns the socket, so the
  // router is marked as listening; it never listens, so nothing closes this descriptor.
  Router() { svr_sock_ = 0; }
  // Parses and answers the request in `strm`; false when the connection must close.
  bool serve(httplib::Stream& strm, bool close_connection, bool& connection_closed) {
    return process_request(strm, close_connection, connection_closed, nullptr);
  }
};

class Frontend {
 public:
  Frontend(Router& router, HttpLimits limits);
  ~Frontend();
  Frontend(const Frontend&) = delete;
  Frontend& operator=(const Frontend&) = delete;

  // Listens on host:port (0: any free port); returns the port.
  Result<int> bind(const std::string& host, int port);
  // Serves until stop(); then waits for the workers to finish what they hold.
  void run();
  // From any thread.
  void stop();

 private:
  struct Conn;
  struct Job;
  struct Done {
    int fd;
    bool keep_alive;
  };

  void accept_all(int64_t now_ms);
  void on_readable(Conn& c, int64_t now_ms);
  void dispatch(Conn& c);
  void finish(const Done& d, int64_t now_ms);
  void after_input(Conn& c, RequestReader::Phase before, int64_t now_ms);
  void sweep(int64_t now_ms);
  void close_conn(int fd);
  void refuse(Conn& c, int status, const std::string& code, const std::string& message,
              int64_t now_ms);
  void drain(Conn& c);
  void watch(int fd, bool on);
  void worker_loop();
  void serve_job(Job& job);

  Router& router_;
  HttpLimits limits_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: a worker finished, or stop()
  bool listen_paused_ = false;
  std::atomic<bool> stopping_{false};
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::unordered_map<std::string, int> per_client_;

  std::mutex mu_;
  std::condition_variable work_ready_;
  std::deque<std::unique_ptr<Job>> jobs_;
  std::vector<Done> done_;
  bool workers_quit_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace berth::server
