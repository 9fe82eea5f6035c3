#include "agent/link.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <thread>

#include "agent/node_gpus.h"
#include "agent/step_server.h"
#include "common/files.h"
#include "common/version.h"
#include "proto/agent.grpc.pb.h"
#include "proto/protocol.h"

namespace berth::agent {
namespace {

namespace pb = ::berth::agent::v1;

constexpr int64_t kFirstRetryMs = 100;
constexpr int64_t kMaxRetryMs = 2'000;
// Between the servers of one round: the next one is dialled almost at once, and the backoff
// waits only once every server failed, so that a standby that takes over is found within one
// backoff however the list is ordered.
constexpr int64_t kNextServerMs = 50;
// Heartbeats berthd asks for outside these bounds are taken at the bound.
constexpr int64_t kMinHeartbeatMs = 100;
constexpr int64_t kMaxHeartbeatMs = 60'000;
// How often the watcher looks at the lease, and how long a registration may go unanswered.
constexpr int64_t kWatchMs = 250;
constexpr int64_t kRegisterTimeoutMs = 10'000;

pb::FromAgent registration(const AgentConfig& c, const NodeFacts& f) {
  pb::FromAgent m;
  pb::Register* r = m.mutable_register_();
  r->set_protocol(proto::kAgentProtocol);
  r->set_agent_version(kBerthVersion);
  r->set_node(c.node);
  for (const GpuInfo& gpu : f.gpus) {
    pb::Gpu* g = r->add_gpus();
    g->set_index(gpu.index);
    g->set_model(gpu.model);
    g->set_uuid(gpu.uuid);
    g->set_minor(gpu.minor);
  }
  r->set_gpu_model(f.gpu_model);
  r->set_cpus(f.cpus);
  r->set_memory_mb(f.memory_mb);
  r->set_domain(c.domain);
  r->set_address(c.address);
  r->set_isolation(f.isolation);
  return m;
}

const char* why_name(pb::Refused::Why why) {
  switch (why) {
    case pb::Refused::VERSION:
      return "protocol version";
    case pb::Refused::NOT_LEADER:
      return "not the leader";
    case pb::Refused::UNKNOWN_NODE:
      return "unknown node";
    case pb::Refused::STALE_EPOCH:
      return "stale controller";
    case pb::Refused::NOT_REGISTERED:
      return "not registered";
    case pb::Refused::DUPLICATE:
      return "another agent holds the node";
    default:
      return "refused";
  }
}

}  // namespace

NodeFacts discover_node(const AgentConfig& c) {
  NodeFacts f;
  NodeGpus gpus = discover_gpus(c);
  f.gpus = std::move(gpus.gpus);
  f.gpu_model = std::move(gpus.model);
  f.cpus = c.cpus > 0 ? c.cpus : static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  f.memory_mb = c.memory_mb > 0 ? c.memory_mb
                                : static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) *
                                      ::sysconf(_SC_PAGESIZE) / (1024 * 1024);
  f.isolation = "none";  // berth_agent.cc says what its executor's cgroups are
  return f;
}

Result<std::shared_ptr<grpc::ChannelCredentials>> channel_credentials(const AgentConfig& c) {
  if (!c.tls()) {
    spdlog::warn(
        "no ca_file, cert_file and key_file: talking to berthd in plaintext, for a laptop or a "
        "test only (berth admin node-cert {} --out DIR makes them)",
        c.node);
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  BERTH_ASSIGN_OR_RETURN(options.pem_root_certs, read_whole_file(c.ca_file));
  BERTH_ASSIGN_OR_RETURN(options.pem_cert_chain, read_whole_file(c.cert_file));
  BERTH_ASSIGN_OR_RETURN(options.pem_private_key, read_whole_file(c.key_file));
  return grpc::SslCredentials(options);
}

Link::Link(AgentConfig config, NodeFacts facts, JobRunner* runner,
           std::shared_ptr<grpc::ChannelCredentials> credentials)
    : config_(std::move(config)),
      facts_(std::move(facts)),
      runner_(runner),
      credentials_(std::move(credentials)),
      backoff_(kFirstRetryMs, kMaxRetryMs,
               static_cast<uint64_t>(::getpid()) ^ static_cast<uint64_t>(::time(nullptr))) {}

Link::~Link() = default;

bool Link::send(const pb::FromAgent& message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (outbox_ == nullptr) return false;  // unconnected: what matters is resent after registering
  {
    std::lock_guard<std::mutex> box_lock(outbox_->mu);
    outbox_->queue.push_back(message);
  }
  outbox_->wake.notify_all();
  return true;
}

void Link::renew_lease(Outbox& box, uint64_t seq) {
  int64_t sent = -1;
  {
    std::lock_guard<std::mutex> lock(box.mu);
    box.beats.acked(seq);
    auto it = box.sent_ms.find(seq);
    if (it != box.sent_ms.end()) sent = it->second;
    box.sent_ms.erase(box.sent_ms.begin(), box.sent_ms.upper_bound(seq));
  }
  if (sent >= 0) lease_renewed(sent, std::nullopt);
}

void Link::lease_renewed(int64_t sent_ms, std::optional<int64_t> fence_ms) {
  int64_t until = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (fence_ms) lease_.set_fence_ms(*fence_ms);
    lease_.renewed(sent_ms);
    until = lease_.until_ms();
  }
  if (until > 0 && on_lease_renewed_) on_lease_renewed_(until);
}

Link::Ended Link::refused(const pb::Refused& r, const std::string& why) {
  const bool not_leader = r.why() == pb::Refused::NOT_LEADER;
  return {why, refused_wait_ms(not_leader, r.retry_ms()), not_leader ? r.leader() : ""};
}

bool Link::dispatch(const pb::ToAgent& in, Ended* ended) {
  if (in.has_refused()) {
    const pb::Refused& r = in.refused();
    const std::string why =
        std::string("berthd ended the registration (") + why_name(r.why()) + "): " + r.message();
    // A leader that stepped down may name the new one; any other refusal on an open stream is
    // dialled again after the backoff.
    *ended = r.why() == pb::Refused::NOT_LEADER ? refused(r, why) : Ended{why};
    return false;
  }
  if (in.has_exit_when_idle() && on_exit_when_idle_) on_exit_when_idle_();
  if (in.has_step_done() && steps_ != nullptr) steps_->answer(in.step_done());
  if (runner_ == nullptr) return true;
  if (in.has_ack() && in.ack().end_seq() > 0) runner_->on_ack(in.ack().end_seq());
  if (in.has_launch() && !runner_->on_launch(in.launch())) {
    *ended = {"a launch from a replaced berthd (an older epoch)"};
    return false;
  }
  if (in.has_signal() && !runner_->on_signal(in.signal())) {
    *ended = {"a signal from a replaced berthd (an older epoch)"};
    return false;
  }
  return true;
}

void Link::stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  if (current_) current_->TryCancel();
  wake_.notify_all();
}

bool Link::wait_ms(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  wake_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  return !stopping_;
}

int64_t Link::mono_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// For run()'s life: fences when the lease runs out, whatever the link is doing (dialling, or
// a stream to a berthd that stopped answering), and gives up on a registration left unanswered.
void Link::watch() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(kWatchMs), [&] { return stopping_; });
    const int64_t now = mono_ms();
    if (current_ != nullptr && registering_ && now - dialled_ms_ > kRegisterTimeoutMs) {
      spdlog::warn("berthd did not answer the registration within {} ms", kRegisterTimeoutMs);
      current_->TryCancel();
    }
    if (lease_.take_lapse(now) && runner_ != nullptr) {
      lock.unlock();
      runner_->fence();
      lock.lock();
    }
  }
}

void Link::run() {
  std::thread watcher([this] { watch(); });
  struct Join {
    std::thread& t;
    Link* link;
    ~Join() {
      link->stop();
      t.join();
    }
  } join{watcher, this};
  ServerChoice servers(config_.servers);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    const std::string server = servers.current();
    const Ended ended = session(server);
    servers.ended(ended.leader);
    const bool round_over = ++dials_since_registered_ % config_.servers.size() == 0;
    const int64_t wait = ended.retry_ms > 0 ? ended.retry_ms
                         : round_over       ? backoff_.next_ms()
                                            : kNextServerMs;
    spdlog::warn("{}: {}; dialling again in {} ms: {}", server, ended.why, wait, servers.current());
    if (!wait_ms(wait)) return;
  }
}

Link::Ended Link::session(const std::string& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5'000);
  auto channel = grpc::CreateCustomChannel(server, credentials_, args);
  auto stub = pb::Controller::NewStub(channel);
  grpc::ClientContext ctx;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return {"stopping"};
    current_ = &ctx;
    registering_ = true;
    dialled_ms_ = mono_ms();
  }
  struct Forget {  // stop() must not cancel a context that is gone
    Link* link;
    ~Forget() {
      std::lock_guard<std::mutex> lock(link->mu_);
      link->current_ = nullptr;
    }
  } forget{this};

  auto stream = stub->Connect(&ctx);
  Ended ended{"the stream closed"};
  pb::ToAgent in;
  pb::FromAgent hello = registration(config_, facts_);
  if (runner_) runner_->fill_register(hello.mutable_register_());
  const int64_t hello_sent_ms = mono_ms();
  if (!stream->Write(hello) || !stream->Read(&in)) {
    const grpc::Status st = stream->Finish();
    // A berthd that requires TLS closes a plaintext connection before a word is said.
    const char* hint =
        config_.tls() ? "" : " (if berthd requires TLS: ca_file, cert_file, key_file)";
    return {"cannot reach berthd: " + st.error_message() + hint};
  }
  if (in.has_refused()) {
    const pb::Refused& r = in.refused();
    // A standby's refusal is the normal way to the leader, not something for a person to fix.
    spdlog::log(r.why() == pb::Refused::NOT_LEADER ? spdlog::level::info : spdlog::level::err,
                "berthd at {} refused node {} ({}): {}", server, config_.node, why_name(r.why()),
                r.message());
    ctx.TryCancel();
    stream->Finish();
    return refused(r, "refused");
  }
  if (!in.has_registered()) {
    ctx.TryCancel();
    stream->Finish();
    return {"berthd answered the registration with something else"};
  }
  backoff_.reset();
  dials_since_registered_ = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    registering_ = false;
  }
  // berthd heard the registration: the lease runs from when it was sent, as from a heartbeat's.
  lease_renewed(hello_sent_ms, in.registered().fence_ms());
  const int64_t beat_ms =
      std::clamp<int64_t>(in.registered().heartbeat_ms(), kMinHeartbeatMs, kMaxHeartbeatMs);
  spdlog::info("registered node {} with berthd at {} (heartbeat every {} ms)", config_.node, server,
               beat_ms);

  // One writer thread writes what the runner queued (send()) and a heartbeat when one is due.
  Outbox box;
  {
    std::lock_guard<std::mutex> lock(mu_);
    outbox_ = &box;
  }
  if (runner_) {
    runner_->on_registered(in.registered());
    runner_->resend_ends();
  }
  std::thread writer([&] {
    std::unique_lock<std::mutex> lock(box.mu);
    auto next_beat = std::chrono::steady_clock::now();
    while (box.open) {
      if (box.beats.silent()) {
        spdlog::warn("berthd at {} acknowledged no heartbeat since #{}", server,
                     box.beats.acked_seq());
        ctx.TryCancel();
        return;
      }
      pb::FromAgent out;
      if (!box.queue.empty()) {
        out = std::move(box.queue.front());
        box.queue.pop_front();
      } else if (std::chrono::steady_clock::now() >= next_beat) {
        out.mutable_heartbeat()->set_seq(box.beats.next());
        box.sent_ms[out.heartbeat().seq()] = mono_ms();
        next_beat = std::chrono::steady_clock::now() + std::chrono::milliseconds(beat_ms);
      } else {
        box.wake.wait_until(lock, next_beat, [&] { return !box.open || !box.queue.empty(); });
        continue;
      }
      lock.unlock();
      const bool written = stream->Write(out);
      lock.lock();
      if (!written) return;
    }
  });
  while (stream->Read(&in)) {
    if (!dispatch(in, &ended)) {
      ctx.TryCancel();
      break;
    }
    if (in.has_ack() && in.ack().heartbeat_seq() > 0) renew_lease(box, in.ack().heartbeat_seq());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    outbox_ = nullptr;
  }
  if (steps_ != nullptr) steps_->fail_all("the connection to berthd broke while the step ran");
  {
    std::lock_guard<std::mutex> lock(box.mu);
    box.open = false;
  }
  box.wake.notify_all();
  ctx.TryCancel();  // a writer blocked in Write returns
  writer.join();
  const grpc::Status st = stream->Finish();
  if (!st.ok() && ended.why == "the stream closed")
    ended.why = "stream lost: " + st.error_message();
  return ended;
}

}  // namespace berth::agent
