#include "server/daemon.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <httplib.h>
#include <set>

#include "executor/local_executor.h"
#include "server/agents/remote_executor.h"
#include "server/auth.h"
#include "server/log.h"
#include "server/frontend.h"
#include "server/internal_error.h"
#include "server/local_agents.h"
#include "server/views.h"
#include "store/state_dir.h"

namespace berth::server {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

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
void kill_orphans(const std::string& run_marker, const std::string& state_dir,
                  const std::set<uint64_t>& running) {
  DIR* proc = opendir("/proc");
  if (!proc) return;
  const std::string marker = std::string("BERTH_RUN=") + run_marker + '\0';
  const std::string legacy_marker = std::string("BERTH_STATE_DIR=") + state_dir + '\0';
  while (dirent* d = readdir(proc)) {
    const std::string pid = d->d_name;
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string env = read_environ(pid);
    if (env.find(marker) == std::string::npos && env.find(legacy_marker) == std::string::npos)
      continue;
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

// A script is read from the state directory, else from the store's copy (kept there by the
// berthd that received it), by the name script_file gives it: <digest>.sh.
RemoteExecutor::ReadScript shared_script_reader(std::shared_ptr<store::ScriptStore> scripts) {
  return [scripts](const std::string& path) -> Result<std::string> {
    auto text = RemoteExecutor::read_script_file(path);
    if (text.ok() || text.status().code() != Code::kNotFound) return text;
    std::string name = fs::path(path).filename().string();
    if (!name.ends_with(".sh")) return text;
    name.resize(name.size() - 3);
    return scripts->get(name);
  };
}

// The in-memory state is ahead of the disk; the only safe course is to stop and let a restart
// reload what was committed. Nothing of the batch was acknowledged.
[[noreturn]] void stop_on_store_failure(const std::string& what, const Status& st,
                                        store::Store& store) {
  log_critical("FATAL: " + what + " failed, stopping: " + st.ToString());
  // A database deleted or replaced under berthd is still open here: save what it holds.
  if (auto saved = store.rescue(); saved.ok())
    log_critical("the database as berthd last committed it is saved in " + *saved +
                 ": to go on from it, move it to berth.db, remove berth.db-wal and berth.db-shm,"
                 " and start berthd");
  std::_Exit(70);
}

// A request's work. The routes guard their handlers (server/internal_error.h); work queued
// otherwise is guarded here the same way: an exception is a bug, a 500 with an error id.
Reply run_work(const Daemon::Work& work, CoreContext& c) {
  return guarded([&] { return work(c); }, "work on the core thread");
}

}  // namespace

// With its scripts/ folder, made private.
Result<std::string> make_state_dir(const std::string& state_dir) {
  std::error_code ec;
  fs::create_directories(fs::path(state_dir) / "scripts", ec);
  if (ec) {
    // Say whose permissions are wanting: those of the nearest directory that exists.
    fs::path at = fs::absolute(state_dir) / "scripts";
    while (!fs::exists(at) && at.has_parent_path() && at != at.parent_path()) at = at.parent_path();
    const Status writable = store::CheckWritable(at.string());
    return Status::Internal("cannot create the state directory " + state_dir + ": " +
                            (writable.ok() ? ec.message() : writable.message()));
  }
  const std::string dir = fs::canonical(state_dir).string();
  // Only berthd reads its state: jobs, which may run as this same user, get their scripts as a
  // descriptor (executor/README.md), never a path in here.
  if (chmod(dir.c_str(), 0700) != 0)
    return Status::Internal("cannot make state directory " + dir +
                            " private: " + std::strerror(errno));
  chmod((dir + "/scripts").c_str(), 0700);
  return dir;
}

void write_port_file(const std::string& path, int port) { std::ofstream(path) << port << "\n"; }

DaemonSeams berthd_seams() {
  DaemonSeams seams;
  seams.clock = std::make_unique<RealClock>();
  seams.make_executor = [](executor::ExitCallback report) {
    // Each job in its own cgroup when berthd is root (src/executor/cgroup.h); this berthd's
    // under a folder of its own, so that several can share a machine.
    auto cgroups = executor::detect_cgroups("berth/berthd-" + std::to_string(::getpid()));
    if (!cgroups.ok() && ::geteuid() == 0)
      log_warning("jobs run without cgroups (no memory or CPU limits, every GPU device open): " +
                  cgroups.status().message());
    return std::make_unique<executor::LocalExecutor>(std::move(report),
                                                     cgroups.ok() ? std::move(*cgroups) : nullptr);
  };
  return seams;
}

Reply error_reply(const Status& st) {
  return {http_status(st.code()),
          json{{"error", {{"code", code_name(st.code())}, {"message", st.message()}}}}};
}

Daemon::Daemon(DaemonConfig config, std::unique_ptr<Clock> clock)
    : config_(std::move(config)), clock_(std::move(clock)) {}

// The core loop's destructor stops its thread (an orderly stop, if it ran) and the executor.
Daemon::~Daemon() { stop(); }

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
  if (run_marker_.size() == 32 &&
      run_marker_.find_first_not_of("0123456789abcdef") == std::string::npos)
    return Status::Ok();
  run_marker_ = new_token().substr(0, 32);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const std::string line = run_marker_ + "\n";
  const bool ok =
      fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  if (fd >= 0) ::close(fd);
  if (!ok) return Status::Internal("cannot write " + path);
  return Status::Ok();
}

Result<std::unique_ptr<Daemon>> Daemon::Open(DaemonConfig config) {
  BERTH_ASSIGN_OR_RETURN(auto state_dir, make_state_dir(config.state_dir));
  // Refuses a read-only directory, a damaged database, and an empty or foreign one where the
  // directory had state, before anything here (admin.token) is written.
  BERTH_ASSIGN_OR_RETURN(auto store, store::OpenStateStore(state_dir));
  for (const char* f : {"berth.db", "berth.db-wal", "berth.db-shm", "admin.token", "berthd.port"})
    chmod((state_dir + "/" + f).c_str(), 0600);  // a state dir from an older berth
  if (::geteuid() != 0)  // said once, at start: a laptop's berthd runs everything as its user
    if (const passwd* pw = ::getpwuid(::geteuid()))
      log_info(std::string("berthd is not root: every job runs as ") + pw->pw_name +
               ", without cgroups, whoever submits it");
  DaemonSeams seams = berthd_seams();
  seams.store = std::move(store);
  return Open(std::move(config), std::move(seams));
}

Result<std::unique_ptr<Daemon>> Daemon::Open(DaemonConfig config, DaemonSeams seams) {
  std::unique_ptr<Daemon> d(new Daemon(std::move(config), std::move(seams.clock)));
  std::error_code ec;
  d->state_dir_ = fs::canonical(d->config_.state_dir, ec).string();
  if (ec)
    return Status::Internal("cannot open the state directory " + d->config_.state_dir + ": " +
                            ec.message());
  BERTH_RETURN_IF_ERROR(d->load_run_marker());
  const DaemonConfig& c = d->config_;
  const LaunchSettings launch{d->state_dir_, d->run_marker_,    ::geteuid() == 0,
                              c.job_user,    c.allow_root_jobs, c.grace_ms};
  CoreLoop::Hooks hooks;
  hooks.stop_orphans = [marker = d->run_marker_, dir = d->state_dir_](
                           const std::set<uint64_t>& jobs) { kill_orphans(marker, dir, jobs); };
  if (seams.store_failed) {
    hooks.store_failed = [failed = seams.store_failed](const std::string& what, const Status& st,
                                                       store::Store&) { failed(what, st); };
  } else {
    hooks.store_failed = stop_on_store_failure;
  }
  d->epoch_ = seams.epoch != 0 ? seams.epoch : static_cast<uint64_t>(d->clock_->now_ms());
  d->leadership_ = std::move(seams.leadership);
  d->scripts_ = std::move(seams.scripts);
  // With agents, they run the jobs: berthd's executor sends each launch to its node's agent,
  // and a job outlives berthd. The epoch tells the agents this berthd from an earlier one.
  const bool agents = agents_run_jobs(c.agents);
  RemoteExecutor* remote = nullptr;
  if (agents) {
    const uint64_t epoch = d->epoch_;
    d->agents_ = std::make_unique<AgentServer>(c.agents, epoch, fence_ms(c));
    if (fence_ms(c) == 0)
      log_warning(
          "agents.node_timeout_s leaves no room for a fencing lease (it must exceed the "
          "grace period and three heartbeats): a --requeue job cut off from berthd may "
          "run on while it is requeued elsewhere");
    seams.make_executor = [&remote, service = &d->agents_->service(), epoch, grace = c.grace_ms,
                           scripts = d->scripts_](executor::ExitCallback) {
      auto r = std::make_unique<RemoteExecutor>(*service, epoch, grace);
      if (scripts) r->set_script_reader(shared_script_reader(scripts));
      remote = r.get();
      return r;
    };
  }
  CoreLoop::Settings settings{c.cluster, c.scheduling, launch};
  settings.node_timeout_ms = agents ? c.agents.node_timeout_ms : 0;
  settings.jobs_outlive_berthd = agents;
  BERTH_ASSIGN_OR_RETURN(d->core_,
                         CoreLoop::Open(std::move(settings), std::move(seams.store), *d->clock_,
                                        seams.make_executor, std::move(hooks)));
  if (d->agents_) d->agents_->service().attach(d->core_.get(), remote);
  BERTH_RETURN_IF_ERROR(d->ensure_admin_token());
  if (!c.agents.listen.empty() && c.agents.tls == AgentsTls::kBerthCa) {
    BERTH_ASSIGN_OR_RETURN(d->node_ca_,
                           NodeCa::Open(d->state_dir_ + "/ca", c.centre.name,
                                        listen_host(c.agents.listen), d->clock_->now_ms() / 1000));
    BERTH_ASSIGN_OR_RETURN(d->cert_book_, CertBook::Open(d->state_dir_ + "/ca"));
    if (d->agents_) d->agents_->service().check_revocations(d->cert_book_.get());
  }
  return d;
}

Reply Daemon::call(Work work) {
  Reply reply;
  std::promise<Reply> answered;
  std::future<Reply> answer = answered.get_future();
  // call() waits for `done`, so the task may refer to what lives here.
  CoreTask task;
  task.run = [&](CoreContext& c) { reply = run_work(work, c); };
  task.done = [&](const Status& st) {
    answered.set_value(st.ok() ? std::move(reply) : error_reply(st));
  };
  if (!core_->submit(std::move(task))) return error_reply(shutting_down());
  return answer.get();
}

Status Daemon::run() {
  router_ = std::make_unique<Router>();
  install_routes(*router_);
  auto frontend = std::make_unique<Frontend>(*router_, config_.http);
  auto port = frontend->bind(config_.listen_host, config_.listen_port);
  if (!port.ok())
    return Status(Code::kUnavailable, "cannot listen on " + config_.listen_host + ":" +
                                          std::to_string(config_.listen_port) + ": " +
                                          port.status().message());
  port_ = *port;
  if (agents_) BERTH_RETURN_IF_ERROR(listen_for_agents());
  write_port_file(state_dir_ + "/berthd.port", port_);
  if (leadership_ == nullptr) {  // alone on SQLite: this berthd leads, since it opened
    const int agents_port = agents_ && !config_.agents.listen.empty() ? agents_->port() : 0;
    leadership_ = std::make_shared<Leadership>(candidate_of(config_, port_, agents_port), "sqlite");
    store::LeaderInfo info;
    info.epoch = epoch_;
    info.holder = leadership_->me();
    info.since_ms = static_cast<int64_t>(epoch_);
    info.now_ms = clock_->now_ms();
    leadership_->set(info);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    frontend_ = std::move(frontend);
    if (stopping_) frontend_->stop();  // stopped before it started
  }
  core_->start();
  log_info("listening on http://" + config_.listen_host + ":" + std::to_string(port_) +
           " (state in " + state_dir_ + ")");
  frontend_->run();
  stop();
  core_->join();
  if (agents_) {
    // Local agents exit once their jobs have ended (those go on); the next start starts them.
    if (config_.agents.local)
      for (const core::Node& n : config_.cluster.nodes) {
        ::berth::agent::v1::ToAgent m;
        m.mutable_exit_when_idle();
        (void)agents_->service().send_to(n.name, std::move(m));
      }
    agents_->shutdown();
  }
  return Status::Ok();
}

Status Daemon::record_takeover(const store::LeaderInfo& before) {
  const store::Candidate& me = leadership_->me();
  std::string note = "epoch " + std::to_string(epoch_) + ", at " + me.http_address;
  if (before.epoch != 0 && before.holder.id != me.id)
    note += ", after " + before.holder.name + " (epoch " + std::to_string(before.epoch) + ")";
  core_->engine().record_access(core::Engine::AccessAction::kTakeover, "berthd " + me.name,
                                std::move(note), clock_->now_ms());
  return core_->commit_changes();
}

void Daemon::shut_out_agent(const std::string& node, const std::string& why) {
  if (agents_) (void)agents_->service().shut_out(node, why);
}

Status Daemon::listen_for_agents() {
  std::optional<TlsFiles> tls;
  if (!config_.agents.listen.empty()) {
    BERTH_ASSIGN_OR_RETURN(tls, listener_tls(config_.agents, node_ca_.get()));
  }
  const bool local = config_.agents.local;
  BERTH_RETURN_IF_ERROR(agents_->listen(tls, local ? local_agents_socket(state_dir_) : ""));
  if (!config_.agents.listen.empty()) {
    write_port_file(state_dir_ + "/berthd.agents-port", agents_->port());
    log_info("listening for agents on " + config_.agents.listen + " (port " +
             std::to_string(agents_->port()) + ")");
  }
  if (local) BERTH_RETURN_IF_ERROR(start_local_agents(config_.cluster, state_dir_));
  return Status::Ok();
}

void Daemon::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (frontend_) frontend_->stop();
  }
  if (core_) core_->stop();
}

}  // namespace berth::server
