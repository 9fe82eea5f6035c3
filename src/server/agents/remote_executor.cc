#include "server/agents/remote_executor.h"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "server/agents/agent_service.h"
#include "server/launch_spec.h"
#include "server/log.h"

namespace berth::server {

namespace pb = ::berth::agent::v1;

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The launch as the agent runs it: the executor's spec, with the script's bytes.
pb::Launch launch_message(const executor::LaunchSpec& s, const std::string& script,
                          uint64_t epoch) {
  pb::Launch l;
  l.mutable_id()->set_job(s.job.value);
  l.mutable_id()->set_attempt(s.attempt);
  l.set_epoch(epoch);
  l.set_fenceable(s.fenceable);
  pb::JobSpec* j = l.mutable_spec();
  j->set_script(script);
  for (const std::string& a : s.args) j->add_args(a);
  j->set_workdir(s.workdir);
  j->set_stdout_path(s.stdout_path);
  j->set_stderr_path(s.stderr_path);
  j->set_append_output(s.append_output);
  for (int g : s.gpus) j->add_gpus(g);
  j->set_cpus(s.cpus);
  j->set_memory_mb(s.memory_mb);
  j->mutable_env()->insert(s.env.begin(), s.env.end());
  j->set_user(s.user);
  j->set_allow_root(s.allow_root);
  j->set_time_limit_ms(s.time_limit_ms);
  j->set_grace_ms(s.grace_ms);
  j->set_warn_signal(s.warn_signal);
  j->set_warn_before_ms(s.warn_before_ms);
  j->set_warn_leader_only(s.warn_leader_only);
  return l;
}

// Rank `rank`'s own Launch: its node's GPUs and rank variables; a rank past 0 of a batch job
// holds its node (the job's cgroup and GPUs, for its steps) with a process that waits to be
// stopped, its output discarded.
void set_rank(const executor::LaunchSpec& spec, uint32_t rank, pb::Launch* l) {
  l->mutable_id()->set_rank(rank);
  if (rank == 0) return;
  pb::JobSpec* j = l->mutable_spec();
  j->clear_gpus();
  for (int g : spec.more_ranks[rank - 1].gpus) j->add_gpus(g);
  std::map<std::string, std::string> env(j->env().begin(), j->env().end());
  set_rank_variables(static_cast<int>(rank), &env);
  j->mutable_env()->clear();
  j->mutable_env()->insert(env.begin(), env.end());
  if (spec.every_node) return;
  j->set_script("#!/bin/sh\nexec sleep infinity\n");
  j->clear_args();
  j->set_stdout_path("/dev/null");
  j->set_stderr_path("/dev/null");
  j->set_time_limit_ms(0);  // rank 0's limit ends the job, and then this rank
  j->set_warn_signal(0);
}

}  // namespace

Result<std::string> RemoteExecutor::read_script_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("no file " + path);
  std::stringstream script;
  script << in.rdbuf();
  return script.str();
}

Result<int> RemoteExecutor::launch(const executor::LaunchSpec& spec) {
  auto script = read_script_(spec.script_path);
  if (!script.ok())
    return Status::Invalid("its script " + spec.script_path +
                           " cannot be read: " + script.status().message());
  pb::Launch first = launch_message(spec, *script, epoch_);
  std::vector<std::string> nodes{spec.node};
  for (const executor::LaunchSpec::Rank& r : spec.more_ranks) nodes.push_back(r.node);
  {
    std::lock_guard<std::mutex> lock(mu_);
    book_.sent(spec.job.value, spec.attempt, nodes, spec.every_node, steady_ms());
  }
  for (uint32_t rank = 0; rank < nodes.size(); ++rank) {
    pb::ToAgent m;
    *m.mutable_launch() = first;
    set_rank(spec, rank, m.mutable_launch());
    // Without a stream now (its agent is reconnecting), the job stays RUNNING: the agent's next
    // registration shows it does not hold it, and it is sent again; if the agent never comes
    // back, the node's timeout ends it as lost.
    if (!agents_.send_to(nodes[rank], std::move(m)))
      log_warning("job " + std::to_string(spec.job.value) + ": node " + nodes[rank] +
                  "'s agent is not connected; it gets the job when it registers");
  }
  return 0;  // the process groups are the agents' business
}

void RemoteExecutor::signal_ranks(JobId job,
                                  const std::vector<std::pair<std::string, uint32_t>>& ranks,
                                  uint32_t attempt, int64_t grace_ms, uint32_t step) {
  for (const auto& [node, rank] : ranks) {
    pb::ToAgent m;
    pb::Signal* s = m.mutable_signal();
    s->mutable_id()->set_job(job.value);
    s->mutable_id()->set_attempt(attempt);
    s->mutable_id()->set_rank(rank);
    s->mutable_id()->set_step(step);
    s->set_epoch(epoch_);
    s->set_signal(SIGTERM);  // then SIGKILL after grace_ms
    s->set_grace_ms(grace_ms);
    if (!agents_.send_to(node, std::move(m)))
      log_warning("job " + std::to_string(job.value) + ": cannot stop rank " +
                  std::to_string(rank) + " now: node " + node + "'s agent is not connected");
  }
}

Status RemoteExecutor::terminate(JobId job, int64_t grace_ms) {
  std::vector<std::pair<std::string, uint32_t>> live;
  uint32_t attempt = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!book_.knows(job.value))
      return Status::NotFound("job " + std::to_string(job.value) + " was not sent to an agent");
    live = book_.live_ranks(job.value);
    attempt = book_.attempt(job.value);
  }
  signal_ranks(job, live, attempt, grace_ms);
  return Status::Ok();
}

size_t RemoteExecutor::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.size();
}

void RemoteExecutor::track(JobId job, uint32_t attempt, std::vector<std::string> nodes,
                           bool every_node) {
  std::lock_guard<std::mutex> lock(mu_);
  book_.sent(job.value, attempt, std::move(nodes), every_node);
}

bool RemoteExecutor::tracks(JobId job) const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.knows(job.value);
}

GangBook::Verdict RemoteExecutor::rank_ended(JobId job, const pb::JobEnded& end) {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.on_end(job.value, end);
}

void RemoteExecutor::send_ack(const std::string& node, uint64_t ack) {
  if (ack == 0) return;
  pb::ToAgent m;
  m.mutable_ack()->set_end_seq(ack);
  (void)agents_.send_to(node, std::move(m));  // without a stream, the agent resends its ends
}

void RemoteExecutor::settled(const std::string& node, uint64_t seq, bool hold, JobId job) {
  uint64_t ack = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ack = book_.received(node, seq, hold, job.value);
  }
  send_ack(node, ack);
}

void RemoteExecutor::finish(JobId job) {
  std::vector<std::pair<std::string, uint64_t>> acks;
  std::vector<std::pair<std::string, uint32_t>> live;
  std::vector<std::pair<std::string, pb::StepDone>> steps;
  uint32_t attempt = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    acks = book_.release(job.value);
    live = book_.live_ranks(job.value);
    attempt = book_.attempt(job.value);
    book_.forget(job.value);
    steps = steps_.close_job(job.value, "job " + std::to_string(job.value) + " ended");
  }
  signal_ranks(job, live, attempt, grace_ms_);  // the agents stop the job's steps with it
  for (const auto& [node, ack] : acks) send_ack(node, ack);
  for (auto& [node, done] : steps) answer_step(node, std::move(done));
}

Result<uint32_t> RemoteExecutor::start_step(const executor::LaunchSpec& job,
                                            const std::string& requester, uint64_t request,
                                            const std::vector<std::string>& argv,
                                            const std::string& workdir) {
  std::vector<std::string> nodes{job.node};
  for (const executor::LaunchSpec::Rank& r : job.more_ranks) nodes.push_back(r.node);
  uint32_t step = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!book_.knows(job.job.value))
      return Status::NotFound("job " + std::to_string(job.job.value) + " was not sent to agents");
    step = steps_.open(job.job.value, nodes, requester, request);
  }
  pb::Launch l;
  l.mutable_id()->set_job(job.job.value);
  l.mutable_id()->set_attempt(job.attempt);
  l.mutable_id()->set_step(step);
  l.set_epoch(epoch_);
  l.set_fenceable(job.fenceable);
  pb::JobSpec* j = l.mutable_spec();
  j->set_script("#!/bin/sh\nexec \"$@\"\n");
  for (const std::string& a : argv) j->add_args(a);
  j->set_workdir(workdir.empty() ? job.workdir : workdir);
  j->set_stdout_path(job.stdout_path);
  j->set_stderr_path(job.stderr_path);
  j->set_append_output(true);  // beside the job's script and the other ranks
  for (uint32_t rank = 0; rank < nodes.size(); ++rank) {
    pb::ToAgent m;
    *m.mutable_launch() = l;
    m.mutable_launch()->mutable_id()->set_rank(rank);
    if (!agents_.send_to(nodes[rank], std::move(m))) {
      // All or none: the ranks sent are stopped by the end this makes.
      pb::JobEnded lost;
      *lost.mutable_id() = l.id();
      lost.mutable_id()->set_rank(rank);
      lost.set_launch_failed(true);
      lost.set_reason("node " + nodes[rank] + "'s agent is not connected");
      step_ended(lost);
      break;
    }
  }
  return step;
}

void RemoteExecutor::step_ended(const pb::JobEnded& end) {
  StepBook::Verdict v;
  uint32_t attempt = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    v = steps_.on_end(end);
    attempt = book_.attempt(end.id().job());
  }
  signal_ranks(JobId(end.id().job()), v.stop, attempt, grace_ms_, end.id().step());
  if (v.done) answer_step(v.done->first, std::move(v.done->second));
}

void RemoteExecutor::rank_started(const pb::JobStarted& started) {
  if (started.id().step() != 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  book_.started(started.id().job(), started.id().attempt(), started.id().rank());
}

std::vector<RemoteExecutor::Overdue> RemoteExecutor::overdue(int64_t timeout_ms) {
  std::vector<Overdue> late;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [job, rank] : book_.overdue(steady_ms(), timeout_ms)) {
    const std::vector<std::pair<std::string, uint32_t>> live = book_.live_ranks(job);
    std::string node;
    for (const auto& [n, r] : live)
      if (r == rank) node = n;
    late.push_back({JobId(job), rank, node});
  }
  return late;
}

void RemoteExecutor::saw_step(JobId job, uint32_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  steps_.saw(job.value, step);
}

void RemoteExecutor::answer_step(const std::string& node, pb::StepDone done) {
  pb::ToAgent m;
  *m.mutable_step_done() = std::move(done);
  (void)agents_.send_to(node, std::move(m));  // without a stream, the agent failed its caller
}

std::vector<JobId> RemoteExecutor::holding() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JobId> jobs;
  for (uint64_t id : book_.holding()) jobs.push_back(JobId(id));
  return jobs;
}

void RemoteExecutor::node_registered(const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  book_.node_registered(node);
}

}  // namespace berth::server
