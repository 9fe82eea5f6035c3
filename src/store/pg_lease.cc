#include "store/pg_lease.h"

#include <cstdlib>

namespace berth::store {

namespace {

int changed_rows(const PGresult* r) { return std::atoi(PQcmdTuples(const_cast<PGresult*>(r))); }

}  // namespace

PgLease::PgLease(const std::string& url) : session_(url, pg::ConnectOptions{}) {}

Result<std::unique_ptr<PgLease>> PgLease::Open(const std::string& url) {
  std::unique_ptr<PgLease> lease(new PgLease(url));
  BERTH_RETURN_IF_ERROR(lease->session_.connect());
  return lease;
}

Result<LeaderInfo> PgLease::try_acquire(const Candidate& me, int64_t lease_ms) {
  pg::Params p;
  p.add_text(me.id).add_text(me.name).add_text(me.http_address).add_text(me.agents_address);
  p.add_i64(lease_ms);
  const std::string now = pg::kDatabaseNowMs;
  BERTH_RETURN_IF_ERROR(session_
                            .exec("UPDATE leader SET epoch = GREATEST(epoch + 1, " + now +
                                      "), holder_id = $1, name = $2, "
                                      "http_address = $3, agents_address = $4, since_ms = " +
                                      now + ", expires_ms = " + now +
                                      " + $5 WHERE id = 1 AND expires_ms <= " + now,
                                  p)
                            .status());
  return current();
}

Result<bool> PgLease::renew(uint64_t epoch, int64_t lease_ms) {
  pg::Params p;
  p.add_i64(static_cast<int64_t>(epoch)).add_i64(lease_ms);
  BERTH_ASSIGN_OR_RETURN(
      auto r, session_.exec(std::string("UPDATE leader SET expires_ms = ") + pg::kDatabaseNowMs +
                                " + $2 WHERE id = 1 AND epoch = $1",
                            p));
  return changed_rows(r.get()) == 1;
}

Result<LeaderInfo> PgLease::current() {
  BERTH_ASSIGN_OR_RETURN(auto r,
                         session_.exec(std::string("SELECT epoch, holder_id, name, http_address, "
                                                   "agents_address, since_ms, expires_ms, ") +
                                           pg::kDatabaseNowMs + " FROM leader WHERE id = 1",
                                       {}));
  if (PQntuples(r.get()) != 1)
    return Status::Internal("store: the leader table has no row 1 (is the schema migrated?)");
  const PGresult* row = r.get();
  LeaderInfo info;
  info.epoch = static_cast<uint64_t>(pg::get_i64(row, 0, 0));
  info.holder = Candidate{pg::get_text(row, 0, 1), pg::get_text(row, 0, 2), pg::get_text(row, 0, 3),
                          pg::get_text(row, 0, 4)};
  info.since_ms = pg::get_i64(row, 0, 5);
  info.expires_ms = pg::get_i64(row, 0, 6);
  info.now_ms = pg::get_i64(row, 0, 7);
  return info;
}

Status PgLease::release(uint64_t epoch) {
  pg::Params p;
  p.add_i64(static_cast<int64_t>(epoch));
  return session_
      .exec(std::string("UPDATE leader SET expires_ms = ") + pg::kDatabaseNowMs +
                " WHERE id = 1 AND epoch = $1",
            p)
      .status();
}

}  // namespace berth::store
