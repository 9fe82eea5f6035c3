// berthd's ExitWhenIdle, as the agent's main waits on it: once asked, the agent exits as soon
// as no job runs on it (checked every kPollMs: a job's end is rare next to that).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace berth::agent {

class IdleExit {
 public:
  static constexpr int kPollMs = 200;
  // Any thread: berthd asked.
  void ask() {
    std::lock_guard<std::mutex> lock(mu_);
    asked_ = true;
    cv_.notify_all();
  }
  // Any thread: the agent stops for another reason; wait_until_idle returns false.
  void cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  // Blocks until asked and `idle()` holds (true), or until cancelled (false).
  bool wait_until_idle(const std::function<bool()>& idle) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (cancelled_) return false;
      if (asked_ && idle()) return true;
      if (asked_)
        cv_.wait_for(lock, std::chrono::milliseconds(kPollMs));
      else
        cv_.wait(lock);
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool asked_ = false;
  bool cancelled_ = false;
};

}  // namespace berth::agent
