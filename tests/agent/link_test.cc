// The agent's link against fake berthd in this process (gRPC on loopback): a standby's refusal
// sends the agent to the leader it names, or to the next server listed.
#include "agent/link.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proto/agent.grpc.pb.h"

namespace berth::agent {
namespace {

namespace pb = ::berth::agent::v1;

// A berthd's agent listener: a standby refuses every registration with NOT_LEADER (naming
// `leader`, which may be ""); a leader answers Registered and acknowledges heartbeats until
// the agent goes.
class FakeController final : public pb::Controller::Service {
 public:
  FakeController(bool standby, std::string leader) : standby_(standby), leader_(std::move(leader)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeController() override { server_->Shutdown(std::chrono::system_clock::now()); }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Waits (10 s at most) until `count` registrations have come; true when they have.
  bool registered(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return wake_.wait_for(lock, std::chrono::seconds(10), [&] { return nodes_.size() >= count; });
  }
  std::vector<std::string> nodes() {
    std::lock_guard<std::mutex> lock(mu_);
    return nodes_;
  }

  grpc::Status Connect(grpc::ServerContext*,
                       grpc::ServerReaderWriter<pb::ToAgent, pb::FromAgent>* stream) override {
    pb::FromAgent in;
    if (!stream->Read(&in) || !in.has_register_()) return grpc::Status::OK;
    {
      std::lock_guard<std::mutex> lock(mu_);
      nodes_.push_back(in.register_().node());
    }
    wake_.notify_all();
    pb::ToAgent out;
    if (standby_) {
      out.mutable_refused()->set_why(pb::Refused::NOT_LEADER);
      out.mutable_refused()->set_message("this berthd is a standby");
      out.mutable_refused()->set_leader(leader_);
      out.mutable_refused()->set_retry_ms(100);
      stream->Write(out);
      return grpc::Status::OK;
    }
    out.mutable_registered()->set_epoch(1);
    out.mutable_registered()->set_heartbeat_ms(100);
    stream->Write(out);
    while (stream->Read(&in)) {
      if (!in.has_heartbeat()) continue;
      pb::ToAgent ack;
      ack.mutable_ack()->set_heartbeat_seq(in.heartbeat().seq());
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

 private:
  const bool standby_;
  const std::string leader_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::string> nodes_;
};

// Runs a link for node n1 dialling `servers` until the test ends.
class RunningLink {
 public:
  explicit RunningLink(std::vector<std::string> servers) {
    AgentConfig config;
    config.node = "n1";
    config.servers = std::move(servers);
    link_ =
        std::make_unique<Link>(config, NodeFacts{}, nullptr, grpc::InsecureChannelCredentials());
    thread_ = std::thread([this] { link_->run(); });
  }
  ~RunningLink() {
    link_->stop();
    thread_.join();
  }

 private:
  std::unique_ptr<Link> link_;
  std::thread thread_;
};

TEST(LinkTest, AStandbyNamingTheLeaderSendsTheAgentThereThoughItIsNotListed) {
  FakeController leader(false, "");
  FakeController standby(true, leader.address());
  RunningLink link({standby.address()});
  ASSERT_TRUE(leader.registered(1));
  EXPECT_EQ(leader.nodes(), std::vector<std::string>{"n1"});
  EXPECT_EQ(standby.nodes(), std::vector<std::string>{"n1"});
}

TEST(LinkTest, AStandbyNamingNoLeaderSendsTheAgentToTheNextServer) {
  FakeController standby(true, "");
  FakeController leader(false, "");
  RunningLink link({standby.address(), leader.address()});
  ASSERT_TRUE(leader.registered(1));
  EXPECT_EQ(standby.nodes(), std::vector<std::string>{"n1"});
}

}  // namespace
}  // namespace berth::agent
