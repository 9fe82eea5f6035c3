// The agent's pure rules for its link to berthd: which berthd to dial, how long to wait before
// dialling again, and when a controller that stopped answering heartbeats is given up on. No
// I/O, no clock: the link (link.h) asks and acts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

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

// Which berthd the link dials (issue 14): the configured servers in turn, except that a
// standby's refusal (NOT_LEADER) naming the leader's agents address sends the next dial there,
// whether or not it is listed. Dialling that address and failing goes on with the server listed
// after the last listed one dialled.
class ServerChoice {
 public:
  // `servers` holds at least one address (AgentConfig::validate sees to it).
  explicit ServerChoice(std::vector<std::string> servers);
  // The address to dial now.
  const std::string& current() const { return current_; }
  // The stream to current() ended; `leader` is the address a NOT_LEADER refusal named, "" for
  // any other end (a refusal without one, a stream lost or never made).
  void ended(const std::string& leader);

 private:
  const std::vector<std::string> servers_;
  std::string current_;
  size_t listed_ = 0;  // the listed server current_ is, or was last
};

// How long to wait before dialling again after berthd refused the agent: what it asked for
// (retry_ms; 0 when it asked for nothing), within bounds. A standby's refusal (not_leader)
// points at a leader, or at a takeover under way, so it is followed within seconds; any other
// refusal (a protocol version, a node berthd does not know) needs a person, so the agent waits
// longer and does not flood berthd's log.
int64_t refused_wait_ms(bool not_leader, int64_t retry_ms);

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
