// LaunchQueue: hands launches and stops to an Executor on a thread of its own, in the order
// they were asked for, so that the caller (berthd's core thread) never waits on a fork, a
// user lookup or the file system — an output path that is a FIFO, a hung NFS workdir.
//
// A launch that fails is reported through `on_failure` as the job's end: exit code 127 and the
// executor's message as the reason. A stop queued after a launch reaches the executor after it,
// so a job cancelled just after it was started is still stopped.
//
// The queue holds at most one launch per GPU being started and one stop per running job, which
// the scheduler already bounds. Thread-safety: all methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <variant>

#include "executor/executor.h"

namespace berth::executor {

class LaunchQueue {
 public:
  using Log = std::function<void(const std::string&)>;
  LaunchQueue(Executor& executor, ExitCallback on_failure, Log log = nullptr);
  // Hands over what is queued, then stops the thread.
  ~LaunchQueue();
  LaunchQueue(const LaunchQueue&) = delete;
  LaunchQueue& operator=(const LaunchQueue&) = delete;

  void launch(LaunchSpec spec);
  void terminate(JobId job, int64_t grace_ms);
  // Returns once everything queued before the call has been handed to the executor.
  void drain();

 private:
  struct Stop {
    JobId job;
    int64_t grace_ms;
  };
  using Command = std::variant<LaunchSpec, Stop>;
  void loop();
  void run(const Command& command);

  Executor& executor_;
  const ExitCallback on_failure_;
  const Log log_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Command> commands_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace berth::executor
