#include "agent/job_runner.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "executor/local_executor.h"
#include "executor/proc_stat.h"

namespace berth::agent {

namespace pb = ::berth::agent::v1;
namespace fs = std::filesystem;

namespace {

LaunchKey key_of(const pb::LaunchId& id) {
  return LaunchKey{id.job(), id.attempt(), id.rank(), id.step()};
}

void set_id(const LaunchKey& k, pb::LaunchId* id) {
  id->set_job(k.job);
  id->set_attempt(k.attempt);
  id->set_rank(k.rank);
  id->set_step(k.step);
}

pb::FromAgent started_message(const LaunchRecord& r) {
  pb::FromAgent m;
  set_id(r.key, m.mutable_started()->mutable_id());
  m.mutable_started()->set_epoch(r.epoch);
  m.mutable_started()->set_started_unix_ms(r.started_unix_ms);
  return m;
}

pb::FromAgent ended_message(const LaunchRecord& r) {
  pb::FromAgent m;
  pb::JobEnded* e = m.mutable_ended();
  set_id(r.key, e->mutable_id());
  const EndReport& end = *r.end;
  e->set_end_seq(r.end_seq);
  e->set_exit_code(end.exit_code);
  e->set_signal(end.signal);
  e->set_runtime_ms(end.runtime_ms);
  e->set_oom(end.oom);
  e->set_timed_out(end.timed_out);
  e->set_stopped(end.stopped);
  e->set_launch_failed(end.launch_failed);
  e->set_reason(end.reason);
  e->set_lost(end.lost);
  return m;
}

// Writes `bytes` to `path`, readable by root alone (the executor reads it as the agent).
Status write_script(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Internal("cannot write the job's script " + path);
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ::close(fd);
  if (!ok) return Status::Internal("cannot write the job's script " + path);
  return Status::Ok();
}

}  // namespace

JobRunner::JobRunner(std::string state_dir, const Clock& clock, std::unique_ptr<AgentStore> store,
                     Send send)
    : state_dir_(std::move(state_dir)),
      clock_(clock),
      store_(std::move(store)),
      send_(std::move(send)) {}

JobRunner::~JobRunner() { executor_.reset(); }

Result<std::unique_ptr<JobRunner>> JobRunner::Open(const std::string& state_dir, const Clock& clock,
                                                   const MakeExecutor& make_executor, Send send) {
  std::error_code ec;
  fs::create_directories(state_dir + "/scripts", ec);
  if (ec)
    return Status::Internal("cannot make the agent's state dir " + state_dir + ": " + ec.message());
  ::chmod(state_dir.c_str(), 0700);
  BERTH_ASSIGN_OR_RETURN(auto store, AgentStore::Open(state_dir + "/agent.db"));
  BERTH_ASSIGN_OR_RETURN(AgentStore::Book book, store->load());
  std::unique_ptr<JobRunner> r(new JobRunner(state_dir, clock, std::move(store), std::move(send)));
  r->book_.restore(std::move(book.records), book.max_epoch, book.last_end_seq);
  r->executor_ = make_executor([raw = r.get()](const executor::JobExit& x) { raw->exited(x); });
  // What the last agent ran: its processes are not this agent's children (see the header).
  std::lock_guard<std::mutex> lock(r->mu_);
  std::vector<LaunchKey> left;
  for (const LaunchRecord* rec : r->book_.inventory())
    if (!rec->end) left.push_back(rec->key);
  for (const LaunchKey& k : left) {
    const LaunchRecord* rec = r->book_.find(k);
    if (rec->pgid > 0) executor::kill_orphan_job(rec->pgid, JobId(k.job));
    EndReport end;
    end.stopped = true;
    end.signal = rec->pgid > 0 ? SIGKILL : 0;
    end.runtime_ms =
        rec->started_unix_ms > 0 ? std::max<int64_t>(0, clock.now_ms() - rec->started_unix_ms) : 0;
    end.launch_failed = rec->started_unix_ms == 0;
    end.lost = true;
    end.reason = "berth-agent restarted";
    r->end(k, end);
  }
  return r;
}

executor::LaunchSpec JobRunner::spec_of(const pb::Launch& launch,
                                        const std::string& script_path) const {
  const pb::JobSpec& j = launch.spec();
  executor::LaunchSpec s;
  s.job = JobId(launch.id().job());
  s.attempt = launch.id().attempt();
  s.script_path = script_path;
  s.args.assign(j.args().begin(), j.args().end());
  s.workdir = j.workdir();
  s.stdout_path = j.stdout_path();
  s.stderr_path = j.stderr_path();
  s.append_output = j.append_output();
  s.gpus.assign(j.gpus().begin(), j.gpus().end());
  s.cpus = j.cpus();
  s.memory_mb = j.memory_mb();
  s.env.insert(j.env().begin(), j.env().end());
  s.user = j.user();
  s.allow_root = j.allow_root();
  s.time_limit_ms = j.time_limit_ms();
  s.grace_ms = j.grace_ms();
  s.warn_signal = j.warn_signal();
  s.warn_before_ms = j.warn_before_ms();
  s.warn_leader_only = j.warn_leader_only();
  if (!step_socket_.empty()) s.env["BERTH_STEP_SOCKET"] = step_socket_;
  return s;
}

Result<executor::LaunchSpec> JobRunner::step_spec(const pb::Launch& step,
                                                  const std::string& script_path) const {
  auto it = job_launches_.find(step.id().job());
  if (it == job_launches_.end() || it->second.id().attempt() != step.id().attempt())
    return Status::NotFound("job " + std::to_string(step.id().job()) +
                            " does not run on this node now");
  executor::LaunchSpec s = spec_of(it->second, script_path);
  const pb::JobSpec& j = step.spec();
  s.step = step.id().step();
  s.args.assign(j.args().begin(), j.args().end());
  if (!j.workdir().empty()) s.workdir = j.workdir();
  s.stdout_path = j.stdout_path();
  s.stderr_path = j.stderr_path();
  s.append_output = true;  // beside the job's script and its other ranks
  s.time_limit_ms = 0;     // the job's limit ends the job, and then its steps
  s.warn_signal = 0;
  for (const char* k : {"BERTH_STEP_ID", "SLURM_STEP_ID"}) s.env[k] = std::to_string(s.step);
  return s;
}

Result<pb::LaunchId> JobRunner::step_caller(uint64_t job, int pid, unsigned uid) const {
  const std::string name = "job " + std::to_string(job);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = job_launches_.find(job);
  const LaunchRecord* rec =
      it == job_launches_.end() ? nullptr : book_.find(key_of(it->second.id()));
  if (rec == nullptr || !rec->running || rec->pgid <= 0)
    return Status::NotFound(name + " does not run on this node");
  const std::string& user = it->second.spec().user();
  unsigned want = ::geteuid();
  if (!user.empty()) {
    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) return Status::NotFound(name + "'s user " + user + " is unknown here");
    want = pw->pw_uid;
  }
  if (uid != want)
    return Status::Denied("the caller (uid " + std::to_string(uid) + ") is not " + name +
                          "'s user");
  if (!executor::in_process_tree(pid, rec->pgid))
    return Status::Denied("the caller (pid " + std::to_string(pid) + ") is not a process of " +
                          name);
  return it->second.id();
}

void JobRunner::stop_steps(uint64_t job) {
  for (auto it = running_.lower_bound({job, 1}); it != running_.end() && it->first.first == job;
       ++it)
    (void)executor_->terminate_step(JobId(job), it->first.second, 0);
}

bool JobRunner::on_launch(const pb::Launch& launch) {
  const LaunchKey key = key_of(launch.id());
  std::lock_guard<std::mutex> lock(mu_);
  switch (book_.on_launch(key, launch.epoch(), launch.fenceable())) {
    case LaunchDecision::kStaleEpoch:
      spdlog::warn("{} refused: epoch {} is older than {}", to_string(key), launch.epoch(),
                   book_.max_epoch());
      return false;
    case LaunchDecision::kHeld: {  // answered as it stands
      const LaunchRecord& r = *book_.find(key);
      if (r.end)
        send_(ended_message(r));
      else if (r.running)
        send_(started_message(r));
      return true;
    }
    case LaunchDecision::kStart:
      break;
  }
  EndReport failed;
  failed.exit_code = 127;
  failed.launch_failed = true;
  if (const Status st = save(key); !st.ok()) {  // never run what could not be recorded
    failed.reason = "berth-agent cannot record the launch: " + st.message();
    end(key, failed);
    return true;
  }
  const std::string script = state_dir_ + "/scripts/" + std::to_string(key.job) + "." +
                             std::to_string(key.attempt) + "." + std::to_string(key.rank) + "." +
                             std::to_string(key.step);
  Result<executor::LaunchSpec> spec = key.step == 0
                                          ? Result<executor::LaunchSpec>(spec_of(launch, script))
                                          : step_spec(launch, script);
  Status wrote = spec.status();
  if (wrote.ok()) wrote = write_script(script, launch.spec().script());
  Result<int> pgid = wrote.ok() ? executor_->launch(*spec) : Result<int>(wrote);
  ::unlink(script.c_str());
  if (!pgid.ok()) {
    failed.reason = pgid.status().message();
    end(key, failed);
    return true;
  }
  book_.started(key, clock_.now_ms(), *pgid);
  running_[{key.job, key.step}] = key;
  grace_[{key.job, key.step}] = spec->grace_ms;
  if (key.step == 0) {
    pb::Launch& kept = job_launches_[key.job] = launch;  // for its steps
    kept.mutable_spec()->clear_script();
  }
  (void)save(key);  // logged; the end will be written and sent whatever happens here
  send_(started_message(*book_.find(key)));
  if (launch.fenceable()) fenceable_changed();
  return true;
}

bool JobRunner::on_signal(const pb::Signal& signal) {
  const LaunchKey key = key_of(signal.id());
  std::lock_guard<std::mutex> lock(mu_);
  if (!book_.accept_epoch(signal.epoch())) return false;
  const LaunchRecord* r = book_.find(key);
  if (r == nullptr || !r->running) return true;  // ended meanwhile: its end says so
  const Status st = executor_->terminate_step(JobId(key.job), key.step, signal.grace_ms());
  if (!st.ok()) spdlog::warn("stopping {}: {}", to_string(key), st.message());
  return true;
}

void JobRunner::on_ack(uint64_t end_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (const Status st = store_->settle(end_seq); !st.ok())
    spdlog::error("settling ends up to {}: {}", end_seq, st.message());
  book_.acked(end_seq);
}

void JobRunner::on_registered(const pb::Registered& registered) {
  std::vector<LaunchKey> ended_there;
  for (const pb::LaunchId& id : registered.kill()) ended_there.push_back(key_of(id));
  std::lock_guard<std::mutex> lock(mu_);
  book_.accept_epoch(registered.epoch());
  for (const LaunchKey& k : book_.to_kill(ended_there)) {
    spdlog::warn("{} already ended for berthd: killing what is left of it", to_string(k));
    if (book_.find(k)->running) (void)executor_->terminate_step(JobId(k.job), k.step, 0);
  }
}

void JobRunner::fill_register(pb::Register* reg) const {
  std::lock_guard<std::mutex> lock(mu_);
  reg->set_max_epoch_seen(book_.max_epoch());
  for (const LaunchRecord* r : book_.inventory()) {
    pb::Held* h = reg->add_held();
    set_id(r->key, h->mutable_id());
    h->set_epoch(r->epoch);
    h->set_ended(r->end.has_value());
  }
}

void JobRunner::resend_ends() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const LaunchRecord* r : book_.unacked_ends()) send_(ended_message(*r));
}

size_t JobRunner::fence() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t stopped = 0;
  for (const LaunchKey& k : book_.fenced()) {
    const ExecKey x{k.job, k.step};
    if (!book_.find(k)->running || fencing_.count(x)) continue;
    spdlog::warn("{}: berthd silent past the lease; stopping it, as berthd may requeue it",
                 to_string(k));
    fencing_[x] = true;
    (void)executor_->terminate_step(JobId(k.job), k.step, grace_[x]);
    ++stopped;
  }
  return stopped;
}

void JobRunner::on_fenceable_change(FenceableChanged f) {
  std::lock_guard<std::mutex> lock(mu_);
  fenceable_changed_ = std::move(f);
}

void JobRunner::fenceable_changed() {
  if (!fenceable_changed_) return;
  std::vector<FenceRecorder::Running> running;
  for (const LaunchKey& k : book_.fenced())
    if (const LaunchRecord* r = book_.find(k); r->running)
      running.push_back({k, r->pgid, grace_[{k.job, k.step}]});
  fenceable_changed_(running);
}

size_t JobRunner::running() const { return executor_->running(); }

void JobRunner::exited(const executor::JobExit& x) {
  std::lock_guard<std::mutex> lock(mu_);
  const ExecKey exec{x.job.value, x.step};
  auto it = running_.find(exec);
  if (it == running_.end()) return;
  const LaunchKey key = it->second;
  running_.erase(it);
  grace_.erase(exec);
  const bool fenced_by_watchdog = take_fence_mark(state_dir_, key);
  const bool fenced = fencing_.erase(exec) > 0 || fenced_by_watchdog;
  if (key.step == 0) {  // the job ended here: so do its steps
    job_launches_.erase(key.job);
    stop_steps(key.job);
  }
  EndReport e;
  e.exit_code = x.exit_code;
  e.signal = x.term_signal;
  e.runtime_ms = x.runtime_ms;
  e.timed_out = x.timed_out;
  e.oom = x.oom;
  e.stopped = x.cancelled;
  e.reason = x.reason;
  if (fenced) {
    e.lost = true;
    e.reason = "fenced: berthd was silent past the lease";
  }
  end(key, e);
  if (book_.find(key)->fenceable) fenceable_changed();
}

void JobRunner::end(const LaunchKey& key, const EndReport& report) {
  book_.ended(key, report);
  (void)save(key);  // logged: the end is sent anyway, and resent while this agent runs
  send_(ended_message(*book_.find(key)));
}

Status JobRunner::save(const LaunchKey& key) {
  const Status st = store_->put(*book_.find(key), book_.max_epoch());
  if (!st.ok()) spdlog::error("recording {}: {}", to_string(key), st.message());
  return st;
}

}  // namespace berth::agent
