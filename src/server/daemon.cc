#include "server/daemon.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <set>

#include "core/check.h"
#include "executor/local_executor.h"
#include "server/auth.h"
#include "server/launch_spec.h"
#include "server/log.h"
#include "server/frontend.h"
#include "server/views.h"
#include "store/state_dir.h"

namespace berth::server {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
constexpr size_t kMaxBatch = 4096;        // requests applied per batch
constexpr int64_t kHeartbeatMs = 1000;    // berthd records it is alive at least this often

// Reads a process's environment; empty when it cannot be read (not ours, or gone).
std::string read_environ(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/environ", std::ios::binary);
  if (!in) return {};
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Kills the process groups of jobs left running by an earlier berthd of this state dir.
// A process is ours only if its environment holds this state dir's BERTH_RUN marker (a random
// id that reveals nothing about the state dir) and names a running job. Jobs started by a
// berth from before BERTH_RUN carry BERTH_STATE_DIR instead.
void kill_orphans(const std::string& run_marker, const std::string& state_dir, const std::set<uint64_t>& running) {
  DIR* proc = opendir("/proc");
  if (!proc) return;
  const std::string marker = std::string("BERTH_RUN=") + run_marker + '\0';
  const std::string legacy_marker = std::string("BERTH_STATE_DIR=") + state_dir + '\0';
  while (dirent* d = readdir(proc)) {
    const std::string pid = d->d_name;
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string env = read_environ(pid);
    if (env.find(marker) == std::string::npos && env.find(legacy_marker) == std::string::npos) continue;
    const size_t at = env.find("BERTH_JOB_ID=");
    if (at == std::string::npos) continue;
    const uint64_t job = std::strtoull(env.c_str() + at + 13, nullptr, 10);
    if (!running.count(job)) continue;
    const pid_t p = static_cast<pid_t>(std::stol(pid));
    const pid_t group = getpgid(p);
    if (group > 1) kill(-group, SIGKILL);
    kill(p, SIGKILL);
    log_warning("killed orphaned process " + pid + " of job " + std::to_string(job));
  }
  closedir(proc);
}

}  // namespace

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Reply error_reply(const Status& st) {
  return {http_status(st.code()), json{{"error", {{"code", code_name(st.code())}, {"message", st.message()}}}}};
}

Daemon::Daemon(DaemonConfig config) : config_(std::move(config)) {}

Daemon::~Daemon() {
  stop();
  if (core_thread_.joinable()) core_thread_.join();
  // Their threads report into mu_ and exits_, which are destroyed before them otherwise.
  launcher_.reset();
  executor_.reset();
}

std::string Daemon::admin_token_path() const { return state_dir_ + "/admin.token"; }

// Each state dir has a random id of its own, kept in run.id; its jobs carry it as BERTH_RUN so
// that a restarted berthd finds the orphans of its predecessor without jobs learning where the
// state dir is.
Status Daemon::load_run_marker() {
  const std::string path = state_dir_ + "/run.id";
  {
    std::ifstream in(path);
    std::getline(in, run_marker_);
  }
  if (run_marker_.size() == 32 && run_marker_.find_first_not_of("0123456789abcdef") == std::string::npos)
    return Status::Ok();
  run_marker_ = new_token().substr(0, 32);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const std::string line = run_marker_ + "\n";
  const bool ok = fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  if (fd >= 0) ::close(fd);
  if (!ok) return Status::Internal("cannot write " + path);
  return Status::Ok();
}

Result<std::unique_ptr<Daemon>> Daemon::Open(DaemonConfig config) {
  std::unique_ptr<Daemon> d(new Daemon(std::move(config)));
  std::error_code ec;
  fs::create_directories(fs::path(d->config_.state_dir) / "scripts", ec);
  if (ec) {
    // Say whose permissions are wanting: those of the nearest directory that exists.
    fs::path at = fs::absolute(d->config_.state_dir) / "scripts";
    while (!fs::exists(at) && at.has_parent_path() && at != at.parent_path()) at = at.parent_path();
    const Status writable = store::CheckWritable(at.string());
    return Status::Internal("cannot create the state directory " + d->config_.state_dir + ": " +
                            (writable.ok() ? ec.message() : writable.message()));
  }
  d->state_dir_ = fs::canonical(d->config_.state_dir).string();
  // Only berthd reads its state: jobs, which may run as this same user, get their scripts as a
  // descriptor (executor/README.md), never a path in here.
  if (chmod(d->state_dir_.c_str(), 0700) != 0)
    return Status::Internal("cannot make state directory " + d->state_dir_ + " private: " + std::strerror(errno));
  chmod((d->state_dir_ + "/scripts").c_str(), 0700);
  // Refuses a read-only directory, a damaged database, and an empty or foreign one where the
  // directory had state, before anything here (admin.token) is written.
  auto store = store::OpenStateStore(d->state_dir_);
  if (!store.ok()) return store.status();
  d->store_ = std::move(*store);
  for (const char* f : {"berth.db", "berth.db-wal", "berth.db-shm", "admin.token", "berthd.port"})
    chmod((d->state_dir_ + "/" + f).c_str(), 0600);  // a state dir from an older berth
  BERTH_RETURN_IF_ERROR(d->load_run_marker());
  int64_t last_alive_ms = 0;
  auto rows = d->store_->load(&last_alive_ms);
  // Only rows outside the jobs (the books, funding, tokens) fail a load: a job row that cannot
  // be read is set aside by Restore instead, so that one bad job never keeps berthd down.
  if (!rows.ok()) return Status(rows.status().code(), "cannot load the state: " + rows.status().message());
  const int64_t now = wall_clock_ms();
  const bool fresh = rows->accounts.empty();
  auto engine = fresh ? core::Engine::Create(d->config_.cluster, now, d->config_.scheduling)
                     : core::Engine::Restore(d->config_.cluster, *rows, d->config_.scheduling);
  if (!engine.ok()) return Status(engine.status().code(), "cannot load the state: " + engine.status().message());
  d->engine_ = std::move(*engine);
  // Logged here, once: the commit in recover() writes these jobs back readable.
  for (const core::SetAsideJob& s : d->engine_->set_aside_at_restore())
    log_warning("job " + std::to_string(s.job.value) + (s.kept ? " kept as it was, with a default for: " : " set aside (FAILED): ") +
             "its stored row could not be loaded: " + s.problem);
  BERTH_RETURN_IF_ERROR(d->recover(fresh ? now : last_alive_ms));
  // An administrator's drain or down outlives a restart: each configured node takes the state
  // stored under its name. After recover(), so that no running job is ended a second time.
  auto stored_nodes = d->store_->nodes();
  if (!stored_nodes.ok()) return stored_nodes.status();
  for (const core::Node& s : *stored_nodes) {
    const core::Node* n = d->engine_->cluster().node_by_name(s.name);
    if (n == nullptr || n->state == s.state) continue;
    auto ended = d->engine_->set_node_state(n->id, s.state, now);
    if (!ended.ok()) return ended.status();
  }
  BERTH_RETURN_IF_ERROR(d->store_->put_nodes(d->engine_->cluster().nodes()));
  for (const core::Node& n : d->engine_->cluster().nodes()) d->stored_node_states_.push_back(n.state);
  BERTH_RETURN_IF_ERROR(d->ensure_admin_token());
  Daemon* self = d.get();
  auto report = [self](const executor::JobExit& exit) { self->report_exit(exit); };
  d->executor_ = std::make_unique<executor::LocalExecutor>(report);
  d->launcher_ = std::make_unique<executor::LaunchQueue>(*d->executor_, report, log_info);
  return d;
}

// Jobs that were running when the last berthd stopped have lost their supervisor: their
// processes are killed, and they end as NODE_FAIL (or are requeued) charged up to the last
// moment berthd was known alive.
Status Daemon::recover(int64_t last_alive_ms) {
  const std::vector<JobId> running = engine_->running_jobs();
  const int64_t now = wall_clock_ms();
  std::set<uint64_t> ids;
  for (JobId id : running) ids.insert(id.value);
  // A running job set aside at restore may still have processes; they go the same way.
  for (const core::SetAsideJob& s : engine_->set_aside_at_restore())
    if (s.was_running) ids.insert(s.job.value);
  if (!ids.empty()) kill_orphans(run_marker_, state_dir_, ids);
  if (!running.empty()) {
    for (JobId id : running) {
      core::JobEnd end;
      end.lost = true;
      end.reason = "berthd stopped while it ran";
      BERTH_RETURN_IF_ERROR(engine_->job_ended(id, end, last_alive_ms, now));
      log_warning("job " + std::to_string(id.value) + " was running when berthd stopped: " +
               core::job_state_name(engine_->job(id)->state));
    }
  }
  BERTH_RETURN_IF_ERROR(store_->commit(engine_->drain_changes(), now));
  last_commit_ms_ = now;
  return Status::Ok();
}

Reply Daemon::call(Work work) {
  auto task = std::make_unique<Task>();
  task->work = std::move(work);
  std::future<Reply> reply = task->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return error_reply(Status(Code::kUnavailable, "berthd is shutting down"));
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return reply.get();
}

void Daemon::core_loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(kHeartbeatMs),
                     [this] { return stopping_ || !tasks_.empty() || !exits_.empty(); });
      if (stopping_) break;
    }
    run_batch();
  }
  {
    // Answer whatever is still queued so no HTTP thread waits forever.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : tasks_) t->done.set_value(error_reply(Status(Code::kUnavailable, "berthd is shutting down")));
    tasks_.clear();
  }
  stop_running_jobs();
}

// An orderly stop ends the jobs it supervises rather than leaving them to run unbilled:
// each gets SIGTERM and its grace period, then ends as NODE_FAIL (or is requeued if it
// asked to be), charged for exactly the time it ran.
void Daemon::stop_running_jobs() {
  const std::vector<JobId> running = engine_->running_jobs();
  if (running.empty()) return;
  log_info("stopping " + std::to_string(running.size()) + " running job(s)");
  for (JobId id : running) launcher_->terminate(id, config_.grace_ms);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.grace_ms + 5000);
  std::unique_lock<std::mutex> lock(mu_);
  wake_.wait_until(lock, deadline, [&] { return exits_.size() >= running.size(); });
  std::vector<executor::JobExit> exits(exits_.begin(), exits_.end());
  exits_.clear();
  lock.unlock();
  const int64_t now = wall_clock_ms();
  for (const executor::JobExit& x : exits) {
    if (x.cancelled) continue;  // it ended on its own just before the stop: a normal end
    (void)engine_->job_ended(x.job, core::JobEnd{x.exit_code, x.term_signal, x.timed_out, false, false, x.reason}, now, now);
  }
  core::JobEnd lost;
  lost.lost = true;
  lost.reason = "berthd was stopped while it ran";
  for (JobId id : running)
    if (engine_->job(id)->state == core::JobState::kRunning) (void)engine_->job_ended(id, lost, now, now);
  const Status st = store_->commit(engine_->drain_changes(), now);
  if (!st.ok()) log_error("commit at shutdown failed: " + st.ToString());
}

void Daemon::run_batch() {
  std::vector<std::unique_ptr<Task>> batch;
  std::vector<executor::JobExit> exits;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!tasks_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(std::move(tasks_.front()));
      tasks_.pop_front();
    }
    exits.assign(exits_.begin(), exits_.end());
    exits_.clear();
  }
  const int64_t now = wall_clock_ms();
  CoreContext ctx{*engine_, now, {}};
  for (const executor::JobExit& x : exits) {
    core::JobEnd end{x.exit_code, x.term_signal, x.timed_out, x.cancelled, false, x.reason};
    const Status st = engine_->job_ended(x.job, end, now, now);
    if (!st.ok()) log_warning("job end of " + std::to_string(x.job.value) + " ignored: " + st.ToString());
  }
  std::vector<Reply> replies;
  replies.reserve(batch.size());
  for (auto& t : batch) {
    try {
      replies.push_back(t->work(ctx));
    } catch (const std::exception& e) {
      // A last resort: handlers parse their input and answer with a Status, so an exception
      // here is a bug in berthd, not the caller's mistake. It is logged to be noticed and
      // answered as a 500 without the internal detail.
      log_error(std::string("BUG: a request's handler threw: ") + e.what());
      replies.push_back(error_reply(Status::Internal("internal error")));
    }
  }
  engine_->expire(now);
  const std::vector<JobId> started = engine_->schedule(now);
  for (JobId id : engine_->take_preemptions()) ctx.terminate.push_back(id);
  core::ChangeSet changes = engine_->drain_changes();
  if (!changes.empty() || now - last_commit_ms_ >= kHeartbeatMs) {
    const Status st = store_->commit(changes, now);
    if (!st.ok()) {
      // The in-memory state is ahead of the disk; the only safe course is to stop and
      // let a restart reload what was committed. Nothing of this batch was acknowledged.
      log_critical("FATAL: commit failed, stopping: " + st.ToString());
      // A database deleted or replaced under berthd is still open here: save what it holds.
      if (auto saved = store_->rescue(); saved.ok())
        log_critical("the database as berthd last committed it is saved in " + *saved +
                     ": to go on from it, move it to berth.db, remove berth.db-wal and berth.db-shm, and start berthd");
      std::_Exit(70);
    }
    last_commit_ms_ = now;
  }
  // Node states changed in this batch (POST /v1/nodes/{name}/state) are on disk before any
  // reply, like the batch's other changes.
  const std::vector<core::Node>& nodes = engine_->cluster().nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].state == stored_node_states_[i]) continue;
    const Status st = store_->put_node_state(nodes[i].name, nodes[i].state);
    if (!st.ok()) {
      log_critical("FATAL: recording the state of node " + nodes[i].name + " failed, stopping: " + st.ToString());
      std::_Exit(70);
    }
    stored_node_states_[i] = nodes[i].state;
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i]->done.set_value(std::move(replies[i]));
  for (JobId id : ctx.terminate) launcher_->terminate(id, config_.grace_ms);
  for (JobId id : started) launch(id);
}

// The reason is kept with the job, so it is bounded (the store allows 1024 bytes), cut on a
// UTF-8 character boundary.
void Daemon::report_exit(executor::JobExit exit) {
  constexpr size_t kMaxReasonBytes = 1000;
  if (exit.reason.size() > kMaxReasonBytes) {
    size_t cut = kMaxReasonBytes;
    while (cut > 0 && (static_cast<unsigned char>(exit.reason[cut]) & 0xC0) == 0x80) --cut;
    exit.reason.resize(cut);
    exit.reason += "...";
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    exits_.push_back(std::move(exit));
  }
  wake_.notify_one();
}

// Hands a started job to the launch queue; one whose launch description cannot be used ends at
// once, FAILED with the reason, charged only for the instant it held its GPUs.
void Daemon::launch(JobId id) {
  LaunchSettings settings{state_dir_, run_marker_, ::geteuid() == 0, config_.job_user, config_.allow_root_jobs,
                          config_.grace_ms};
  Result<executor::LaunchSpec> spec = launch_spec(*engine_, *engine_->job(id), settings);
  if (spec.ok()) return launcher_->launch(std::move(*spec));
  executor::JobExit exit;
  exit.job = id;
  exit.exit_code = 127;
  exit.reason = "cannot start: " + spec.status().message();
  log_info("job " + std::to_string(id.value) + " " + exit.reason);
  report_exit(std::move(exit));
}

Status Daemon::run() {
  router_ = std::make_unique<Router>();
  install_routes(*router_);
  auto frontend = std::make_unique<Frontend>(*router_, config_.http);
  auto port = frontend->bind(config_.listen_host, config_.listen_port);
  if (!port.ok())
    return Status(Code::kUnavailable, "cannot listen on " + config_.listen_host + ":" + std::to_string(config_.listen_port) +
                                          ": " + port.status().message());
  port_ = *port;
  {
    std::ofstream(state_dir_ + "/berthd.port") << port_ << "\n";
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    frontend_ = std::move(frontend);
    if (stopping_) frontend_->stop();  // stopped before it started
  }
  core_thread_ = std::thread([this] { core_loop(); });
  log_info("listening on http://" + config_.listen_host + ":" + std::to_string(port_) + " (state in " + state_dir_ + ")");
  frontend_->run();
  stop();
  if (core_thread_.joinable()) core_thread_.join();
  return Status::Ok();
}

void Daemon::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (frontend_) frontend_->stop();
  }
  wake_.notify_all();
}

}  // namespace berth::server
