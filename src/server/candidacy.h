// berthd on a shared (PostgreSQL) store (docs/high-availability.md): a candidate that stands by
// until it holds the lease, then leads until it is stopped or loses the lease, then stands by
// again. Every berthd on such a store runs this; there is no separate standby mode.
//
// - Standing by, it listens on its HTTP address: /livez answers 200, /readyz 503 with the
//   leader's address, and every other route 503 not_leader naming the leader (Leadership). It
//   does not listen for agents: they try the next server. It tries the lease every third of it.
// - Holding the lease at epoch E, it opens the store fenced at E (a commit after another took
//   over fails and writes nothing), loads the state (Daemon::Open, with E as the agents' epoch),
//   records the takeover in the audit record, and serves. A lease keeper renews the lease every
//   third of it; it steps down (stops the daemon) when the lease was taken over, when it could not
//   renew for a whole lease (cut off from the store), or when a write to the store fails (a
//   fenced commit, or the store away longer than its retries).
// - On stop() it stops serving and releases the lease, so a standby takes over at once.
//
// Threads: run() on berthd's main thread; stop() from any (the signal thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "config/config.h"
#include "server/daemon.h"
#include "server/leadership.h"
#include "store/lease.h"
#include "store/store.h"

namespace berth::server {

class Candidacy {
 public:
  using OpenLease = std::function<Result<std::unique_ptr<store::Lease>>()>;
  // Gives `seams` the store, fenced at `epoch`, and the shared job scripts.
  using OpenStore = std::function<Status(uint64_t epoch, DaemonSeams* seams)>;

  Candidacy(DaemonConfig config, OpenLease open_lease, OpenStore open_store);
  // On config.store.url's PostgreSQL database (store/pg_store.h, pg_lease.h, pg_script_store.h);
  // the database is migrated before the first try of the lease.
  static std::unique_ptr<Candidacy> OnPostgres(DaemonConfig config);
  ~Candidacy();

  // Stands by and leads in turn until stop(). An error only for what no retry mends (the
  // listener's address taken, a state directory berthd cannot use).
  Status run();
  void stop();

 private:
  // Stands by until this berthd holds the lease or stop(); the lease's epoch, or 0 when stopped.
  Result<uint64_t> stand_by(store::Lease& lease);
  // Leads at `epoch` until stop() or a step down.
  Status lead(store::Lease& lease, uint64_t epoch);
  void keep_lease(store::Lease& lease, uint64_t epoch);
  void step_down(const std::string& why);
  // Sleeps up to ms; false once stopping.
  bool pause_ms(int64_t ms);

  DaemonConfig config_;
  OpenLease open_lease_;
  OpenStore open_store_;
  std::shared_ptr<Leadership> leadership_;
  std::string state_dir_;  // absolute
  int http_port_ = 0;      // the port once bound (config's, or the one port 0 gave)
  store::LeaderInfo took_from_;  // the lease as it stood before this berthd took it

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool leading_ = false;          // a daemon serves (under mu_)
  Daemon* daemon_ = nullptr;      // while leading (under mu_)
  class StandbyServer* standby_ = nullptr;  // while standing by (under mu_)
};

}  // namespace berth::server
