// Where `berth run` within a job asks its node's agent for a step (src/agent/README.md §5):
// a Unix socket in the abstract namespace (common/step_wire.h), its address given to every
// launch as BERTH_STEP_SOCKET.
//
// - Each caller is checked with SO_PEERCRED before anything reaches berthd: it must be a
//   process of a job running here, as that job's user (JobRunner::step_caller). Otherwise it
//   is answered at once with the reason.
// - An accepted call becomes a StepRequest to berthd, numbered; berthd's StepDone of that
//   number is the answer. A call made while no stream to berthd is up is answered at once;
//   one in flight when the stream ends is answered then (berthd stops what runs of it when
//   the agent registers again, as it does for any launch it did not keep).
//
// Thread-safety: answer() and fail_all() from any thread; callers are read on the server's
// own thread, one at a time (each has a few seconds to send its request).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/job_runner.h"
#include "common/status.h"
#include "common/step_wire.h"
#include "proto/agent.pb.h"

namespace berth::agent {

class StepServer {
 public:
  // Queues a message for berthd; false when there is no stream now.
  using Send = std::function<bool(const ::berth::agent::v1::FromAgent&)>;

  // Listens on `address` ("@name") and serves until destroyed.
  static Result<std::unique_ptr<StepServer>> Open(const std::string& address,
                                                  const JobRunner& runner, Send send);
  ~StepServer();
  StepServer(const StepServer&) = delete;
  StepServer& operator=(const StepServer&) = delete;

  const std::string& address() const { return address_; }
  // berthd's answer to one of this agent's requests (an unknown number is ignored).
  void answer(const ::berth::agent::v1::StepDone& done);
  // Every call in flight is answered with `why` (the stream to berthd ended).
  void fail_all(const std::string& why);

 private:
  StepServer(std::string address, int listen_fd, const JobRunner& runner, Send send);
  void serve();
  void take(int fd);
  // Answers the caller on `fd` and closes it.
  static void reply(int fd, const StepResult& result);

  const std::string address_;
  const int listen_fd_;
  const int wake_fd_;  // eventfd: the destructor stops serve()
  const JobRunner& runner_;
  const Send send_;
  std::mutex mu_;
  uint64_t last_request_ = 0;
  std::map<uint64_t, int> pending_;  // request -> the caller's connection
  std::thread thread_;
};

}  // namespace berth::agent
