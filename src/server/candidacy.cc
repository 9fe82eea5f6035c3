#include "server/candidacy.h"

#include <chrono>
#include <thread>

#include "server/frontend.h"
#include "server/log.h"
#include "store/pg_lease.h"
#include "store/pg_script_store.h"
#include "store/pg_store.h"

namespace berth::server {

namespace {

using json = nlohmann::json;

int64_t mono_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

}  // namespace

// What a standby serves: liveness, readiness (503, naming the leader) and 503 not_leader for the
// rest, so that clients go to the leader.
class StandbyServer {
 public:
  // `leadership` is read for each request, so it must be set before start().
  StandbyServer(const DaemonConfig& config, const std::shared_ptr<Leadership>& leadership)
      : frontend_(router_, config.http) {
    router_.Get("/livez", [](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, json{{"status", "ok"}});
    });
    router_.Get("/readyz", [&leadership](const httplib::Request&, httplib::Response& res) {
      send_json(res, 503, leadership->describe());
    });
    const auto refuse = [&leadership](const httplib::Request&, httplib::Response& res) {
      res.set_header("Retry-After", "1");
      send_json(res, 503, leadership->not_leader_body());
    };
    router_.Get(".*", refuse);
    router_.Post(".*", refuse);
  }
  ~StandbyServer() {
    frontend_.stop();
    if (thread_.joinable()) thread_.join();
  }
  Result<int> bind(const std::string& host, int port) { return frontend_.bind(host, port); }
  void start() {
    thread_ = std::thread([this] { frontend_.run(); });
  }
  void stop() { frontend_.stop(); }

 private:
  Router router_;
  Frontend frontend_;
  std::thread thread_;
};

Candidacy::Candidacy(DaemonConfig config, OpenLease open_lease, OpenStore open_store)
    : config_(std::move(config)),
      open_lease_(std::move(open_lease)),
      open_store_(std::move(open_store)) {}

Candidacy::~Candidacy() { stop(); }

std::unique_ptr<Candidacy> Candidacy::OnPostgres(DaemonConfig config) {
  const std::string url = config.store.url;
  store::PgOptions options;
  // A stopped leader's open transaction holds the lease's row: it ends within a lease.
  options.idle_in_transaction_ms = config.store.lease_ms;
  auto migrated = std::make_shared<bool>(false);
  OpenLease open_lease = [url, migrated]() -> Result<std::unique_ptr<store::Lease>> {
    if (!*migrated) {
      BERTH_RETURN_IF_ERROR(store::PgStore::Open(url).status());
      *migrated = true;
    }
    BERTH_ASSIGN_OR_RETURN(auto lease, store::PgLease::Open(url));
    return std::unique_ptr<store::Lease>(std::move(lease));
  };
  OpenStore open_store = [url, options](uint64_t epoch, DaemonSeams* seams) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto store, store::PgStore::Open(url, options));
    store->fence(epoch);
    BERTH_ASSIGN_OR_RETURN(auto scripts, store::PgScriptStore::Open(url));
    seams->store = std::move(store);
    seams->scripts = std::move(scripts);
    return Status::Ok();
  };
  return std::make_unique<Candidacy>(std::move(config), std::move(open_lease),
                                     std::move(open_store));
}

bool Candidacy::pause_ms(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  wake_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
  return !stopping_;
}

void Candidacy::stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  if (daemon_ != nullptr) daemon_->stop();
  if (standby_ != nullptr) standby_->stop();
  wake_.notify_all();
}

void Candidacy::step_down(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!leading_) return;
  leading_ = false;
  log_error("stepping down: " + why);
  if (daemon_ != nullptr) daemon_->stop();
  wake_.notify_all();
}

Status Candidacy::run() {
  BERTH_ASSIGN_OR_RETURN(state_dir_, make_state_dir(config_.state_dir));
  http_port_ = config_.listen_port;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return Status::Ok();
    }
    auto lease = open_lease_();
    if (!lease.ok()) {
      log_error("cannot reach the store for the lease; trying again: " + lease.status().ToString());
      if (!pause_ms(config_.store.lease_ms / 3)) return Status::Ok();
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(const uint64_t epoch, stand_by(**lease));
    if (epoch == 0) return Status::Ok();
    BERTH_RETURN_IF_ERROR(lead(**lease, epoch));
  }
}

Result<uint64_t> Candidacy::stand_by(store::Lease& lease) {
  auto server = std::make_unique<StandbyServer>(config_, leadership_);
  auto port = server->bind(config_.listen_host, http_port_);
  if (!port.ok())
    return Status(Code::kUnavailable, "cannot listen on " + config_.listen_host + ":" +
                                          std::to_string(http_port_) + ": " +
                                          port.status().message());
  if (leadership_ == nullptr) {
    // The first turn: the port port 0 gave is kept for every later one.
    http_port_ = *port;
    leadership_ = std::make_shared<Leadership>(
        candidate_of(config_, http_port_, listen_port(config_.agents.listen)), "postgresql");
  }
  write_port_file(state_dir_ + "/berthd.port", http_port_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return 0;
    standby_ = server.get();
  }
  server->start();
  log_info("standing by at " + leadership_->me().http_address + " as " + leadership_->me().name);
  uint64_t epoch = 0;
  int64_t last_logged_ms = 0;
  while (epoch == 0) {
    // Read first, so that the audit record can name whom this berthd took over from.
    auto before = lease.current();
    auto info = before.ok() ? lease.try_acquire(leadership_->me(), config_.store.lease_ms)
                            : Result<store::LeaderInfo>(before.status());
    if (info.ok()) {
      leadership_->set(*info);
      if (info->holder.id == leadership_->me().id) epoch = info->epoch, took_from_ = *before;
    } else if (mono_ms() - last_logged_ms >= 10'000) {
      last_logged_ms = mono_ms();
      log_error("cannot reach the store for the lease; trying again: " + info.status().ToString());
    }
    if (epoch == 0 && !pause_ms(config_.store.lease_ms / 3)) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    standby_ = nullptr;
  }
  return epoch;
}

Status Candidacy::lead(store::Lease& lease, uint64_t epoch) {
  log_info("took the lease at epoch " + std::to_string(epoch) + "; loading the state");
  DaemonSeams seams = berthd_seams();
  if (Status opened = open_store_(epoch, &seams); !opened.ok()) {
    log_error("cannot open the store to lead; giving the lease back: " + opened.ToString());
    (void)lease.release(epoch);
    pause_ms(config_.store.lease_ms);
    return Status::Ok();
  }
  DaemonConfig config = config_;
  config.listen_port = http_port_;
  seams.epoch = epoch;
  seams.leadership = leadership_;
  seams.store_failed = [this](const std::string& what, const Status& error) {
    step_down(what + " failed: " + error.ToString());
  };
  auto daemon = Daemon::Open(std::move(config), std::move(seams));
  if (!daemon.ok()) {
    (void)lease.release(epoch);
    // The store away while the state loaded: stand by again. Anything else (books that do not
    // verify, a state directory berthd cannot use) needs a person.
    if (daemon.status().code() != Code::kUnavailable) return daemon.status();
    log_error("cannot load the state to lead; standing by again: " + daemon.status().ToString());
    pause_ms(config_.store.lease_ms);
    return Status::Ok();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      (void)lease.release(epoch);
      return Status::Ok();
    }
    daemon_ = daemon->get();
    leading_ = true;
  }
  if (Status st = (*daemon)->record_takeover(took_from_); !st.ok())
    step_down("cannot record the takeover: " + st.ToString());
  std::thread keeper([&] { keep_lease(lease, epoch); });
  const Status served = (*daemon)->run();
  {
    std::lock_guard<std::mutex> lock(mu_);
    daemon_ = nullptr;
    leading_ = false;
    wake_.notify_all();
  }
  keeper.join();
  daemon->reset();
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping = stopping_;
  }
  if (stopping || !served.ok()) (void)lease.release(epoch);
  store::LeaderInfo none = leadership_->info();
  none.expires_ms = none.now_ms;  // not ours any more: a standby names no leader till it reads
  leadership_->set(none);
  return served;
}

// Renews every third of the lease; steps down when another berthd took it over, or when the
// store could not be reached for a whole lease (by this machine's monotonic clock, so that a
// leader cut off from the store lets its agents go to the next one).
void Candidacy::keep_lease(store::Lease& lease, uint64_t epoch) {
  const int64_t lease_ms = config_.store.lease_ms;
  int64_t renewed_ms = mono_ms();
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(lease_ms / 3),
                     [this] { return stopping_ || !leading_; });
      if (stopping_ || !leading_) return;
    }
    auto renewed = lease.renew(epoch, lease_ms);
    if (renewed.ok() && *renewed) {
      renewed_ms = mono_ms();
      if (auto info = lease.current(); info.ok()) leadership_->set(*info);
    } else if (renewed.ok()) {
      return step_down("another berthd took the lease over");
    } else if (mono_ms() - renewed_ms >= lease_ms) {
      return step_down("could not renew the lease for " + std::to_string(lease_ms) +
                       " ms: " + renewed.status().ToString());
    }
  }
}

}  // namespace berth::server
