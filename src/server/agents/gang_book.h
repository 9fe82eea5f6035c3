// What berthd knows of the launches it sent to agents: where each rank of each job went, which
// ranks ended and how, and which ends it has not acknowledged yet. Pure (no streams, no clock):
// RemoteExecutor keeps one behind its mutex and does what the answers say.
//
// Rules (src/agent/README.md §5):
// - A job has a rank on each of its nodes (rank 0 on its first). Rank 0 runs the batch script;
//   with every_node (berth run) every rank runs it.
// - The job ends on rank 0's end (batch), or once every rank has ended (every_node: the worst
//   end, the longest runtime). A rank that could not start, or that its agent lost, ends the
//   whole job at once (all or none): the other ranks are stopped.
// - A rank's end is not acknowledged while its job still runs in that attempt: the agent keeps
//   it and sends it again after a berthd restart, so a rank that ended is never taken for one
//   that was never sent (and launched a second time). Acks are cumulative per node (every end
//   up to end_seq), so a node's ack stops below its oldest end still held.
// - Launch timeout: ranks of a fresh launch must each start (JobStarted) or end; one that has
//   done neither `timeout` after the launch was sent is overdue, once, and its job's launch
//   fails (all or none). Ranks learnt again after a berthd restart (track) are taken as started.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "proto/agent.pb.h"

namespace berth::server {

class GangBook {
 public:
  // What to do with a rank's end.
  struct Verdict {
    // Set: end the job with this (one rank's end, or every rank's combined).
    std::optional<::berth::agent::v1::JobEnded> end_job;
    // The job still runs: keep the end unacknowledged (RemoteExecutor::settled).
    bool hold = false;
  };

  // The job's ranks were sent (or sent again): nodes[r] runs rank r. Ends already recorded for
  // the same attempt are kept; another attempt starts afresh. With `sent_ms`, a fresh launch
  // sent then (its ranks awaited); without, ranks an agent holds (taken as started).
  void sent(uint64_t job, uint32_t attempt, std::vector<std::string> nodes, bool every_node,
            std::optional<int64_t> sent_ms = std::nullopt);
  // Rank `rank` of the job's attempt `attempt` started.
  void started(uint64_t job, uint32_t attempt, uint32_t rank);
  // The jobs with a rank that neither started nor ended within `timeout_ms` of the launch, and
  // that rank (the first such): each reported once.
  std::vector<std::pair<uint64_t, uint32_t>> overdue(int64_t now_ms, int64_t timeout_ms);
  bool knows(uint64_t job) const { return jobs_.count(job) != 0; }
  // The end of rank `rank` of the job's current attempt (the caller checked that it is).
  Verdict on_end(uint64_t job, const ::berth::agent::v1::JobEnded& end);

  // End `seq` from `node` was committed (held or not): the cumulative ack to send that node
  // now, 0 for none.
  uint64_t received(const std::string& node, uint64_t seq, bool hold, uint64_t job);
  // The job ended in the core: its held ends are released. Returns (node, ack) to send.
  std::vector<std::pair<std::string, uint64_t>> release(uint64_t job);
  // Jobs with ends held (for a sweep of those the core ended another way).
  std::vector<uint64_t> holding() const;
  // A node's agent registered on a new stream: it sends every unacknowledged end again.
  void node_registered(const std::string& node);

  // (node, rank) of each rank not yet ended, to signal; empty for an unknown job.
  std::vector<std::pair<std::string, uint32_t>> live_ranks(uint64_t job) const;
  uint32_t attempt(uint64_t job) const;
  void forget(uint64_t job) {
    jobs_.erase(job);
    awaited_.erase(job);
  }
  size_t size() const { return jobs_.size(); }

 private:
  struct Gang {
    uint32_t attempt = 0;
    std::vector<std::string> nodes;
    bool every_node = false;
    std::map<uint32_t, ::berth::agent::v1::JobEnded> ended;  // by rank
    std::set<uint32_t> started;
    std::optional<int64_t> awaited_since;  // a fresh launch whose ranks have not all started
  };
  struct NodeAcks {
    std::set<uint64_t> held;  // end_seqs not to be acknowledged yet
    uint64_t committed = 0;   // the highest end_seq committed
    uint64_t sent = 0;        // the last ack sent
  };
  uint64_t next_ack(NodeAcks& n);

  std::map<uint64_t, Gang> jobs_;
  // Jobs whose launch is awaited (overdue() runs on every heartbeat: it looks at these only).
  std::set<uint64_t> awaited_;
  std::map<std::string, NodeAcks> nodes_;
  std::map<uint64_t, std::vector<std::pair<std::string, uint64_t>>> held_;  // by job
};

// Of every rank's end, the one the job ends with: the first rank (in rank order) that failed,
// was signalled or timed out, else rank 0; its runtime the longest of all.
::berth::agent::v1::JobEnded combined_end(
    const std::map<uint32_t, ::berth::agent::v1::JobEnded>& ends);

}  // namespace berth::server
