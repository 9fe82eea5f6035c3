// Clock: where berthd reads the time of day, injected as leveldb's Env and Envoy's TimeSource
// are, so that nothing that decides or records a time calls the wall clock itself.
//
// The daemon and its core loop read every "now" from the Clock they were given: the time a
// batch is applied, committed and marked alive, the time a lost or stopped job is charged to,
// the time a token is checked against its expiry. berthd gives them a RealClock; tests give a
// ManualClock that moves only when told, so that what a job is charged is known exactly.
//
// Waiting (a condition variable's timeout, a grace period) is not reading the clock: it uses
// the standard library's steady clock and never decides a time that is recorded.
//
// Thread-safety: now_ms() may be called from any thread, on both clocks.
#pragma once

#include <atomic>
#include <cstdint>

namespace berth {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (UTC).
  virtual int64_t now_ms() const = 0;
};

// The system's wall clock.
class RealClock final : public Clock {
 public:
  int64_t now_ms() const override;
};

// A clock that stands still until the test moves it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t now_ms() const override { return now_ms_.load(); }
  void set_ms(int64_t now_ms) { now_ms_.store(now_ms); }
  void advance_ms(int64_t delta_ms) { now_ms_.fetch_add(delta_ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace berth
