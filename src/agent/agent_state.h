// The agent's book of launches and ends: pure (no I/O, no clock, no processes), so that every
// rule of "exactly once" can be tested alone (src/agent/README.md §3). The agent's store keeps
// these records on disk; its job runner does what the answers here say.
//
// Rules
// - A launch is known by its LaunchKey (job, attempt, rank, step). A Launch for a key already
//   held is never started twice: it is answered as it stands (started again, or its end again).
// - Every Launch and Signal carries the controller's epoch. The agent keeps the highest it has
//   seen; a message from an older epoch comes from a controller that has been replaced and is
//   refused.
// - Each end gets the next end_seq (1, 2, ...) once, and is resent after every reconnection
//   until berthd acknowledges an end_seq at or above it; then it is settled and forgotten.
// - At registration berthd names the launches it already ended (Registered.kill): those still
//   running are to be killed; their ends, when they come, are acknowledged and ignored there.
// - Fencing: when the lease runs out, the running launches that are fenceable (berthd may requeue
//   them elsewhere after the node's timeout) are to be stopped; the others run on.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::agent {

struct LaunchKey {
  uint64_t job = 0;
  uint32_t attempt = 0;
  uint32_t rank = 0;
  uint32_t step = 0;
  auto operator<=>(const LaunchKey&) const = default;
};
// "job 42 attempt 1 rank 0 step 0"
std::string to_string(const LaunchKey& key);

// How a launch ended, as JobEnded reports it.
struct EndReport {
  int exit_code = 0;
  int signal = 0;
  int64_t runtime_ms = 0;
  bool oom = false;
  bool timed_out = false;
  bool stopped = false;        // by a Signal from berthd, or by the fence
  bool launch_failed = false;  // it never ran (user, output, workdir): reason says why
  bool lost = false;           // the agent lost sight of it (it restarted)
  std::string reason;
  bool operator==(const EndReport&) const = default;
};

struct LaunchRecord {
  LaunchKey key;
  uint64_t epoch = 0;
  bool fenceable = false;
  bool running = false;          // started and not ended
  int64_t started_unix_ms = 0;   // 0 until started
  int pgid = 0;                  // its process group once started (to find it after a restart)
  std::optional<EndReport> end;  // set once, when it ended
  uint64_t end_seq = 0;          // with end
};

// What to do with a Launch.
enum class LaunchDecision {
  kStart,       // new: record it (done), then start its process
  kHeld,        // known: answer with what is known of it, start nothing
  kStaleEpoch,  // from a replaced controller: refuse, start nothing
};

class AgentState {
 public:
  // Records a new launch (kStart), or says why it is not started.
  LaunchDecision on_launch(const LaunchKey& key, uint64_t epoch, bool fenceable);
  // Whether a message of `epoch` may be acted on; a newer epoch becomes the highest seen.
  bool accept_epoch(uint64_t epoch);
  uint64_t max_epoch() const { return max_epoch_; }

  // The launch's process group `pgid` started at started_unix_ms. Ignored for an unknown or
  // ended launch.
  void started(const LaunchKey& key, int64_t started_unix_ms, int pgid = 0);
  // The launch ended: its end gets the next end_seq, which is returned. An end for a launch
  // already ended keeps the first end and returns its end_seq (an end is reported once); an
  // unknown launch returns 0 and changes nothing.
  uint64_t ended(const LaunchKey& key, const EndReport& end);

  // The ends berthd has not acknowledged, in end_seq order: what to send after (re)connecting.
  std::vector<const LaunchRecord*> unacked_ends() const;
  // berthd settled every end up to end_seq: they are forgotten.
  void acked(uint64_t end_seq);

  // What the agent holds, for its registration: every launch running or ended and unacked.
  std::vector<const LaunchRecord*> inventory() const;
  // Of the launches berthd says it already ended, those still running here (to be killed).
  std::vector<LaunchKey> to_kill(const std::vector<LaunchKey>& ended_there) const;
  // The lease ran out: the running launches that are fenceable (to be stopped).
  std::vector<LaunchKey> fenced() const;

  const LaunchRecord* find(const LaunchKey& key) const;
  // Records as read back from the agent's store after a restart (the highest epoch seen and
  // the next end_seq follow from them and from `max_epoch`, `last_end_seq`).
  void restore(std::vector<LaunchRecord> records, uint64_t max_epoch, uint64_t last_end_seq);
  uint64_t last_end_seq() const { return last_end_seq_; }

 private:
  std::map<LaunchKey, LaunchRecord> launches_;
  uint64_t max_epoch_ = 0;
  uint64_t last_end_seq_ = 0;
};

}  // namespace berth::agent
