// berthd's side of the agent protocol (src/proto/agent.proto; the design: src/agent/README.md).
//
// Each berth-agent keeps one stream (Controller.Connect), served here by a callback reactor, so
// a thousand idle agents cost no threads. What an agent says reaches the engine as the HTTP
// requests' work does: a CoreTask applied in the core loop's next batch, answered only once the
// batch is committed (a Registered after the registration is on disk, an Ack after the
// heartbeat). Streams are not the engine's business: the engine knows nodes, their agents'
// versions and when each was last heard; the core loop puts a silent node down
// (Engine::expire_silent_nodes).
//
// Rules:
// - The first message is a Register; its protocol must be one this berthd speaks
//   (proto/protocol.h), its node one of the configuration's. Otherwise the agent gets a Refused
//   naming what is wrong and the stream ends.
// - One stream per node: a newer registration replaces an older stream of the same node (an
//   agent that restarted before its old connection was seen to break); the older one is told so
//   (Refused DUPLICATE) and closed.
// - With TLS (AgentServer::listen given its files), every agent shows a certificate of the CA;
//   its common name must be the node it registers, else Refused UNKNOWN_NODE ("the certificate
//   is for gpu-node-02, not gpu-node-01").
// - Writes go out one at a time in order; each stream's state is shared with the tasks that
//   answer it, so an answer that comes after the stream ended is dropped, never written to a
//   stream that is gone.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "config/config.h"
#include "proto/agent.grpc.pb.h"
#include "server/agents/ca.h"

namespace berth::server {

class CertBook;
class CoreLoop;
class RemoteExecutor;
class StreamState;

class AgentService final : public ::berth::agent::v1::Controller::CallbackService {
 public:
  // `epoch` is this berthd's: sent in every Registered, Launch and Signal.
  // `fence_ms`: the agents' lease (config.h fence_ms), sent in every Registered.
  AgentService(AgentsConfig config, uint64_t epoch, int64_t fence_ms)
      : config_(std::move(config)), epoch_(epoch), fence_ms_(fence_ms) {}
  // Before any stream: the core loop that takes the agents' messages, and the executor that
  // sends launches (null when agents do not run jobs).
  void attach(CoreLoop* core, RemoteExecutor* executor) {
    core_ = core;
    executor_ = executor;
  }
  // Before any stream: with `check`, a registration's node must be its certificate's common
  // name (mutual TLS).
  void check_certificates(bool check) { check_certificates_ = check; }
  // Before any stream: with a book, a certificate it revoked is refused (cert_book.h).
  void check_revocations(const CertBook* book) { cert_book_ = book; }
  // Any thread: ends the stream of `node`'s agent, refused with `why` (its certificate was
  // revoked); false when it has none.
  bool shut_out(const std::string& node, const std::string& why);
  // Any thread: queues `message` on the stream of `node`'s agent; false when it has none.
  bool send_to(const std::string& node, ::berth::agent::v1::ToAgent message);

  grpc::ServerBidiReactor<::berth::agent::v1::FromAgent, ::berth::agent::v1::ToAgent>* Connect(
      grpc::CallbackServerContext* context) override;

  // Any thread: the nodes whose agents hold a stream now.
  size_t streams() const;

 private:
  friend class AgentStream;
  // The registration of `node` on `stream` was committed: it becomes the node's stream; the one
  // it replaces, if any, is returned to be closed.
  std::shared_ptr<StreamState> take_node(const std::string& node,
                                         std::shared_ptr<StreamState> stream);
  // A stream ended: forget it, unless a newer one already holds its node.
  void forget(const std::string& node, const StreamState* stream);

  const AgentsConfig config_;
  const uint64_t epoch_;
  const int64_t fence_ms_;
  CoreLoop* core_ = nullptr;
  RemoteExecutor* executor_ = nullptr;
  bool check_certificates_ = false;
  const CertBook* cert_book_ = nullptr;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<StreamState>> streams_;  // by node name
};

// berthd's gRPC server for agents, on [agents] listen.
class AgentServer {
 public:
  AgentServer(const AgentsConfig& config, uint64_t epoch, int64_t fence_ms)
      : config_(config), service_(std::make_unique<AgentService>(config, epoch, fence_ms)) {}
  // Listens on [agents] listen (the service attached first); refuses an address it cannot
  // bind, naming it. With `tls`, only agents whose certificates tls->ca_pem signed are served
  // (mutual TLS); without, plaintext. With `local_socket`, also on that Unix socket, plaintext
  // (berthd's local agents: the socket is in the state directory, 0700).
  Status listen(const std::optional<TlsFiles>& tls, const std::string& local_socket = "");
  ~AgentServer();
  AgentService& service() { return *service_; }
  // Listens on [agents] listen (the service attached first); refuses an address it cannot
  // bind, naming it.
  Status listen();
  int port() const { return port_; }
  // Ends every stream and stops listening; waits for the streams' reactors to finish.
  void shutdown();

 private:
  const AgentsConfig config_;
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace berth::server
