// The agent's pure rules for its link to berthd: how long to wait before dialling again, and
// when a controller that stopped answering heartbeats is given up on. No I/O, no clock: the
// link (link.h) asks and acts.
#pragma once

#include <algorithm>
#include <cstdint>

namespace berth::agent {

// Waits between failed dials: first_ms, doubling up to max_ms, each jittered by up to ±20% so
// that a hundred agents cut off together do not all dial again at the same moment.
class Backoff {
 public:
  Backoff(int64_t first_ms, int64_t max_ms, uint64_t seed)
      : first_ms_(first_ms), max_ms_(max_ms), state_(seed) {}
  // The next wait, in milliseconds.
  int64_t next_ms();
  // After a registration: the next failure waits first_ms again.
  void reset() { base_ms_ = 0; }

 private:
  uint64_t random();
  const int64_t first_ms_;
  const int64_t max_ms_;
  int64_t base_ms_ = 0;  // the last un-jittered wait; 0 before the first
  uint64_t state_;
};

// Heartbeats sent and acknowledged on one stream. A controller that has left kMaxUnanswered
// heartbeats unacknowledged is silent: the agent closes the stream and dials again (a half-open
// TCP connection, a stalled berthd).
class Heartbeats {
 public:
  static constexpr uint64_t kMaxUnanswered = 3;
  // The sequence number of the next heartbeat to send (1, 2, ...).
  uint64_t next() { return ++sent_; }
  // berthd acknowledged every heartbeat up to `seq`; an older or unknown one changes nothing.
  void acked(uint64_t seq) {
    if (seq > acked_ && seq <= sent_) acked_ = seq;
  }
  bool silent() const { return sent_ - acked_ > kMaxUnanswered; }
  uint64_t sent() const { return sent_; }
  uint64_t acked_seq() const { return acked_; }

 private:
  uint64_t sent_ = 0;
  uint64_t acked_ = 0;
};

// The fencing lease (src/agent/README.md §3). Each acknowledged heartbeat renews it from the
// moment that heartbeat was sent (so it starts before berthd last heard the node); when it runs
// out, the agent stops its fenceable launches (--requeue, spot), which berthd requeues once
// the node's timeout passes: since fence_ms + the grace period < berthd's node timeout, the old
// attempt is gone before a new one can start. Only the clock's rate matters, on a monotonic
// clock. fence_ms 0: no lease (berthd's timeout leaves no room for one).
class Lease {
 public:
  void set_fence_ms(int64_t fence_ms) { fence_ms_ = fence_ms; }
  // berthd acknowledged a heartbeat sent at sent_ms.
  void renewed(int64_t sent_ms) {
    if (fence_ms_ <= 0) return;
    until_ms_ = std::max(until_ms_, sent_ms + fence_ms_);
    held_ = true;
  }
  // When the lease runs out (0: never renewed, or no lease).
  int64_t until_ms() const { return until_ms_; }
  // True once when the lease held is past at now_ms (the caller fences); false otherwise.
  bool take_lapse(int64_t now_ms) {
    if (!held_ || now_ms <= until_ms_) return false;
    held_ = false;
    return true;
  }

 private:
  int64_t fence_ms_ = 0;
  int64_t until_ms_ = 0;
  bool held_ = false;
};

}  // namespace berth::agent
