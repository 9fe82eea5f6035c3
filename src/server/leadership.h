// What a berthd knows of who leads the berthds sharing its store (docs/high-availability.md):
// for /readyz, GET /v1/admin/leader and a standby's answers. With SQLite there is one berthd
// and it always leads; on PostgreSQL the lease (store/lease.h) decides.
//
// Thread-safe: the candidate or lease keeper updates it, HTTP threads read it.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "store/lease.h"

namespace berth::server {

class Leadership {
 public:
  // `store_kind` is "sqlite" or "postgresql".
  Leadership(store::Candidate me, std::string store_kind);

  // The lease as last read, and whether this berthd holds it.
  void set(const store::LeaderInfo& info);
  store::LeaderInfo info() const;
  bool leading() const;
  const store::Candidate& me() const { return me_; }
  const std::string& store_kind() const { return store_kind_; }

  // GET /v1/admin/leader's body: {"store", "epoch", "leader": {"name", "http_address",
  // "agents_address"}, "since_ms", "expires_ms", "this": {"name", "role"}}.
  nlohmann::json describe() const;
  // A standby's answer to the API: 503 not_leader naming the leader ("" when none leads now).
  nlohmann::json not_leader_body() const;
  std::string leader_http_address() const;

 private:
  const store::Candidate me_;
  const std::string store_kind_;
  mutable std::mutex mu_;
  store::LeaderInfo info_;
};

// This berthd as a candidate: a random id, its name ([store] name, else the host name) and the
// addresses it is reached at ([store] advertise and agents_advertise, else its listeners, with
// a wildcard host replaced by the host name). `http_port` is the port it listens on.
store::Candidate candidate_of(const DaemonConfig& config, int http_port, int agents_port);

}  // namespace berth::server
