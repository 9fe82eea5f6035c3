// The PostgreSQL store: berth's state in the same tables as SQLite's (schema.h, translated by
// pg_dialect.h), in a PostgreSQL database that several berthds share, one of which leads
// (lease.h, pg_lease.h). A store::Store (store.h).
//
// Contract (beyond store.h's)
// - Open() connects, applies the missing migrations (each in its own transaction under
//   pg_advisory_xact_lock, so two berthds starting at once on an empty database do not race),
//   checks every described table against its description, and prepares the statements.
// - commit() is one transaction per batch, sent in libpq's pipeline mode: BEGIN, the fence's
//   check, every row, then the results read; COMMIT only when all of them succeeded. A batch of
//   many rows is a few round trips.
// - Fencing: after fence(epoch), every write transaction first reads the lease's epoch
//   (`SELECT epoch FROM leader WHERE id = 1 FOR SHARE`, so a takeover waits for it) and, when
//   another epoch leads, writes nothing and fails kUnavailable with a message that starts
//   "fenced:" and names the epoch that leads now; fenced() then says so for good.
// - Reconnects: a write whose connection was lost reconnects and tries again, with a backoff,
//   for up to PgOptions::retry_ms, then fails kUnavailable. A COMMIT whose outcome is unknown
//   (the connection lost after it was sent) is settled after reconnecting by the batch number
//   each commit writes into meta (`last_batch`): a batch that committed is never written twice,
//   one that did not is written again. Reads reconnect the same way.
// - Each connection ends a transaction left idle (idle_in_transaction_session_timeout), so a
//   stopped leader cannot hold the lease's row for ever, and uses TCP keepalives.
// - backup() is refused: PostgreSQL's own tools back it up (pg_dump, pg_basebackup); rescue()
//   has nothing to rescue.
// - tokens() are in the order of their hash (PostgreSQL keeps no order of insertion).
//
// Not thread-safe: one thread owns a store (backup() touches nothing).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/change_set.h"
#include "store/pg_db.h"
#include "store/store.h"

namespace berth::store {

struct PgOptions {
  // How long a write waits for a database that went away before it fails kUnavailable.
  int64_t retry_ms = 30'000;
  // The longest a session may sit idle inside a transaction (a stopped leader's).
  int64_t idle_in_transaction_ms = 5'000;
  // Tests: called with the connection's socket once a commit's COMMIT was sent, before its
  // result is read (to lose the connection exactly there).
  std::function<void(int socket)> after_commit_sent;
};

class PgStore final : public Store {
 public:
  static Result<std::unique_ptr<PgStore>> Open(const std::string& url, PgOptions options = {});

  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;
  ~PgStore() override;

  Status commit(const core::ChangeSet& changes, int64_t now_ms) override;
  Result<core::ChangeSet> load(int64_t* last_alive_ms) override;
  Status put_nodes(const std::vector<core::Node>& nodes) override;
  Status put_node(const core::Node& node) override;
  Result<std::vector<core::Node>> nodes() override;
  Status put_tokens(const std::vector<TokenRow>& rows) override;
  Result<std::vector<TokenRow>> tokens() override;
  Status backup(const std::string& dest_path) const override;
  Result<std::string> rescue() override;

  // From now on every write transaction checks that `epoch` still leads (see above).
  void fence(uint64_t epoch) { fence_epoch_ = epoch; }
  // Whether a write failed because another epoch leads.
  bool fenced() const { return fenced_; }

  // Whether the batch numbered `batch` is the last one committed (meta last_batch): how a
  // COMMIT whose outcome was unknown is settled.
  Result<bool> batch_committed(int64_t batch);

  int schema_version() const { return schema_version_; }

 private:
  PgStore(std::string url, PgOptions options);

  Status connect();
  Status migrate();
  Status prepare_statements();
  // Runs attempt() (a write, which reports whether it was cut off) until it succeeds, fails
  // for another reason than a lost connection, or retry_ms has passed. `batch` (not 0): a
  // commit, settled by batch_committed after a lost connection.
  template <typename Attempt>
  Status with_retry(const char* what, Attempt&& attempt, int64_t batch = 0);
  // One write transaction: BEGIN, the fence's check, write(writer), COMMIT.
  template <typename Write>
  Status transaction(Write&& write, const std::function<void(int)>& after_commit_sent = nullptr);
  template <typename Read>
  Status read_snapshot(Read&& read);

  std::string url_;
  PgOptions options_;
  pg::ConnPtr conn_;
  uint64_t fence_epoch_ = 0;
  bool fenced_ = false;
  int schema_version_ = 0;
  int64_t next_batch_ = 0;
};

}  // namespace berth::store
