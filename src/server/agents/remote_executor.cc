#include "server/agents/remote_executor.h"

#include <signal.h>

#include <fstream>
#include <sstream>

#include "server/agents/agent_service.h"
#include "server/log.h"

namespace berth::server {

namespace pb = ::berth::agent::v1;

namespace {

// The launch as the agent runs it: the executor's spec, with the script's bytes.
Result<pb::Launch> launch_message(const executor::LaunchSpec& s, uint64_t epoch) {
  std::ifstream in(s.script_path, std::ios::binary);
  if (!in) return Status::Invalid("its script " + s.script_path + " cannot be read");
  std::stringstream script;
  script << in.rdbuf();
  pb::Launch l;
  l.mutable_id()->set_job(s.job.value);
  l.mutable_id()->set_attempt(s.attempt);
  l.set_epoch(epoch);
  l.set_fenceable(s.fenceable);
  pb::JobSpec* j = l.mutable_spec();
  j->set_script(script.str());
  for (const std::string& a : s.args) j->add_args(a);
  j->set_workdir(s.workdir);
  j->set_stdout_path(s.stdout_path);
  j->set_stderr_path(s.stderr_path);
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

}  // namespace

Result<int> RemoteExecutor::launch(const executor::LaunchSpec& spec) {
  BERTH_ASSIGN_OR_RETURN(pb::Launch l, launch_message(spec, epoch_));
  pb::ToAgent m;
  *m.mutable_launch() = l;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sent_[spec.job.value] = Where{spec.node, l.id()};
  }
  // Without a stream now (its agent is reconnecting), the job stays RUNNING: the agent's next
  // registration shows it does not hold it, and it is sent again; if the agent never comes
  // back, the node's timeout ends it as lost.
  if (!agents_.send_to(spec.node, std::move(m)))
    log_warning("job " + std::to_string(spec.job.value) + ": node " + spec.node +
                "'s agent is not connected; it gets the job when it registers");
  return 0;  // the process group is the agent's business
}

Status RemoteExecutor::terminate(JobId job, int64_t grace_ms) {
  Where where;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sent_.find(job.value);
    if (it == sent_.end())
      return Status::NotFound("job " + std::to_string(job.value) + " was not sent to an agent");
    where = it->second;
  }
  pb::ToAgent m;
  pb::Signal* s = m.mutable_signal();
  *s->mutable_id() = where.id;
  s->set_epoch(epoch_);
  s->set_signal(SIGTERM);  // then SIGKILL after grace_ms
  s->set_grace_ms(grace_ms);
  if (!agents_.send_to(where.node, std::move(m)))
    return Status(Code::kUnavailable, "node " + where.node + "'s agent is not connected");
  return Status::Ok();
}

size_t RemoteExecutor::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_.size();
}

void RemoteExecutor::adopt(JobId job, const std::string& node, const pb::LaunchId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  sent_[job.value] = Where{node, id};
}

void RemoteExecutor::forget(JobId job) {
  std::lock_guard<std::mutex> lock(mu_);
  sent_.erase(job.value);
}

}  // namespace berth::server
