#include "server/agents/agent_service.h"

#include <unistd.h>

#include <deque>
#include <set>

#include "proto/protocol.h"
#include "server/agents/remote_executor.h"
#include "server/core_loop.h"
#include "server/launch_spec.h"
#include "server/log.h"

namespace berth::server {

namespace pb = ::berth::agent::v1;
using Reactor = grpc::ServerBidiReactor<pb::FromAgent, pb::ToAgent>;

namespace {

// When an agent refused for being unknown or of another version should dial again, and one
// refused because berthd could not take it now.
constexpr int64_t kRetryRefusedMs = 60'000;
constexpr int64_t kRetryUnavailableMs = 1'000;

pb::ToAgent refusal(pb::Refused::Why why, const std::string& message, int64_t retry_ms) {
  pb::ToAgent m;
  m.mutable_refused()->set_why(why);
  m.mutable_refused()->set_message(message);
  m.mutable_refused()->set_retry_ms(retry_ms);
  return m;
}

// "ipv4:10.0.0.7:51234" or "ipv6:[::1]:51234" -> "10.0.0.7" or "::1".
std::string peer_host(const std::string& peer) {
  std::string s = peer.substr(peer.find(':') + 1);
  s = s.substr(0, s.rfind(':'));
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  return s;
}

core::AgentHello hello_of(const pb::Register& r, const std::string& peer) {
  core::AgentHello h;
  h.agent_version = r.agent_version();
  h.address = r.address().empty() ? peer_host(peer) : r.address();
  h.isolation = r.isolation();
  h.gpu_model = r.gpu_model();
  h.gpus = r.gpus_size();
  h.cpus = r.cpus();
  h.memory_mb = r.memory_mb();
  return h;
}

// The node that runs rank `rank` of the job (rank 0 on its first node); null past its last.
NodeId rank_node(const core::Job& job, uint32_t rank) {
  if (rank == 0) return job.node;
  return rank <= job.more_nodes.size() ? job.more_nodes[rank - 1].node : NodeId();
}

// Whether `id` names a launch of `job` that runs now on `node`: a rank of its current attempt
// on the node that holds that rank, step 0 (the batch script, or what holds the node).
bool is_current(const core::Job& job, const core::Node& node, const pb::LaunchId& id) {
  return job.state == core::JobState::kRunning &&
         static_cast<uint32_t>(job.restarts) == id.attempt() && id.step() == 0 &&
         rank_node(job, id.rank()) == node.id;
}

// Teaches the executor where a running job's ranks are (after a berthd restart it knows none).
void track(const core::Engine& engine, const core::Job& job, RemoteExecutor& executor) {
  if (executor.tracks(job.id)) return;
  std::vector<std::string> nodes;
  for (uint32_t r = 0; r < static_cast<uint32_t>(job.nodes); ++r) {
    const core::Node* n = engine.cluster().node(rank_node(job, r));
    nodes.push_back(n == nullptr ? "" : n->name);
  }
  executor.track(job.id, static_cast<uint32_t>(job.restarts), std::move(nodes),
                 runs_on_every_node(job));
}

// What the agent holds against what the engine says runs on its node: launches berthd ended
// (or never made) are to be killed; jobs RUNNING here with a rank on this node that the agent
// never got (berthd stopped before sending them, or the stream broke on the way) are launched
// again (a Launch is idempotent on the agent, so the ranks elsewhere are not started twice).
// An agent holds a rank's end until its job ends (GangBook), so "not held" is "never got".
void reconcile_inventory(CoreContext& c, const core::Node& n,
                         const google::protobuf::RepeatedPtrField<pb::Held>& held,
                         RemoteExecutor& executor, pb::Registered* reg) {
  executor.node_registered(n.name);
  std::set<uint64_t> held_current;
  for (const pb::Held& h : held) {
    const core::Job* j = c.engine.job(JobId(h.id().job()));
    // A step's waiter was answered when its stream broke: what runs of it is stopped.
    if (j != nullptr && h.id().step() > 0) executor.saw_step(j->id, h.id().step());
    if (j != nullptr && is_current(*j, n, h.id())) {
      held_current.insert(j->id.value);
      track(c.engine, *j, executor);
    } else if (!h.ended()) {
      *reg->add_kill() = h.id();
    }
  }
  for (JobId id : c.engine.running_jobs()) {
    const core::Job* j = c.engine.job(id);
    if (!j->runs_on(n.id) || held_current.count(id.value)) continue;
    c.relaunch.push_back(id);
  }
}

// A step's command as an agent sent it: bounded like every text berthd takes.
Status check_step_command(const google::protobuf::RepeatedPtrField<std::string>& argv,
                          const std::string& workdir) {
  constexpr int kMaxArgs = 4096;
  constexpr size_t kMaxBytes = 256 * 1024;
  if (argv.empty()) return Status::Invalid("the step has no command");
  if (argv.size() > kMaxArgs)
    return Status::Invalid("the step has more than " + std::to_string(kMaxArgs) + " arguments");
  size_t bytes = workdir.size();
  for (const std::string& a : argv) bytes += a.size();
  if (bytes > kMaxBytes)
    return Status::Invalid("the step's command is longer than " + std::to_string(kMaxBytes) +
                           " bytes");
  if (!workdir.empty() && workdir.front() != '/')
    return Status::Invalid("the step's working directory is not absolute");
  return Status::Ok();
}

// The common name of the peer's verified certificate; "" without one.
std::string certified_name(const grpc::CallbackServerContext& context) {
  const auto auth = context.auth_context();
  if (!auth) return "";
  const auto names = auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  return names.empty() ? "" : std::string(names.front().data(), names.front().size());
}

}  // namespace

// One stream's writes, shared by its reactor and the tasks that answer it (see the header).
// The mutex is recursive because gRPC may run OnWriteDone inline from StartWrite.
class StreamState {
 public:
  explicit StreamState(Reactor* reactor) : reactor_(reactor) {}

  // Any thread: queues `m`; with `last` the stream ends once it is written. Dropped when the
  // stream is closing or gone.
  bool send(pb::ToAgent m, bool last) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!reactor_ || closing_) return false;
    queue_.push_back(std::move(m));
    closing_ = last;
    pump();
    return true;
  }
  void write_done(bool ok) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    writing_ = false;
    queue_.pop_front();
    if (!ok) {  // the stream broke: nothing more can be written
      queue_.clear();
      closing_ = true;
    }
    pump();
  }
  // The agent's side ended: finish once what is queued is written.
  void close() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    closing_ = true;
    pump();
  }
  // The reactor is done (OnDone): nothing is written from now on.
  void detach() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    reactor_ = nullptr;
  }
  bool closing() {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return closing_;
  }

 private:
  void pump() {
    if (!reactor_ || finished_ || writing_) return;
    if (!queue_.empty()) {
      writing_ = true;
      reactor_->StartWrite(&queue_.front());
    } else if (closing_) {
      finished_ = true;
      reactor_->Finish(grpc::Status::OK);
    }
  }

  std::recursive_mutex mu_;
  Reactor* reactor_;
  std::deque<pb::ToAgent> queue_;  // the front is being written while writing_
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

// One agent's stream.
class AgentStream final : public Reactor {
 public:
  // `certified`: the common name of the agent's certificate ("" without TLS).
  AgentStream(AgentService& service, std::string peer, std::string certified)
      : service_(service),
        peer_(std::move(peer)),
        certified_(std::move(certified)),
        state_(std::make_shared<StreamState>(this)) {
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return state_->close();
    if (in_.has_register_()) {
      on_register(in_.register_());
    } else if (in_.has_heartbeat()) {
      on_heartbeat(in_.heartbeat().seq());
    } else if (in_.has_ended()) {
      if (in_.ended().id().step() > 0)
        on_step_ended(in_.ended());
      else
        on_ended(in_.ended());
    } else if (in_.has_step_request()) {
      on_step_request(in_.step_request());
    }  // JobStarted needs nothing: the job was RUNNING from the batch that started it
    if (!state_->closing()) StartRead(&in_);
  }
  void OnWriteDone(bool ok) override { state_->write_done(ok); }
  void OnDone() override {
    state_->detach();
    if (registered_) service_.forget(node_, state_.get());
    delete this;
  }

 private:
  void refuse(pb::Refused::Why why, const std::string& message, int64_t retry_ms) {
    log_warning("agent at " + peer_ + " refused: " + message);
    state_->send(refusal(why, message, retry_ms), true);
  }
  void unavailable(const Status& why) {
    refuse(pb::Refused::UNAVAILABLE, "berthd cannot take the agent now: " + why.message(),
           kRetryUnavailableMs);
  }

  void on_register(const pb::Register& r) {
    if (!node_.empty())
      return refuse(pb::Refused::NOT_REGISTERED, "a second Register on one stream", 0);
    const std::string why = proto::protocol_refusal(r.protocol(), r.node(), r.agent_version());
    if (!why.empty()) return refuse(pb::Refused::VERSION, why, kRetryRefusedMs);
    // A certificate names the node on the network; the local socket, reached only from
    // berthd's state directory, has none.
    if (service_.check_certificates_ && peer_.rfind("unix:", 0) != 0 && certified_ != r.node())
      return refuse(pb::Refused::UNKNOWN_NODE,
                    "the certificate is for " + certified_ + ", not " + r.node(), kRetryRefusedMs);
    node_ = r.node();
    auto answer = std::make_shared<pb::ToAgent>();
    CoreTask task;
    task.run = [answer, node = node_, hello = hello_of(r, peer_), held = r.held(),
                executor = service_.executor_, heartbeat_ms = service_.config_.heartbeat_ms,
                epoch = service_.epoch_, fence_ms = service_.fence_ms_](CoreContext& c) {
      const core::Node* n = c.engine.cluster().node_by_name(node);
      if (n == nullptr) {
        *answer = refusal(pb::Refused::UNKNOWN_NODE,
                          "node '" + node + "' is not in berthd's configuration", kRetryRefusedMs);
        return;
      }
      if (const Status st = c.engine.agent_registered(n->id, hello, c.now_ms); !st.ok()) {
        *answer = refusal(pb::Refused::UNKNOWN_NODE, st.message(), kRetryRefusedMs);
        return;
      }
      pb::Registered* reg = answer->mutable_registered();
      reg->set_heartbeat_ms(heartbeat_ms);
      reg->set_epoch(epoch);
      reg->set_fence_ms(fence_ms);
      if (executor != nullptr) reconcile_inventory(c, *n, held, *executor, reg);
    };
    task.done = [state = state_, answer, &service = service_, node = node_, peer = peer_,
                 version = r.agent_version()](const Status& st) {
      if (!st.ok()) return unavailable_later(state, st);
      if (answer->has_refused()) {
        log_warning("agent at " + peer + " refused: " + answer->refused().message());
        state->send(*answer, true);
        return;
      }
      if (auto old = service.take_node(node, state))
        old->send(refusal(pb::Refused::DUPLICATE,
                          "a newer connection of node " + node + "'s agent replaced this one", 0),
                  true);
      state->send(*answer, false);
      log_info("node " + node + ": agent " + version + " registered from " + peer);
    };
    if (!service_.core_->submit(std::move(task))) return unavailable(shutting_down());
    registered_ = true;
  }

  // A rank's end: applied to the attempt it names, if that attempt still runs on this node;
  // a duplicate or an older attempt's end changes nothing. The job ends as GangBook says (at
  // once for a single node); a rank's end held while its job runs is acknowledged when the job
  // ends, every other end once committed, so that the agent settles it.
  void on_ended(const pb::JobEnded& e) {
    if (node_.empty())
      return refuse(pb::Refused::NOT_REGISTERED, "a job's end before the registration", 0);
    auto verdict = std::make_shared<GangBook::Verdict>();
    auto applied = std::make_shared<bool>(false);
    RemoteExecutor* executor = service_.executor_;
    CoreTask task;
    task.run = [e, verdict, applied, executor, node = node_](CoreContext& c) {
      const core::Job* j = c.engine.job(JobId(e.id().job()));
      const core::Node* n = c.engine.cluster().node_by_name(node);
      if (j == nullptr || n == nullptr || !is_current(*j, *n, e.id())) return;
      if (executor != nullptr) {
        track(c.engine, *j, *executor);
        *verdict = executor->rank_ended(j->id, e);
      } else {
        verdict->end_job = e;
      }
      if (!verdict->end_job) return;
      const pb::JobEnded& end_of = *verdict->end_job;
      core::JobEnd end{end_of.exit_code(), end_of.signal(),
                       end_of.timed_out(), end_of.stopped() && !end_of.lost(),
                       end_of.lost(),      end_of.reason(),
                       end_of.oom()};
      if (j->nodes > 1 && (end_of.launch_failed() || end_of.lost()))
        end.reason =
            "rank " + std::to_string(end_of.id().rank()) + " on " + node + ": " + end.reason;
      // Charged for the time the agent measured, never past now; a launch that never ran on
      // one of its nodes, for nothing (all or none).
      const int64_t end_ms =
          end_of.launch_failed()
              ? j->start_ms
              : std::min(c.now_ms, j->start_ms + std::max<int64_t>(0, end_of.runtime_ms()));
      const Status st = c.engine.job_ended(j->id, end, end_ms, c.now_ms);
      if (!st.ok()) log_warning("end of job " + std::to_string(j->id.value) + ": " + st.message());
      *applied = st.ok();
    };
    task.done = [state = state_, verdict, applied, executor, node = node_,
                 job = JobId(e.id().job()), seq = e.end_seq()](const Status& st) {
      if (!st.ok()) return;  // not recorded: no ack; the agent resends it
      if (executor == nullptr) {
        pb::ToAgent ack;
        ack.mutable_ack()->set_end_seq(seq);
        state->send(std::move(ack), false);
        return;
      }
      executor->settled(node, seq, verdict->hold, job);
      if (*applied) executor->finish(job);
    };
    if (!service_.core_->submit(std::move(task))) unavailable(shutting_down());
  }

  // `berth run` within a job, asked for by the agent of one of its nodes (its check of the
  // caller done): the step goes to every node of the job; the answer comes when it is over.
  void on_step_request(const pb::StepRequest& r) {
    if (node_.empty())
      return refuse(pb::Refused::NOT_REGISTERED, "a step before the registration", 0);
    auto refused = std::make_shared<std::string>();
    CoreTask task;
    task.run = [r, refused, executor = service_.executor_, node = node_](CoreContext& c) {
      *refused = start_step(c, r, executor, node);
    };
    task.done = [state = state_, refused, request = r.request()](const Status& st) {
      if (st.ok() && refused->empty()) return;
      pb::ToAgent m;
      m.mutable_step_done()->set_request(request);
      m.mutable_step_done()->set_launch_failed(true);
      m.mutable_step_done()->set_reason(st.ok() ? *refused : st.message());
      state->send(std::move(m), false);
    };
    if (!service_.core_->submit(std::move(task))) unavailable(shutting_down());
  }

  // Why the step cannot start, "" once it was sent.
  static std::string start_step(CoreContext& c, const pb::StepRequest& r, RemoteExecutor* executor,
                                const std::string& node) {
    const std::string job = "job " + std::to_string(r.id().job());
    if (executor == nullptr || c.launch == nullptr) return "berthd runs no jobs on agents";
    if (const Status st = check_step_command(r.argv(), r.workdir()); !st.ok()) return st.message();
    const core::Job* j = c.engine.job(JobId(r.id().job()));
    const core::Node* n = c.engine.cluster().node_by_name(node);
    if (j == nullptr || n == nullptr || !is_current(*j, *n, r.id()))
      return job + " does not run on " + node + " now";
    Result<executor::LaunchSpec> spec = launch_spec(c.engine, *j, *c.launch);
    if (!spec.ok()) return spec.status().message();
    track(c.engine, *j, *executor);
    const std::vector<std::string> argv(r.argv().begin(), r.argv().end());
    Result<uint32_t> step = executor->start_step(*spec, node, r.request(), argv, r.workdir());
    if (!step.ok()) return step.status().message();
    log_info(job + ": step " + std::to_string(*step) + " from " + node);
    return "";
  }

  // A rank's end of a step: applied when its job still runs in that attempt on this node.
  // Nothing of a step is kept on disk, but the end is acknowledged after the batch commits
  // like any other, so the node's cumulative ack never passes an end not yet committed.
  void on_step_ended(const pb::JobEnded& e) {
    if (node_.empty())
      return refuse(pb::Refused::NOT_REGISTERED, "a step's end before the registration", 0);
    auto applies = std::make_shared<bool>(false);
    CoreTask task;
    task.run = [e, applies, node = node_](CoreContext& c) {
      const core::Job* j = c.engine.job(JobId(e.id().job()));
      const core::Node* n = c.engine.cluster().node_by_name(node);
      pb::LaunchId job_launch = e.id();
      job_launch.set_step(0);
      *applies = j != nullptr && n != nullptr && is_current(*j, *n, job_launch);
    };
    task.done = [applies, executor = service_.executor_, e, node = node_](const Status& st) {
      if (!st.ok() || executor == nullptr) return;  // not recorded: the agent resends it
      if (*applies) executor->step_ended(e);
      executor->settled(node, e.end_seq(), false, JobId(e.id().job()));
    };
    if (!service_.core_->submit(std::move(task))) unavailable(shutting_down());
  }

  void on_heartbeat(uint64_t seq) {
    if (node_.empty())
      return refuse(pb::Refused::NOT_REGISTERED, "a heartbeat before the registration", 0);
    CoreTask task;
    auto done_jobs = std::make_shared<std::vector<JobId>>();
    task.run = [node = node_, executor = service_.executor_, done_jobs](CoreContext& c) {
      if (const core::Node* n = c.engine.cluster().node_by_name(node))
        (void)c.engine.node_heard(n->id, c.now_ms);
      // Ends held for jobs that the core ended another way (a node's timeout): released.
      if (executor != nullptr)
        for (JobId id : executor->holding()) {
          const core::Job* j = c.engine.job(id);
          if (j == nullptr || j->state != core::JobState::kRunning) done_jobs->push_back(id);
        }
    };
    task.done = [state = state_, seq, executor = service_.executor_, done_jobs](const Status& st) {
      if (!st.ok()) return;  // not recorded: no ack; the agent's next heartbeat tries again
      for (JobId id : *done_jobs) executor->finish(id);
      pb::ToAgent ack;
      ack.mutable_ack()->set_heartbeat_seq(seq);
      state->send(std::move(ack), false);
    };
    if (!service_.core_->submit(std::move(task))) unavailable(shutting_down());
  }

  // From a task's answer, where `this` may be gone: only the shared state is used.
  static void unavailable_later(const std::shared_ptr<StreamState>& state, const Status& why) {
    state->send(refusal(pb::Refused::UNAVAILABLE,
                        "berthd cannot take the agent now: " + why.message(), kRetryUnavailableMs),
                true);
  }

  AgentService& service_;
  const std::string peer_;
  const std::string certified_;
  const std::shared_ptr<StreamState> state_;
  pb::FromAgent in_;
  std::string node_;         // from its Register
  bool registered_ = false;  // its registration went to the core loop
};

Reactor* AgentService::Connect(grpc::CallbackServerContext* context) {
  return new AgentStream(*this, context->peer(), certified_name(*context));
}

bool AgentService::send_to(const std::string& node, pb::ToAgent message) {
  std::shared_ptr<StreamState> stream;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(node);
    if (it == streams_.end()) return false;
    stream = it->second;
  }
  return stream->send(std::move(message), false);
}

size_t AgentService::streams() const {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_.size();
}

std::shared_ptr<StreamState> AgentService::take_node(const std::string& node,
                                                     std::shared_ptr<StreamState> stream) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<StreamState>& slot = streams_[node];
  std::shared_ptr<StreamState> old = std::move(slot);
  slot = std::move(stream);
  return old;
}

void AgentService::forget(const std::string& node, const StreamState* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = streams_.find(node);
  if (it != streams_.end() && it->second.get() == stream) streams_.erase(it);
}

namespace {

std::shared_ptr<grpc::ServerCredentials> credentials(const std::optional<TlsFiles>& tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls->ca_pem;
  options.pem_key_cert_pairs.push_back({tls->key_pem, tls->cert_pem});
  return grpc::SslServerCredentials(options);
}

}  // namespace

Status AgentServer::listen(const std::optional<TlsFiles>& tls, const std::string& local_socket) {
  const AgentsConfig& config = config_;
  service_->check_certificates(tls.has_value());
  grpc::ServerBuilder builder;
  // Agents may ping to find a dead connection; a heartbeat is data, so pings are rare.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  if (!config.listen.empty()) builder.AddListeningPort(config.listen, credentials(tls), &port_);
  int local_port = 0;
  if (!local_socket.empty()) {
    ::unlink(local_socket.c_str());  // left by a berthd that stopped
    builder.AddListeningPort("unix:" + local_socket, grpc::InsecureServerCredentials(),
                             &local_port);
  }
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || (!config.listen.empty() && port_ == 0))
    return Status(Code::kUnavailable,
                  "cannot listen for agents on " + config.listen +
                      (tls ? " (or its TLS certificate, key or CA is not valid PEM)" : ""));
  if (!local_socket.empty() && local_port == 0)
    return Status(Code::kUnavailable, "cannot listen for local agents on " + local_socket);
  return Status::Ok();
}

void AgentServer::shutdown() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

AgentServer::~AgentServer() { shutdown(); }

}  // namespace berth::server
