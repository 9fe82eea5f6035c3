// PgLease: the leader's lease (lease.h) as the one row of a PostgreSQL store's `leader` table,
// on a connection of its own. Every time is the database's clock (clock_timestamp()), so the
// candidates' clocks never have to agree. Taking the lease is one conditional UPDATE (only when
// it is free: never held, or run out), so two candidates racing for it cannot both win; the
// row's lock also waits for a leader's commit that holds it FOR SHARE (PgStore::fence).
// A lost connection fails the call kUnavailable; the next call reconnects.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "store/lease.h"
#include "store/pg_db.h"

namespace berth::store {

class PgLease final : public Lease {
 public:
  // Connects to `url`, a store that Open() migrated (it has the leader table).
  static Result<std::unique_ptr<PgLease>> Open(const std::string& url);

  Result<LeaderInfo> try_acquire(const Candidate& me, int64_t lease_ms) override;
  Result<bool> renew(uint64_t epoch, int64_t lease_ms) override;
  Result<LeaderInfo> current() override;
  Status release(uint64_t epoch) override;

 private:
  explicit PgLease(const std::string& url);

  pg::Session session_;
};

}  // namespace berth::store
