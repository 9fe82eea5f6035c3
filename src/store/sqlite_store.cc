#include "store/sqlite_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <initializer_list>
#include <string_view>

#include "store/batch.h"
#include "store/schema.h"
#include "store/sqlite_columns.h"

namespace berth::store {

using sqlite::Stmt;

namespace {

constexpr int kBusyTimeoutMs = 5'000;

// What an operator does about a database that berthd cannot trust.
constexpr const char* kRestoreHint = "restore the database from a backup (docs/operations.md)";

// Every table but meta and schema_version is described once (*_columns.h) and has exactly its
// described columns, so a description and the migrations that drifted apart fail at open
// rather than corrupt rows.
Status check_described_tables(sqlite3* db) {
  for (const DescribedTable& t : described_tables())
    BERTH_RETURN_IF_ERROR(check_table_columns(db, t.table, t.names));
  return Status::Ok();
}

// Prepares a statement used once (reads at load time).
Result<Stmt> prepare_once(sqlite3* db, const std::string& sql) {
  return Stmt::Prepare(db, sql, /*persistent=*/false);
}

// Runs `sql` and calls read_row(stmt) for each row until done or an error.
template <typename ReadRow>
Status for_each_row(sqlite3* db, const std::string& sql, ReadRow&& read_row) {
  BERTH_ASSIGN_OR_RETURN(auto s, prepare_once(db, sql));
  while (true) {
    BERTH_ASSIGN_OR_RETURN(auto row, s.step());
    if (!row) return Status::Ok();
    BERTH_RETURN_IF_ERROR(read_row(s));
  }
}

// batch.h's Writer: each statement prepared once, run at once.
struct SqliteWriter {
  std::array<Stmt, kWriteCount>& statements;
  sqlite3* db;

  template <typename Row, typename Problems>
  Status row(const Target& target, const std::vector<Column<Row, Problems>>& columns,
             const Row& row) {
    Stmt& s = statements[static_cast<size_t>(target.statement)];
    s.reset();
    bind_columns(s, columns, row);
    BERTH_RETURN_IF_ERROR(with_context(s.run(), target.what, target.key));
    if (!target.missing.empty() && sqlite3_changes(db) != 1)
      return Status(target.missing_code, target.missing);
    return Status::Ok();
  }
};

// batch.h's Reader.
struct SqliteReader {
  sqlite3* db;

  template <typename Row, typename Problems, typename Fn>
  Status select(const std::string& sql, const std::vector<Column<Row, Problems>>& columns,
                Fn&& fn) {
    return for_each_row(db, sql, [&](Stmt& s) {
      Row row;
      Problems problems;
      read_columns(s, columns, row, problems);
      return fn(std::move(row), std::move(problems));
    });
  }
};
}  // namespace

// ---------------------------------------------------------------------------------------
// Opening and migrations

namespace {

std::string damaged_message(const std::string& path, const std::string& detail) {
  return "the database " + path + " is damaged or is not a berth database (" + detail +
         "); berthd will not start on it: " + kRestoreHint;
}

// A failure of the first statements on a file: when SQLite found the file is no database or a
// damaged one, says so plainly; other failures (a lock, permissions) pass as they are.
Status refuse_damaged(sqlite3* db, const std::string& path, Status st,
                      const std::string& during = "") {
  const int primary = sqlite3_extended_errcode(db) & 0xff;
  if (primary != SQLITE_NOTADB && primary != SQLITE_CORRUPT) return st;
  return Status::Internal(damaged_message(path, during + sqlite3_errstr(primary)));
}

}  // namespace

SqliteStore::~SqliteStore() = default;

Status SqliteStore::remember_file() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0)
    return Status::Internal("cannot stat the database " + path_ + ": " + std::strerror(errno));
  file_dev_ = static_cast<uint64_t>(st.st_dev);
  file_ino_ = static_cast<uint64_t>(st.st_ino);
  file_size_ = static_cast<int64_t>(st.st_size);
  file_known_ = true;
  return Status::Ok();
}

Status SqliteStore::check_file() {
  if (!file_known_) return Status::Ok();
  const std::string consequence =
      "; what berthd writes now would not be in the file at that path, so it stops "
      "acknowledging: " +
      std::string(kRestoreHint);
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    const int err = errno;
    return Status::Internal("the database " + path_ + " is gone (" + std::strerror(err) +
                            "): it was deleted or moved away while berthd ran" + consequence);
  }
  if (static_cast<uint64_t>(st.st_dev) != file_dev_ ||
      static_cast<uint64_t>(st.st_ino) != file_ino_)
    return Status::Internal("the database " + path_ +
                            " was replaced by another file while berthd ran" + consequence);
  if (static_cast<int64_t>(st.st_size) < file_size_)
    return Status::Internal("the database " + path_ + " was truncated while berthd ran (from " +
                            std::to_string(file_size_) + " to " + std::to_string(st.st_size) +
                            " bytes)" + consequence);
  file_size_ = static_cast<int64_t>(st.st_size);
  return Status::Ok();
}

Result<std::string> SqliteStore::rescue() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_dev) == file_dev_ &&
      static_cast<uint64_t>(st.st_ino) == file_ino_)
    return Status::Conflict("the database " + path_ +
                            " is still the file berthd opened; there is nothing to rescue");
  std::string dest = path_ + ".rescued";
  for (int n = 2; ::access(dest.c_str(), F_OK) == 0; ++n)
    dest = path_ + ".rescued-" + std::to_string(n);
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(dest.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite::DbPtr out(raw);
  auto fail = [&](Status failed) {
    out.reset();
    ::unlink(dest.c_str());
    return failed;
  };
  if (rc != SQLITE_OK) return fail(sqlite::Error(raw, rc, "create " + dest));
  // From this connection: it still reads the unlinked file and its WAL.
  sqlite3_backup* backup = sqlite3_backup_init(out.get(), "main", db_.get(), "main");
  if (backup == nullptr)
    return fail(sqlite::Error(out.get(), sqlite3_errcode(out.get()), "rescue"));
  const int step = sqlite3_backup_step(backup, -1);
  const int finish = sqlite3_backup_finish(backup);
  if (step != SQLITE_DONE) return fail(sqlite::Error(nullptr, step, "rescue of " + path_));
  if (finish != SQLITE_OK) return fail(sqlite::Error(out.get(), finish, "rescue of " + path_));
  if (Status done = sqlite::Exec(out.get(), "PRAGMA journal_mode = DELETE"); !done.ok())
    return fail(done);
  return dest;
}

// quick_check reads every page and checks the b-trees' structure (not the indexes against their
// tables, which integrity_check does at a much higher cost): enough to find garbage written over
// the file before berthd trusts it.
Status SqliteStore::quick_check() {
  std::string problems;
  int found = 0;
  Status st = for_each_row(db_.get(), "PRAGMA quick_check(5)", [&](Stmt& s) {
    const std::string line = s.col_text();
    if (line == "ok") return Status::Ok();
    if (found++ > 0) problems += "; ";
    problems += line;
    return Status::Ok();
  });
  if (!st.ok()) return refuse_damaged(db_.get(), path_, st, "quick_check: ");
  if (found > 0) return Status::Internal(damaged_message(path_, "quick_check: " + problems));
  return Status::Ok();
}

Result<int64_t> SqliteStore::identity() {
  int64_t id = 0;
  BERTH_ASSIGN_OR_RETURN(auto s, prepare_once(db_.get(), "SELECT value FROM meta WHERE name = ?"));
  s.bind_text(kMetaStateId);
  BERTH_ASSIGN_OR_RETURN(auto row, s.step());
  if (row) id = s.col_i64();
  s.reset();
  return id;
}

Status SqliteStore::set_identity(int64_t id) {
  if (id == 0) return Status::Invalid("a state identity is not 0");
  SqliteWriter w{writes_, db_.get()};
  return in_transaction("identity", [&] { return write_meta(w, kMetaStateId, id); });
}

Status SqliteStore::Backup(const std::string& db_path, const std::string& dest_path) {
  if (::access(dest_path.c_str(), F_OK) == 0)
    return Status::Conflict("the backup file " + dest_path + " exists");
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite::DbPtr src(raw);
  if (rc != SQLITE_OK) return sqlite::Error(raw, rc, "open " + db_path + " for a backup");
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  raw = nullptr;
  rc = sqlite3_open_v2(dest_path.c_str(), &raw,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite::DbPtr dest(raw);
  auto fail = [&](Status st) {
    dest.reset();
    ::unlink(dest_path.c_str());
    return st;
  };
  if (rc != SQLITE_OK) return fail(sqlite::Error(raw, rc, "create " + dest_path));
  sqlite3_backup* backup = sqlite3_backup_init(dest.get(), "main", src.get(), "main");
  if (backup == nullptr)
    return fail(sqlite::Error(dest.get(), sqlite3_errcode(dest.get()), "backup"));
  // All pages in one step: the copy is made inside one read transaction, a single snapshot.
  const int step = sqlite3_backup_step(backup, -1);
  const int finish = sqlite3_backup_finish(backup);
  if (step != SQLITE_DONE) return fail(sqlite::Error(nullptr, step, "backup of " + db_path));
  if (finish != SQLITE_OK) return fail(sqlite::Error(dest.get(), finish, "backup of " + db_path));
  // The copy has the source's WAL flag; a single file with no WAL beside it is what travels.
  if (Status st = sqlite::Exec(dest.get(), "PRAGMA journal_mode = DELETE"); !st.ok())
    return fail(st);
  return Status::Ok();
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0)
    return Status::Invalid("the store needs a database file path, got '" + path + "'");
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite::DbPtr db(raw);  // owns the handle even when the open failed
  if (rc != SQLITE_OK) return sqlite::Error(raw, rc, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);

  // WAL persists in the file; synchronous, foreign_keys and the busy timeout are per connection.
  {
    // The first statement reads the file's header: garbage shows here as "not a database".
    auto mode = Stmt::Prepare(raw, "PRAGMA journal_mode = WAL", false);
    if (!mode.ok()) return refuse_damaged(raw, path, mode.status());
    auto row = mode->step();
    if (!row.ok()) return refuse_damaged(raw, path, row.status());
    const std::string got = *row ? mode->col_text() : "";
    mode->reset();
    if (got != "wal")
      return Status::Internal("sqlite: cannot put " + path + " in WAL mode (journal mode '" + got +
                              "')");
  }
  BERTH_RETURN_IF_ERROR(sqlite::Exec(raw, "PRAGMA synchronous = FULL"));
  BERTH_RETURN_IF_ERROR(sqlite::Exec(raw, "PRAGMA foreign_keys = ON"));
  {
    BERTH_ASSIGN_OR_RETURN(auto fk, Stmt::Prepare(raw, "PRAGMA foreign_keys", false));
    BERTH_ASSIGN_OR_RETURN(auto row, fk.step());
    const bool on = row && fk.col_i64() == 1;
    fk.reset();
    if (!on) return Status::Internal("sqlite: this SQLite does not enforce foreign keys");
  }

  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db), path));
  BERTH_RETURN_IF_ERROR(store->remember_file());
  BERTH_RETURN_IF_ERROR(store->quick_check());
  auto prepare = [&](Stmt* stmt, const std::string& sql) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto s, Stmt::Prepare(store->db_.get(), sql, /*persistent=*/true));
    *stmt = std::move(s);
    return Status::Ok();
  };
  BERTH_RETURN_IF_ERROR(prepare(&store->begin_, "BEGIN IMMEDIATE"));
  BERTH_RETURN_IF_ERROR(prepare(&store->commit_, "COMMIT"));
  BERTH_RETURN_IF_ERROR(prepare(&store->rollback_, "ROLLBACK"));
  BERTH_RETURN_IF_ERROR(store->migrate());
  BERTH_RETURN_IF_ERROR(check_described_tables(store->db_.get()));
  BERTH_RETURN_IF_ERROR(store->prepare_statements());
  BERTH_ASSIGN_OR_RETURN(auto checkpointer, WalCheckpointer::Start(store->db_.get(), path));
  store->checkpointer_ = std::move(checkpointer);
  return store;
}

template <typename Write>
Status SqliteStore::in_transaction(const char* what, Write&& write) {
  // Before: nothing is written into a file no longer at its path. After: a file deleted while
  // the transaction ran is not reported as a durable commit.
  Status st = check_file();
  if (st.ok()) {
    begin_.reset();
    st = begin_.run();
  }
  if (st.ok()) {
    st = write();
    if (st.ok()) {
      commit_.reset();
      st = commit_.run();
    }
    if (!st.ok()) rollback();
    if (st.ok()) st = check_file();
  }
  if (st.ok()) return st;
  return Status(st.code(), std::string(what) + ": " + st.message());
}

void SqliteStore::rollback() {
  // Some errors (a full disk, an I/O error) make SQLite roll back by itself.
  if (sqlite3_get_autocommit(db_.get()) != 0) return;
  rollback_.reset();
  // A failed ROLLBACK leaves nothing better to do: SQLite rolls the journal back when the
  // connection is next used or reopened, and the caller already reports the first error.
  (void)rollback_.run();
}

namespace {

Result<int> current_version(sqlite3* db) {
  BERTH_ASSIGN_OR_RETURN(auto s,
                         prepare_once(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  BERTH_ASSIGN_OR_RETURN(auto row, s.step());
  const int version = row ? static_cast<int>(s.col_i64()) : 0;
  s.reset();
  return version;
}

}  // namespace

Status SqliteStore::migrate() {
  BERTH_RETURN_IF_ERROR(sqlite::Exec(db_.get(), kSchemaVersionTable));
  const int latest = migrations().back().version;
  for (const Migration& m : migrations()) {
    // Read the version inside the write transaction, so that two processes opening a new
    // file at once apply each migration once.
    BERTH_RETURN_IF_ERROR(in_transaction("schema migration", [&]() -> Status {
      BERTH_ASSIGN_OR_RETURN(auto version, current_version(db_.get()));
      if (version > latest)
        return Status::Internal("the database has schema version " + std::to_string(version) +
                                ", newer than this berth knows (" + std::to_string(latest) + ")");
      if (version >= m.version) return Status::Ok();
      if (version != m.version - 1)
        return Status::Internal("schema version " + std::to_string(version) +
                                " cannot take migration " + std::to_string(m.version));
      BERTH_RETURN_IF_ERROR(sqlite::Exec(db_.get(), m.sql));
      BERTH_ASSIGN_OR_RETURN(
          auto insert,
          prepare_once(db_.get(),
                       "INSERT INTO schema_version (version, description) VALUES (?, ?)"));
      insert.bind_i64(m.version).bind_text(m.description);
      return insert.run();
    }));
  }
  BERTH_ASSIGN_OR_RETURN(auto version, current_version(db_.get()));
  schema_version_ = version;
  return Status::Ok();
}

Status SqliteStore::prepare_statements() {
  for (int w = 0; w < kWriteCount; ++w) {
    BERTH_ASSIGN_OR_RETURN(writes_[static_cast<size_t>(w)],
                           Stmt::Prepare(db_.get(), write_sql(static_cast<Write>(w)),
                                         /*persistent=*/true));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Writing

Status SqliteStore::commit(const core::ChangeSet& changes, int64_t now_ms) {
  SqliteWriter w{writes_, db_.get()};
  return in_transaction("commit", [&] { return write_changes(w, changes, now_ms); });
}

Status SqliteStore::touch_alive(int64_t now_ms) {
  SqliteWriter w{writes_, db_.get()};
  return in_transaction("heartbeat", [&] { return write_meta(w, kMetaLastAliveMs, now_ms); });
}

Status SqliteStore::put_nodes(const std::vector<core::Node>& nodes) {
  SqliteWriter w{writes_, db_.get()};
  return in_transaction("put nodes", [&] { return write_nodes(w, nodes); });
}

Status SqliteStore::put_node(const core::Node& node) {
  SqliteWriter w{writes_, db_.get()};
  return in_transaction("put node", [&] { return write_node(w, node); });
}

Status SqliteStore::put_token(const TokenRow& row) { return put_tokens({row}); }

Status SqliteStore::put_tokens(const std::vector<TokenRow>& rows) {
  SqliteWriter w{writes_, db_.get()};
  return in_transaction("put tokens", [&] { return write_tokens(w, rows); });
}

// ---------------------------------------------------------------------------------------
// Reading

Result<std::vector<TokenRow>> SqliteStore::tokens() {
  SqliteReader r{db_.get()};
  std::vector<TokenRow> out;
  BERTH_RETURN_IF_ERROR(read_table(r, "tokens", token_columns(), "rowid", "token", &out));
  return out;
}

Result<std::vector<core::Node>> SqliteStore::nodes() {
  SqliteReader r{db_.get()};
  return read_nodes(r);
}

Result<core::ChangeSet> SqliteStore::load(int64_t* last_alive_ms) {
  // One read transaction: a consistent snapshot even if another connection writes.
  BERTH_RETURN_IF_ERROR(sqlite::Exec(db_.get(), "BEGIN"));
  SqliteReader r{db_.get()};
  core::ChangeSet rows;
  int64_t alive_ms = 0;
  Status st = load_changes(r, &rows, &alive_ms);
  if (st.ok()) st = sqlite::Exec(db_.get(), "COMMIT");
  if (!st.ok()) {
    rollback();
    return Status(st.code(), "load: " + st.message());
  }
  if (last_alive_ms != nullptr) *last_alive_ms = alive_ms;
  return rows;
}

}  // namespace berth::store
