// The agent's link to berthd: one gRPC stream (Controller.Connect), dialled by the agent.
//
// run() dials each configured server in turn, registers (node name, GPUs, CPUs, memory,
// domain, version), then sends a heartbeat every interval berthd asked for, until stop(). A
// stream that breaks, or a controller that leaves Heartbeats::kMaxUnanswered heartbeats
// unacknowledged, is closed and the next server dialled after a Backoff wait; a refusal (another
// protocol version, a node berthd does not know) is logged with berthd's message and the next
// server dialled after the wait berthd asked for (refused_wait_ms). A standby's refusal
// (NOT_LEADER) that names the leader sends the next dial to that address (ServerChoice). The stream
// is gRPC's synchronous one: the link reads on run()'s thread and writes heartbeats from one thread
// of its own (one reader and one writer at a time, as gRPC allows).
//
// Threads: stop() from any thread (the signal thread); everything else on run()'s thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <deque>
#include <map>
#include <vector>

#include "agent/agent_config.h"
#include "agent/job_runner.h"
#include "agent/link_policy.h"
#include "agent/nvml.h"
#include "proto/agent.pb.h"

namespace grpc {
class ChannelCredentials;
class ClientContext;
}  // namespace grpc

namespace berth::agent {

class StepServer;

// What this node is, as the agent registers it.
struct NodeFacts {
  std::vector<GpuInfo> gpus;
  std::string gpu_model;
  int cpus = 0;
  int64_t memory_mb = 0;
  std::string isolation;
};
// The GPUs NVML finds, else the configuration's (node_gpus.h), and the configuration's CPUs and
// memory, with this machine's where it leaves them 0.
NodeFacts discover_node(const AgentConfig& config);

// How the agent proves who it is to berthd: mutual TLS with the configuration's three PEM
// files, or plaintext (logged as a warning: for a laptop or a test only) when it names none.
// NotFound names a file that cannot be read. A berthd named by IP address must have that
// address among its certificate's subjectAltNames: gRPC checks the name dialled against them.
Result<std::shared_ptr<grpc::ChannelCredentials>> channel_credentials(const AgentConfig& config);

class Link {
 public:
  // `runner` (may be null: registration and heartbeats only) runs what berthd sends; it
  // outlives the link. `credentials`: mutual TLS, or plaintext (channel_credentials).
  Link(AgentConfig config, NodeFacts facts, JobRunner* runner,
       std::shared_ptr<grpc::ChannelCredentials> credentials);
  ~Link();
  // Dials, registers and heartbeats until stop().
  void run();
  // Any thread: ends run() soon (its stream is cancelled, its waits cut short).
  void stop();
  // Any thread: queues a message for berthd on the stream of the moment; dropped (false) while
  // there is none (the runner's ends are resent after each registration).
  bool send(const ::berth::agent::v1::FromAgent& message);
  // Before run(): where berthd's answers to steps go; its calls in flight fail when a stream
  // ends.
  void set_steps(StepServer* steps) { steps_ = steps; }
  // Before run(): called (on the link's reader thread) when berthd sends ExitWhenIdle.
  void on_exit_when_idle(std::function<void()> f) { on_exit_when_idle_ = std::move(f); }
  // Before run(): called (on the reader thread) with the lease's new end each time berthd's
  // ack renews it (steady_clock ms, as the watchdog's fence file has it).
  void on_lease_renewed(std::function<void(int64_t until_ms)> f) {
    on_lease_renewed_ = std::move(f);
  }

 private:
  // The outcome of one stream: how long to wait before dialling again (0: the backoff's), and
  // the leader a standby named.
  struct Ended {
    std::string why;
    int64_t retry_ms = 0;
    std::string leader;
  };
  // A refusal from berthd as the end of a stream.
  static Ended refused(const ::berth::agent::v1::Refused& r, const std::string& why);
  Ended session(const std::string& server);
  // Acts on one message from berthd; false when the stream must end (*ended says why).
  bool dispatch(const ::berth::agent::v1::ToAgent& in, Ended* ended);
  // One stream's writes: queued messages and heartbeats, written by one thread.
  struct Outbox {
    std::mutex mu;
    std::condition_variable wake;
    std::deque<::berth::agent::v1::FromAgent> queue;
    Heartbeats beats;
    std::map<uint64_t, int64_t> sent_ms;  // heartbeats not yet acknowledged: when sent
    bool open = true;
  };
  // berthd acknowledged heartbeat `seq`: the lease runs from when it was sent.
  void renew_lease(Outbox& box, uint64_t seq);
  // A message sent at sent_ms was heard: the lease (with a new fence_ms, from a registration)
  // runs from then.
  void lease_renewed(int64_t sent_ms, std::optional<int64_t> fence_ms);
  // Waits `ms` or until stop(); false once stopping.
  bool wait_ms(int64_t ms);
  void watch();
  static int64_t mono_ms();

  const AgentConfig config_;
  const NodeFacts facts_;
  JobRunner* const runner_;
  StepServer* steps_ = nullptr;
  std::function<void()> on_exit_when_idle_;
  std::function<void(int64_t)> on_lease_renewed_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  Backoff backoff_;
  size_t dials_since_registered_ = 0;  // run()'s thread: streams ended since one registered

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  grpc::ClientContext* current_ = nullptr;  // the stream in progress, cancelled by stop()
  Outbox* outbox_ = nullptr;                // the registered stream's, for send()
  bool registering_ = false;                // current_ waits for berthd's answer
  int64_t dialled_ms_ = 0;                  // when current_ was dialled (mono_ms)
  Lease lease_;
};

}  // namespace berth::agent
