// The SQLite store: berth's state as plain relational tables in one database file; the
// store::Store (store.h) berthd runs on.
//
// Contract
// - Open() creates or opens the file in WAL mode with synchronous=FULL, so a commit that
//   returned Ok survives a crash of the process or the machine; foreign keys are enforced.
//   It applies any missing schema migrations (schema.h), each once in its own transaction.
// - commit() writes one ChangeSet from core::Engine::drain_changes() in ONE transaction:
//   either every row and the meta counters are written, or nothing is (the database is
//   exactly as before and the Status says why).
// - load() reads everything back as a ChangeSet fit for core::Engine::Restore().
// - Node states are kept apart from the ChangeSet (put_nodes, put_node, nodes()), since
//   the core does not report them as changes.
// - Open() refuses a file that is not a sound SQLite database (PRAGMA quick_check), saying so
//   and pointing at a restore from a backup, rather than failing later at the first write.
// - Every write transaction first and last checks that the database is still the file Open()
//   opened (check_file): a file deleted, replaced or truncated under berthd makes the write
//   fail, so that nothing written into a file no longer at its path is acknowledged.
// - Errors from SQLite become a Status carrying SQLite's message: kUnavailable when another
//   connection holds the database locked past the busy timeout, kInternal otherwise.
//
// Tables (src/store/README.md): orgs, projects, schemes, scheme_criteria, awards, funding_order,
// applications, application_reviews, application_events, audit, progress_reports,
// progress_report_events, topups, accounts, transfers, jobs, nodes, tokens, submit_keys, meta,
// schema_version; an operator may read them with any SQL tool
// while berthd runs (WAL readers do not block the writer).
//
// Not thread-safe: one thread owns a store. Statements are prepared once and reused.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/change_set.h"
#include "core/model.h"
#include "store/batch.h"
#include "store/sqlite_db.h"
#include "store/store.h"
#include "store/wal_checkpointer.h"

namespace berth::store {

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` (a file; not ":memory:"). A file that is not a
  // sound SQLite database (garbage, a damaged page) is refused with a message that says so.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path);

  // Copies the database at `db_path` into a new file `dest_path` with SQLite's online backup
  // API, from a read-only connection of its own: one consistent snapshot, taken while a writer
  // (berthd) goes on committing, since in WAL mode a reader does not block the writer. The copy
  // is a self-contained database (rollback journal, no WAL) that Open() can use as it is.
  // `dest_path` must not exist. Thread-safe with respect to any store open on db_path.
  static Status Backup(const std::string& db_path, const std::string& dest_path);

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  ~SqliteStore() override;

  // Writes one batch of changes and the meta counters, with last_alive_ms = now_ms, in one
  // transaction. Rows that change (accounts, jobs, pending states) are upserted; append-only
  // rows (projects, schemes, topups, transfers) are inserted, so a row written twice is an
  // error. Orgs (registration records amended) and awards (supplements, closure, return) are
  // upserted too. An empty ChangeSet still records the counters and now_ms.
  Status commit(const core::ChangeSet& changes, int64_t now_ms) override;

  // Records that berthd was alive at now_ms (a heartbeat), in its own small transaction.
  Status touch_alive(int64_t now_ms);

  // Reads every row back: orgs, projects, schemes, awards and jobs by id, accounts by id,
  // transfers and topups in the order applied, the state of every pending transfer, and
  // the meta counters (the ChangeSet defaults when never written). *last_alive_ms is the
  // last commit's or heartbeat's now_ms, 0 if none. A job row with a field it cannot read loads
  // with that field at a safe default and an entry in job_problems, never a failed load; any
  // other unreadable row (the books, funding) fails it, naming the row (README.md).
  Result<core::ChangeSet> load(int64_t* last_alive_ms) override;

  // Nodes. The nodes table holds the nodes of the running configuration with their state
  // (up / drain / down), domain, the reason for the state and what their agents last said. The
  // configuration decides which nodes exist; the rest outlives a restart: at start berthd reads
  // the stored nodes with nodes(), gives each configured node of the same name what was stored,
  // then writes the result with put_nodes(); after a node changes (an administrator's state,
  // its agent registering, heard or silent) it records it with put_node().

  // Replaces the nodes table with `nodes`, every field of each, in one transaction.
  Status put_nodes(const std::vector<core::Node>& nodes) override;
  // Writes every field of the stored node named node.name, in its own small transaction.
  // kNotFound (and nothing written) if no stored node has that name.
  Status put_node(const core::Node& node) override;
  // The nodes table as last written, by id: an empty list before the first put_nodes. A state
  // this berth does not know is an error (kInternal) naming the node.
  Result<std::vector<core::Node>> nodes() override;

  // Adds a token, or replaces the row with the same token_hash.
  Status put_token(const TokenRow& row);
  // The same for several rows, all in one transaction or none (a rotation: the new admin
  // token and the old ones revoked).
  Status put_tokens(const std::vector<TokenRow>& rows) override;
  // All tokens, in the order first added.
  Result<std::vector<TokenRow>> tokens() override;

  // Whether the database is still the file Open() opened: that the path names the same file
  // (device and inode; not deleted, moved away or replaced) and that the file has not shrunk
  // (truncated, to nothing or less). One stat(2). kInternal with what happened otherwise.
  // Called by every write transaction, before it begins and after it commits.
  Status check_file();

  // After check_file found the database deleted, moved away or replaced: copies the file this
  // store still has open, as last committed, into a new file beside the path (`<path>.rescued`,
  // or `.rescued-2`, ... when taken) and returns its name. Refused (kConflict) when the path
  // still names the open file (truncated: what it held is lost), or there is nothing to rescue.
  Result<std::string> rescue() override;

  // The identity of the state this database holds: a random number given once to a state
  // directory's database (set_identity) and kept in the meta table; 0 when none was given (a
  // new database, or one written by a berth older than identities).
  Result<int64_t> identity();
  // Records `id` (not 0) as the database's identity, in its own small transaction.
  Status set_identity(int64_t id);

  // Backup() of this store's file.
  Status backup(const std::string& dest_path) const override { return Backup(path_, dest_path); }

  const std::string& path() const { return path_; }

  // The schema version of the open database (the last migration applied).
  int schema_version() const { return schema_version_; }

 private:
  SqliteStore(sqlite::DbPtr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  Status quick_check();
  Status remember_file();

  Status migrate();
  Status prepare_statements();
  // Runs `write` inside BEGIN IMMEDIATE ... COMMIT; rolls back if it or the commit fails.
  template <typename Write>
  Status in_transaction(const char* what, Write&& write);
  void rollback();

  sqlite::DbPtr db_;
  // After db_, so it stops before the connection it watches closes.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::string path_;
  // The file Open() opened (check_file): its device and inode, and its largest size seen. A
  // WAL database's main file never shrinks, since berth never vacuums.
  uint64_t file_dev_ = 0, file_ino_ = 0;
  int64_t file_size_ = 0;
  bool file_known_ = false;
  int schema_version_ = 0;
  sqlite::Stmt begin_, commit_, rollback_;
  // Every statement that writes (batch.h), prepared once.
  std::array<sqlite::Stmt, kWriteCount> writes_;
};

}  // namespace berth::store
