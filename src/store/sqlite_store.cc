#include "store/sqlite_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <initializer_list>
#include <string_view>

#include "store/application_columns.h"
#include "store/entity_columns.h"
#include "store/funding_columns.h"
#include "store/job_columns.h"
#include "store/ledger_columns.h"
#include "store/row_text.h"
#include "store/schema.h"
#include "store/sqlite_columns.h"

namespace berth::store {

using sqlite::Stmt;

namespace {

constexpr int kBusyTimeoutMs = 5'000;

// Meta rows.
constexpr const char* kMetaNextJobId = "next_job_id";
constexpr const char* kMetaNextAccountId = "next_account_id";
constexpr const char* kMetaNextTransferSeq = "next_transfer_seq";
constexpr const char* kMetaLastAliveMs = "last_alive_ms";
constexpr const char* kMetaStateId = "state_id";

// What an operator does about a database that berthd cannot trust.
constexpr const char* kRestoreHint = "restore the database from a backup (docs/operations.md)";

// Names: a list of const char* or string_view (a description's column_names).
template <typename Names>
std::string join_columns(const Names& columns, const char* prefix = "") {
  std::string out;
  for (std::string_view c : columns) {
    if (!out.empty()) out += ", ";
    out += prefix;
    out += c;
  }
  return out;
}

// "INSERT INTO t (a, b) VALUES (?, ?)", and with a conflict key, an upsert that updates
// every other column: "... ON CONFLICT (a) DO UPDATE SET b = excluded.b".
template <typename Names = std::initializer_list<const char*>>
std::string insert_sql(const char* table, const Names& columns, const char* key = nullptr) {
  std::string sql =
      std::string("INSERT INTO ") + table + " (" + join_columns(columns) + ") VALUES (";
  for (size_t i = 0; i < columns.size(); ++i) sql += i == 0 ? "?" : ", ?";
  sql += ")";
  if (key != nullptr) {
    sql += std::string(" ON CONFLICT (") + key + ") DO UPDATE SET ";
    bool first = true;
    for (std::string_view c : columns) {
      if (c == key) continue;
      if (!first) sql += ", ";
      first = false;
      sql += std::string(c) + " = excluded." + std::string(c);
    }
  }
  return sql;
}

// "UPDATE table SET a = ?, b = ? WHERE key = ?": every column, then the key's value.
template <typename Names>
std::string update_sql(const char* table, const Names& columns, const char* key) {
  std::string sql = std::string("UPDATE ") + table + " SET ";
  bool first = true;
  for (std::string_view c : columns) {
    sql += (first ? "" : ", ") + std::string(c) + " = ?";
    first = false;
  }
  return sql + " WHERE " + key + " = ?";
}

template <typename Names>
std::string select_sql(const char* table, const Names& columns, const char* order_by) {
  return "SELECT " + join_columns(columns) + " FROM " + table + " ORDER BY " + order_by;
}

// Adds what was being written to a failed Status; builds no string when all is well.
Status with_context(Status st, const char* what, uint64_t id) {
  if (st.ok()) return st;
  return Status(st.code(), std::string(what) + " " + std::to_string(id) + ": " + st.message());
}

Status bad_value(const char* table, const char* column, uint64_t id, const std::string& text) {
  return Status::Internal("store: " + std::string(table) + " " + std::to_string(id) + " has " +
                          column + " '" + text + "', which this berth does not know");
}

// Every table but meta and schema_version is described once (*_columns.h) and has exactly its
// described columns, so a description and the migrations that drifted apart fail at open
// rather than corrupt rows. A transfer's seq, the order applied, is SQLite's (AUTOINCREMENT).
Status check_described_tables(sqlite3* db) {
  std::vector<std::string_view> transfers = column_names(transfer_columns());
  transfers.push_back("seq");
  const struct {
    const char* table;
    std::vector<std::string_view> names;
  } tables[] = {
      {"orgs", column_names(org_columns())},
      {"accounts", column_names(account_columns())},
      {"projects", column_names(project_columns())},
      {"schemes", column_names(scheme_columns())},
      {"scheme_criteria", column_names(criterion_columns())},
      {"awards", column_names(award_columns())},
      {"funding_order", column_names(funding_order_columns())},
      {"transfers", transfers},
      {"topups", column_names(topup_columns())},
      {"audit", column_names(audit_columns())},
      {"applications", column_names(application_columns())},
      {"application_reviews", column_names(review_columns())},
      {"application_events", column_names(application_event_columns())},
      {"progress_reports", column_names(report_columns())},
      {"progress_report_events", column_names(report_event_columns())},
      {"jobs", column_names(job_columns())},
      {"nodes", column_names(node_columns())},
      {"tokens", column_names(token_columns())},
      {"submit_keys", column_names(submit_key_columns())},
  };
  for (const auto& t : tables) BERTH_RETURN_IF_ERROR(check_table_columns(db, t.table, t.names));
  return Status::Ok();
}

// A row's key in messages: its first column (an id, a seq, the owner of a child row).
template <typename Row, typename Problems>
uint64_t row_key(const std::vector<Column<Row, Problems>>& columns, const Row& row) {
  return static_cast<uint64_t>(columns.front().get(row).integer);
}

// Writes `row` with the prepared `stmt` (an INSERT or upsert of the description's columns); a
// failure names `what` and the row's key.
template <typename Row, typename Problems>
Status write_row(Stmt& stmt, const std::vector<Column<Row, Problems>>& columns, const Row& row,
                 const char* what) {
  stmt.reset();
  bind_columns(stmt, columns, row);
  Status st = stmt.run();
  if (st.ok()) return st;
  return with_context(std::move(st), what, row_key(columns, row));
}

// Replaces the rows a parent owns (a scheme's criteria, a project's funding order, an
// application's reviews): deletes them with `del`, then inserts make_row(item, position) for
// each of `items` at positions 0, 1, ...; a failure names `what` and the parent.
template <typename Row, typename Item, typename MakeRow>
Status replace_rows(Stmt& del, Stmt& insert,
                    const std::vector<Column<Row, FirstUnreadable>>& columns, uint64_t parent,
                    const std::vector<Item>& items, const char* what, MakeRow&& make_row) {
  del.reset();
  del.bind_u64(parent);
  BERTH_RETURN_IF_ERROR(with_context(del.run(), what, parent));
  for (size_t i = 0; i < items.size(); ++i) {
    BERTH_RETURN_IF_ERROR(
        write_row(insert, columns, make_row(items[i], static_cast<int64_t>(i)), what));
  }
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

// Reads each row `sql` selects (the description's columns, in order) and hands it to
// add(Row&&); a value this berth cannot read fails the load, naming `what`, the row's key and
// the column.
template <typename Row, typename Add>
Status read_rows(sqlite3* db, const std::string& sql,
                 const std::vector<Column<Row, FirstUnreadable>>& columns, const char* what,
                 Add&& add) {
  return for_each_row(db, sql, [&](Stmt& s) -> Status {
    Row row;
    FirstUnreadable unreadable;
    read_columns(s, columns, row, unreadable);
    if (unreadable.column != nullptr)
      return bad_value(what, unreadable.column, row_key(columns, row), unreadable.text);
    return add(std::move(row));
  });
}

// Every row of `table` in `order_by`, appended to *out.
template <typename Row>
Status read_table(sqlite3* db, const char* table,
                  const std::vector<Column<Row, FirstUnreadable>>& columns, const char* order_by,
                  const char* what, std::vector<Row>* out) {
  return read_rows(db, select_sql(table, column_names(columns), order_by), columns, what,
                   [&](Row&& row) {
                     out->push_back(std::move(row));
                     return Status::Ok();
                   });
}

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
  return in_transaction("identity", [&] { return write_meta(kMetaStateId, id); });
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
  sqlite3* db = db_.get();
  const struct {
    Stmt* stmt;
    std::string sql;
  } statements[] = {
      {&upsert_org_, insert_sql("orgs", column_names(org_columns()), "id")},
      {&insert_project_, insert_sql("projects", column_names(project_columns()))},
      {&insert_scheme_, insert_sql("schemes", column_names(scheme_columns()))},
      {&upsert_award_, insert_sql("awards", column_names(award_columns()), "id")},
      {&insert_audit_, insert_sql("audit", column_names(audit_columns()))},
      {&delete_funding_order_, "DELETE FROM funding_order WHERE project_id = ?"},
      {&insert_funding_order_, insert_sql("funding_order", column_names(funding_order_columns()))},
      {&insert_topup_, insert_sql("topups", column_names(topup_columns()))},
      {&upsert_account_, insert_sql("accounts", column_names(account_columns()), "id")},
      {&insert_transfer_, insert_sql("transfers", column_names(transfer_columns()))},
      {&update_pending_,
       "UPDATE transfers SET pending_state = ?, posted_minor = ? WHERE id = ? AND pending_state IS "
       "NOT NULL"},
      {&upsert_job_, insert_sql("jobs", column_names(job_columns()), "id")},
      {&upsert_application_, insert_sql("applications", column_names(application_columns()), "id")},
      {&delete_reviews_, "DELETE FROM application_reviews WHERE application_id = ?"},
      {&insert_review_, insert_sql("application_reviews", column_names(review_columns()))},
      {&delete_criteria_, "DELETE FROM scheme_criteria WHERE scheme_id = ?"},
      {&insert_criterion_, insert_sql("scheme_criteria", column_names(criterion_columns()))},
      {&insert_application_event_,
       insert_sql("application_events", column_names(application_event_columns()))},
      {&upsert_report_,
       insert_sql("progress_reports", column_names(report_columns()), "award_id, period")},
      {&insert_report_event_,
       insert_sql("progress_report_events", column_names(report_event_columns()))},
      {&upsert_meta_, insert_sql("meta", {"name", "value"}, "name")},
      {&upsert_submit_key_,
       insert_sql("submit_keys", column_names(submit_key_columns()), "user_name, org_id, key")},
  };
  for (const auto& s : statements) {
    BERTH_ASSIGN_OR_RETURN(*s.stmt, Stmt::Prepare(db, s.sql, /*persistent=*/true));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Writing

Status SqliteStore::commit(const core::ChangeSet& changes, int64_t now_ms) {
  return in_transaction("commit", [&] { return write_changes(changes, now_ms); });
}

Status SqliteStore::touch_alive(int64_t now_ms) {
  return in_transaction("heartbeat", [&] { return write_meta(kMetaLastAliveMs, now_ms); });
}

// Rows are written in the order their foreign keys need: accounts before the projects,
// schemes and awards that own them, transfers before their pending states and top-ups.
Status SqliteStore::write_changes(const core::ChangeSet& c, int64_t now_ms) {
  for (const core::Org& o : c.orgs)
    BERTH_RETURN_IF_ERROR(write_row(upsert_org_, org_columns(), o, "org"));
  for (const core::Account& a : c.accounts)
    BERTH_RETURN_IF_ERROR(write_row(upsert_account_, account_columns(), a, "account"));
  for (const core::Project& p : c.projects)
    BERTH_RETURN_IF_ERROR(write_row(insert_project_, project_columns(), p, "project"));
  for (const core::Scheme& s : c.schemes)
    BERTH_RETURN_IF_ERROR(write_row(insert_scheme_, scheme_columns(), s, "scheme"));
  for (const core::Award& a : c.awards)
    BERTH_RETURN_IF_ERROR(write_row(upsert_award_, award_columns(), a, "award"));
  for (const core::Transfer& t : c.transfers) {
    BERTH_RETURN_IF_ERROR(
        write_row(insert_transfer_, transfer_columns(), new_transfer_row(t), "transfer"));
  }
  for (const core::PendingUpdate& u : c.pending) BERTH_RETURN_IF_ERROR(write_pending(u));
  for (const core::TopUp& t : c.topups)
    BERTH_RETURN_IF_ERROR(write_row(insert_topup_, topup_columns(), t, "top-up"));
  for (const core::AuditRecord& r : c.audit)
    BERTH_RETURN_IF_ERROR(write_row(insert_audit_, audit_columns(), r, "audit record"));
  for (const auto& [project, order] : c.funding_orders) {
    BERTH_RETURN_IF_ERROR(replace_rows(
        delete_funding_order_, insert_funding_order_, funding_order_columns(), project, order,
        "funding order of project", [id = project](AwardId award, int64_t position) {
          return FundingOrderRow{ProjectId(id), position, award};
        }));
  }
  for (const auto& [scheme, criteria] : c.criteria) {
    BERTH_RETURN_IF_ERROR(replace_rows(
        delete_criteria_, insert_criterion_, criterion_columns(), scheme, criteria,
        "criteria of scheme", [id = scheme](const core::Criterion& criterion, int64_t position) {
          return CriterionRow{SchemeId(id), position, criterion};
        }));
  }
  for (const core::Application& a : c.applications) BERTH_RETURN_IF_ERROR(write_application(a));
  for (const core::ApplicationEvent& e : c.application_events) {
    BERTH_RETURN_IF_ERROR(
        write_row(insert_application_event_, application_event_columns(), e, "application event"));
  }
  for (const core::ProgressReport& r : c.reports) {
    BERTH_RETURN_IF_ERROR(
        write_row(upsert_report_, report_columns(), r, "progress report of award"));
  }
  for (const core::ReportEvent& e : c.report_events) {
    BERTH_RETURN_IF_ERROR(
        write_row(insert_report_event_, report_event_columns(), e, "progress report event"));
  }
  for (const core::Job& j : c.jobs)
    BERTH_RETURN_IF_ERROR(write_row(upsert_job_, job_columns(), j, "job"));
  for (const core::SubmitKey& k : c.submit_keys)
    BERTH_RETURN_IF_ERROR(write_submit_key(k));  // after their jobs
  BERTH_RETURN_IF_ERROR(write_meta(kMetaNextJobId, static_cast<int64_t>(c.next_job_id)));
  BERTH_RETURN_IF_ERROR(write_meta(kMetaNextAccountId, static_cast<int64_t>(c.next_account_id)));
  BERTH_RETURN_IF_ERROR(
      write_meta(kMetaNextTransferSeq, static_cast<int64_t>(c.next_transfer_seq)));
  return write_meta(kMetaLastAliveMs, now_ms);
}

Status SqliteStore::write_application(const core::Application& a) {
  BERTH_RETURN_IF_ERROR(write_row(upsert_application_, application_columns(), a, "application"));
  return replace_rows(delete_reviews_, insert_review_, review_columns(), a.id.value, a.reviews,
                      "reviews of application", [&](const core::Review& r, int64_t position) {
                        return ReviewRow{a.id, position, r};
                      });
}

Status SqliteStore::write_submit_key(const core::SubmitKey& k) {
  Stmt& s = upsert_submit_key_;
  s.reset();
  bind_columns(s, submit_key_columns(), k);
  return with_context(s.run(), "idempotency key of job", k.job.value);
}

Status SqliteStore::write_pending(const core::PendingUpdate& u) {
  Stmt& s = update_pending_;
  s.reset();
  s.bind_text(core::pending_state_name(u.state)).bind_i64(u.posted_minor).bind_u64(u.id.value);
  BERTH_RETURN_IF_ERROR(with_context(s.run(), "pending state of transfer", u.id.value));
  if (s.changes() != 1)
    return Status::Internal("store: pending state for transfer " + std::to_string(u.id.value) +
                            ", which is not a stored pending transfer");
  return Status::Ok();
}

Status SqliteStore::write_meta(const char* name, int64_t value) {
  Stmt& s = upsert_meta_;
  s.reset();
  s.bind_text(name).bind_i64(value);
  Status st = s.run();
  if (st.ok()) return st;
  return Status(st.code(), std::string("meta ") + name + ": " + st.message());
}

Status SqliteStore::put_nodes(const std::vector<core::Node>& nodes) {
  BERTH_ASSIGN_OR_RETURN(auto del, prepare_once(db_.get(), "DELETE FROM nodes"));
  BERTH_ASSIGN_OR_RETURN(
      auto ins, prepare_once(db_.get(), insert_sql("nodes", column_names(node_columns()))));
  return in_transaction("put nodes", [&]() -> Status {
    BERTH_RETURN_IF_ERROR(del.run());
    for (const core::Node& n : nodes)
      BERTH_RETURN_IF_ERROR(write_row(ins, node_columns(), n, "node"));
    return Status::Ok();
  });
}

Status SqliteStore::put_node(const core::Node& node) {
  BERTH_ASSIGN_OR_RETURN(
      auto s, prepare_once(db_.get(), update_sql("nodes", column_names(node_columns()), "name")));
  return in_transaction("put node", [&]() -> Status {
    bind_columns(s, node_columns(), node);
    s.bind_text(node.name);
    BERTH_RETURN_IF_ERROR(s.run());
    if (s.changes() == 0) return Status::NotFound("store: no node named '" + node.name + "'");
    return Status::Ok();
  });
}

Status SqliteStore::put_token(const TokenRow& row) { return put_tokens({row}); }

Status SqliteStore::put_tokens(const std::vector<TokenRow>& rows) {
  BERTH_ASSIGN_OR_RETURN(
      auto s,
      prepare_once(db_.get(), insert_sql("tokens", column_names(token_columns()), "token_hash")));
  return in_transaction("put tokens", [&]() -> Status {
    for (const TokenRow& row : rows) {
      s.reset();
      bind_columns(s, token_columns(), row);
      BERTH_RETURN_IF_ERROR(s.run());
    }
    return Status::Ok();
  });
}

// ---------------------------------------------------------------------------------------
// Reading

namespace {

// Transfers in the order applied, and the state of each hold.
Status load_transfers(sqlite3* db, core::ChangeSet* rows) {
  return read_rows(db, select_sql("transfers", column_names(transfer_columns()), "seq"),
                   transfer_columns(), "transfer", [&](TransferRow&& r) {
                     if (r.hold) {
                       rows->pending.push_back(
                           core::PendingUpdate{r.transfer.id, r.pending_state, r.posted_minor});
                     }
                     rows->transfers.push_back(r.transfer);
                     return Status::Ok();
                   });
}

// Applications by id with their reviews, schemes' criteria, and the applications' history.
Status load_applications(sqlite3* db, core::ChangeSet* rows) {
  BERTH_RETURN_IF_ERROR(read_table(db, "applications", application_columns(), "id", "application",
                                   &rows->applications));
  BERTH_RETURN_IF_ERROR(read_rows(
      db,
      select_sql("application_reviews", column_names(review_columns()), "application_id, position"),
      review_columns(), "application review of", [&](ReviewRow&& r) {
        const uint64_t app = r.application.value;
        if (app == 0 || app > rows->applications.size())
          return Status::Internal("store: a review names application " + std::to_string(app) +
                                  ", which does not exist");
        rows->applications[app - 1].reviews.push_back(std::move(r.review));
        return Status::Ok();
      }));
  BERTH_RETURN_IF_ERROR(read_rows(
      db, select_sql("scheme_criteria", column_names(criterion_columns()), "scheme_id, position"),
      criterion_columns(), "criteria of scheme", [&](CriterionRow&& c) {
        rows->criteria[c.scheme.value].push_back(std::move(c.criterion));
        return Status::Ok();
      }));
  return read_table(db, "application_events", application_event_columns(), "seq",
                    "application event", &rows->application_events);
}

// Each project's stated funding order.
Status load_funding_orders(sqlite3* db, core::ChangeSet* rows) {
  return read_rows(
      db,
      select_sql("funding_order", column_names(funding_order_columns()), "project_id, position"),
      funding_order_columns(), "funding order of project", [&](FundingOrderRow&& r) {
        rows->funding_orders[r.project.value].push_back(r.award);
        return Status::Ok();
      });
}

// Jobs by id. A field this berth cannot read gets a safe default and is reported, never a failed
// load: Engine::Restore decides what becomes of the job (store/README.md, "Rows that cannot be
// read").
Status load_jobs(sqlite3* db, core::ChangeSet* rows) {
  const std::vector<JobColumn>& columns = job_columns();
  return for_each_row(db, select_sql("jobs", column_names(columns), "id"), [&](Stmt& s) {
    core::Job j;
    core::JobRowProblem problem;
    read_columns(s, columns, j, problem);
    if (!problem.what.empty()) rows->job_problems[j.id.value] = std::move(problem);
    rows->jobs.push_back(std::move(j));
    return Status::Ok();
  });
}

// Top-ups in the order of their transfers.
Status load_topups(sqlite3* db, core::ChangeSet* rows) {
  const std::string sql =
      "SELECT " + join_columns(column_names(topup_columns()), "topups.") +
      " FROM topups JOIN transfers ON transfers.id = topups.transfer_id ORDER BY transfers.seq";
  return read_rows(db, sql, topup_columns(), "top-up", [&](core::TopUp&& t) {
    rows->topups.push_back(std::move(t));
    return Status::Ok();
  });
}

}  // namespace

Result<std::vector<TokenRow>> SqliteStore::tokens() {
  std::vector<TokenRow> out;
  BERTH_RETURN_IF_ERROR(read_table(db_.get(), "tokens", token_columns(), "rowid", "token", &out));
  return out;
}

Result<std::vector<core::Node>> SqliteStore::nodes() {
  std::vector<core::Node> out;
  const Status st = read_table(db_.get(), "nodes", node_columns(), "id", "node", &out);
  if (!st.ok()) return Status(st.code(), "read nodes: " + st.message());
  return out;
}

Result<core::ChangeSet> SqliteStore::load(int64_t* last_alive_ms) {
  // One read transaction: a consistent snapshot even if another connection writes.
  BERTH_RETURN_IF_ERROR(sqlite::Exec(db_.get(), "BEGIN"));
  sqlite3* db = db_.get();
  core::ChangeSet rows;
  int64_t alive_ms = 0;
  Status st = load_meta(&rows, &alive_ms);
  if (st.ok()) st = read_table(db, "orgs", org_columns(), "id", "org", &rows.orgs);
  if (st.ok()) st = read_table(db, "projects", project_columns(), "id", "project", &rows.projects);
  if (st.ok()) st = read_table(db, "schemes", scheme_columns(), "id", "scheme", &rows.schemes);
  if (st.ok()) st = read_table(db, "awards", award_columns(), "id", "award", &rows.awards);
  if (st.ok()) st = read_table(db, "accounts", account_columns(), "id", "account", &rows.accounts);
  if (st.ok()) st = load_transfers(db, &rows);
  if (st.ok()) st = load_topups(db, &rows);
  if (st.ok()) st = load_jobs(db, &rows);
  if (st.ok()) st = load_applications(db, &rows);
  if (st.ok()) st = read_table(db, "audit", audit_columns(), "seq", "audit record", &rows.audit);
  if (st.ok()) st = load_funding_orders(db, &rows);
  if (st.ok()) {
    st = read_table(db, "progress_reports", report_columns(), "award_id, period", "progress report",
                    &rows.reports);
  }
  if (st.ok()) {
    st = read_table(db, "progress_report_events", report_event_columns(), "seq",
                    "progress report event", &rows.report_events);
  }
  if (st.ok()) {
    st = read_table(db, "submit_keys", submit_key_columns(), "job_id", "idempotency key",
                    &rows.submit_keys);
  }
  if (st.ok()) st = sqlite::Exec(db_.get(), "COMMIT");
  if (!st.ok()) {
    rollback();
    return Status(st.code(), "load: " + st.message());
  }
  if (last_alive_ms != nullptr) *last_alive_ms = alive_ms;
  return rows;
}

Status SqliteStore::load_meta(core::ChangeSet* rows, int64_t* last_alive_ms) {
  return for_each_row(db_.get(), "SELECT name, value FROM meta ORDER BY name", [&](Stmt& s) {
    const std::string name = s.col_text();
    const int64_t value = s.col_i64();
    if (name == kMetaNextJobId) rows->next_job_id = static_cast<uint64_t>(value);
    if (name == kMetaNextAccountId) rows->next_account_id = static_cast<uint64_t>(value);
    if (name == kMetaNextTransferSeq) rows->next_transfer_seq = static_cast<uint64_t>(value);
    if (name == kMetaLastAliveMs) *last_alive_ms = value;
    return Status::Ok();
  });
}

}  // namespace berth::store
