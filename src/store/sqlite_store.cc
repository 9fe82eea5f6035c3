#include "store/sqlite_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <initializer_list>
#include <string_view>

#include "store/entity_columns.h"
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

// Column lists, shared by the statements that write a table and the ones that read it back,
// so the two cannot drift apart. Binding and reading follow the same order.
constexpr std::initializer_list<const char*> kOrgColumns = {"id",
                                                            "name",
                                                            "kind",
                                                            "created_ms",
                                                            "registration_number",
                                                            "registered_address",
                                                            "contact_name",
                                                            "contact_email",
                                                            "jurisdiction",
                                                            "updated_ms"};
constexpr std::initializer_list<const char*> kProjectColumns = {"id", "org_id", "name",
                                                                "wallet_account_id", "created_ms"};
constexpr std::initializer_list<const char*> kSchemeColumns = {"id",
                                                               "name",
                                                               "rate_bps",
                                                               "eligible_kinds",
                                                               "eligible_kinds_text",
                                                               "shortfall",
                                                               "fund_account_id",
                                                               "created_ms",
                                                               "exceptional_rate_bps",
                                                               "cap_per_project_minor",
                                                               "window_open_ms",
                                                               "window_close_ms",
                                                               "award_validity_days"};
constexpr std::initializer_list<const char*> kAwardColumns = {"id",
                                                              "scheme_id",
                                                              "project_id",
                                                              "account_id",
                                                              "amount_minor",
                                                              "gpu_level",
                                                              "start_ms",
                                                              "end_ms",
                                                              "created_ms",
                                                              "rate_bps",
                                                              "application_id",
                                                              "closed_ms",
                                                              "returned_ms",
                                                              "returned_minor",
                                                              "report_every_months",
                                                              "report_grace_days"};
constexpr std::initializer_list<const char*> kApplicationColumns = {"id",
                                                                    "scheme_id",
                                                                    "project_id",
                                                                    "org_id",
                                                                    "state",
                                                                    "amount_minor",
                                                                    "gpu_level",
                                                                    "gpu_model",
                                                                    "duration_days",
                                                                    "justification",
                                                                    "planned_work",
                                                                    "created_ms",
                                                                    "created_by",
                                                                    "updated_ms",
                                                                    "submitted_ms",
                                                                    "submitted_by",
                                                                    "decided_ms",
                                                                    "decided_by",
                                                                    "weighted_score_e4",
                                                                    "approved_minor",
                                                                    "approved_gpu_level",
                                                                    "approved_duration_days",
                                                                    "approved_rate_bps",
                                                                    "rejection_reason",
                                                                    "withdrawal_note",
                                                                    "award_id"};
constexpr std::initializer_list<const char*> kReviewColumns = {
    "application_id", "position", "reviewer", "scores", "weighted_score_e4", "comment", "at_ms"};
constexpr std::initializer_list<const char*> kCriterionColumns = {"scheme_id", "position", "name",
                                                                  "weight_bps"};
constexpr std::initializer_list<const char*> kApplicationEventColumns = {
    "seq", "application_id", "scheme_id", "at_ms", "user_name", "action", "note"};
constexpr std::initializer_list<const char*> kReportColumns = {
    "award_id",     "period",     "due_ms",     "state",         "text",       "submitted_ms",
    "submitted_by", "decided_ms", "decided_by", "return_reason", "submissions"};
constexpr std::initializer_list<const char*> kReportEventColumns = {
    "seq", "award_id", "period", "at_ms", "user_name", "action", "note"};

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

// ---- enums as text ----

// Parses an enum through its name function, trying the values first..last.
template <typename E>
bool parse_named(const std::string& text, const char* (*name)(E), int first, int last, E* out) {
  for (int v = first; v <= last; ++v) {
    if (text == name(static_cast<E>(v))) {
      *out = static_cast<E>(v);
      return true;
    }
  }
  return false;
}

// "university,institute" for the readable column next to the bitmask.
std::string eligible_kinds_text(uint32_t kinds) {
  std::string out;
  for (int k = 0; k < core::kOrgKindCount; ++k) {
    if (((kinds >> k) & 1u) == 0) continue;
    if (!out.empty()) out += ',';
    out += core::org_kind_name(static_cast<core::OrgKind>(k));
  }
  return out;
}

// The tables described once (job_columns.h, entity_columns.h) have exactly their described columns,
// so a description and the migrations that drifted apart fail at open rather than corrupt rows.
Status check_described_tables(sqlite3* db) {
  BERTH_RETURN_IF_ERROR(check_table_columns(db, "jobs", column_names(job_columns())));
  BERTH_RETURN_IF_ERROR(check_table_columns(db, "nodes", column_names(node_columns())));
  BERTH_RETURN_IF_ERROR(check_table_columns(db, "tokens", column_names(token_columns())));
  BERTH_RETURN_IF_ERROR(check_table_columns(db, "submit_keys", column_names(submit_key_columns())));
  BERTH_RETURN_IF_ERROR(check_table_columns(db, "accounts", column_names(account_columns())));
  // seq, the order applied, is SQLite's (AUTOINCREMENT), not a transfer's field.
  std::vector<std::string_view> transfers = column_names(transfer_columns());
  transfers.push_back("seq");
  BERTH_RETURN_IF_ERROR(check_table_columns(db, "transfers", transfers));
  BERTH_RETURN_IF_ERROR(check_table_columns(db, "topups", column_names(topup_columns())));
  return check_table_columns(db, "audit", column_names(audit_columns()));
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
      {&upsert_org_, insert_sql("orgs", kOrgColumns, "id")},
      {&insert_project_, insert_sql("projects", kProjectColumns)},
      {&insert_scheme_, insert_sql("schemes", kSchemeColumns)},
      {&upsert_award_, insert_sql("awards", kAwardColumns, "id")},
      {&insert_audit_, insert_sql("audit", column_names(audit_columns()))},
      {&delete_funding_order_, "DELETE FROM funding_order WHERE project_id = ?"},
      {&insert_funding_order_,
       "INSERT INTO funding_order (project_id, position, award_id) VALUES (?, ?, ?)"},
      {&insert_topup_, insert_sql("topups", column_names(topup_columns()))},
      {&upsert_account_, insert_sql("accounts", column_names(account_columns()), "id")},
      {&insert_transfer_, insert_sql("transfers", column_names(transfer_columns()))},
      {&update_pending_,
       "UPDATE transfers SET pending_state = ?, posted_minor = ? WHERE id = ? AND pending_state IS "
       "NOT NULL"},
      {&upsert_job_, insert_sql("jobs", column_names(job_columns()), "id")},
      {&upsert_application_, insert_sql("applications", kApplicationColumns, "id")},
      {&delete_reviews_, "DELETE FROM application_reviews WHERE application_id = ?"},
      {&insert_review_, insert_sql("application_reviews", kReviewColumns)},
      {&delete_criteria_, "DELETE FROM scheme_criteria WHERE scheme_id = ?"},
      {&insert_criterion_, insert_sql("scheme_criteria", kCriterionColumns)},
      {&insert_application_event_, insert_sql("application_events", kApplicationEventColumns)},
      {&upsert_report_, insert_sql("progress_reports", kReportColumns, "award_id, period")},
      {&insert_report_event_, insert_sql("progress_report_events", kReportEventColumns)},
      {&upsert_meta_, insert_sql("meta", {"name", "value"}, "name")},
      {&upsert_submit_key_,
       insert_sql("submit_keys", column_names(submit_key_columns()), "user_name, org_id, key")},
  };
  for (const auto& s : statements) {
    auto prepared = Stmt::Prepare(db, s.sql, /*persistent=*/true);
    if (!prepared.ok()) return prepared.status();
    *s.stmt = std::move(*prepared);
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
  for (const core::Org& o : c.orgs) BERTH_RETURN_IF_ERROR(write_org(o));
  for (const core::Account& a : c.accounts)
    BERTH_RETURN_IF_ERROR(write_row(upsert_account_, account_columns(), a, "account"));
  for (const core::Project& p : c.projects) BERTH_RETURN_IF_ERROR(write_project(p));
  for (const core::Scheme& s : c.schemes) BERTH_RETURN_IF_ERROR(write_scheme(s));
  for (const core::Award& a : c.awards) BERTH_RETURN_IF_ERROR(write_award(a));
  for (const core::Transfer& t : c.transfers) {
    BERTH_RETURN_IF_ERROR(
        write_row(insert_transfer_, transfer_columns(), new_transfer_row(t), "transfer"));
  }
  for (const core::PendingUpdate& u : c.pending) BERTH_RETURN_IF_ERROR(write_pending(u));
  for (const core::TopUp& t : c.topups)
    BERTH_RETURN_IF_ERROR(write_row(insert_topup_, topup_columns(), t, "top-up"));
  for (const core::AuditRecord& r : c.audit)
    BERTH_RETURN_IF_ERROR(write_row(insert_audit_, audit_columns(), r, "audit record"));
  for (const auto& [project, order] : c.funding_orders)
    BERTH_RETURN_IF_ERROR(write_funding_order(project, order));
  for (const auto& [scheme, criteria] : c.criteria)
    BERTH_RETURN_IF_ERROR(write_criteria(scheme, criteria));
  for (const core::Application& a : c.applications) BERTH_RETURN_IF_ERROR(write_application(a));
  for (const core::ApplicationEvent& e : c.application_events)
    BERTH_RETURN_IF_ERROR(write_application_event(e));
  for (const core::ProgressReport& r : c.reports) BERTH_RETURN_IF_ERROR(write_report(r));
  for (const core::ReportEvent& e : c.report_events) BERTH_RETURN_IF_ERROR(write_report_event(e));
  for (const core::Job& j : c.jobs) BERTH_RETURN_IF_ERROR(write_job(j));
  for (const core::SubmitKey& k : c.submit_keys)
    BERTH_RETURN_IF_ERROR(write_submit_key(k));  // after their jobs
  BERTH_RETURN_IF_ERROR(write_meta(kMetaNextJobId, static_cast<int64_t>(c.next_job_id)));
  BERTH_RETURN_IF_ERROR(write_meta(kMetaNextAccountId, static_cast<int64_t>(c.next_account_id)));
  BERTH_RETURN_IF_ERROR(
      write_meta(kMetaNextTransferSeq, static_cast<int64_t>(c.next_transfer_seq)));
  return write_meta(kMetaLastAliveMs, now_ms);
}

Status SqliteStore::write_org(const core::Org& o) {
  Stmt& s = upsert_org_;
  s.reset();
  s.bind_u64(o.id.value)
      .bind_text(o.name)
      .bind_text(core::org_kind_name(o.kind))
      .bind_i64(o.created_ms)
      .bind_text(o.registration.number)
      .bind_text(o.registration.address)
      .bind_text(o.registration.contact_name)
      .bind_text(o.registration.contact_email)
      .bind_text(o.registration.jurisdiction)
      .bind_i64(o.updated_ms);
  return with_context(s.run(), "org", o.id.value);
}

Status SqliteStore::write_project(const core::Project& p) {
  Stmt& s = insert_project_;
  s.reset();
  s.bind_u64(p.id.value)
      .bind_u64(p.org.value)
      .bind_text(p.name)
      .bind_u64(p.wallet.value)
      .bind_i64(p.created_ms);
  return with_context(s.run(), "project", p.id.value);
}

Status SqliteStore::write_scheme(const core::Scheme& x) {
  Stmt& s = insert_scheme_;
  s.reset();
  s.bind_u64(x.id.value)
      .bind_text(x.name)
      .bind_i64(x.rate_bps)
      .bind_i64(x.eligible_kinds)
      .bind_text(eligible_kinds_text(x.eligible_kinds))
      .bind_text(core::shortfall_name(x.shortfall))
      .bind_u64(x.fund.value)
      .bind_i64(x.created_ms)
      .bind_i64(x.exceptional_rate_bps)
      .bind_i64(x.cap_per_project_minor)
      .bind_i64(x.window_open_ms)
      .bind_i64(x.window_close_ms)
      .bind_i64(x.award_validity_days);
  return with_context(s.run(), "scheme", x.id.value);
}

Status SqliteStore::write_award(const core::Award& a) {
  Stmt& s = upsert_award_;
  s.reset();
  s.bind_u64(a.id.value)
      .bind_u64(a.scheme.value)
      .bind_u64(a.project.value)
      .bind_u64(a.account.value)
      .bind_i64(a.amount_minor)
      .bind_i64(a.gpu_level)
      .bind_i64(a.start_ms)
      .bind_i64(a.end_ms)
      .bind_i64(a.created_ms)
      .bind_i64(a.rate_bps)
      .bind_id_or_null(a.application.value)
      .bind_i64(a.closed_ms)
      .bind_i64(a.returned_ms)
      .bind_i64(a.returned_minor)
      .bind_i64(a.report_every_months)
      .bind_i64(a.report_grace_days);
  return with_context(s.run(), "award", a.id.value);
}

Status SqliteStore::write_funding_order(uint64_t project, const std::vector<AwardId>& order) {
  delete_funding_order_.reset();
  delete_funding_order_.bind_u64(project);
  BERTH_RETURN_IF_ERROR(
      with_context(delete_funding_order_.run(), "funding order of project", project));
  for (size_t i = 0; i < order.size(); ++i) {
    Stmt& s = insert_funding_order_;
    s.reset();
    s.bind_u64(project).bind_i64(static_cast<int64_t>(i)).bind_u64(order[i].value);
    BERTH_RETURN_IF_ERROR(with_context(s.run(), "funding order of project", project));
  }
  return Status::Ok();
}

Status SqliteStore::write_submit_key(const core::SubmitKey& k) {
  Stmt& s = upsert_submit_key_;
  s.reset();
  bind_columns(s, submit_key_columns(), k);
  return with_context(s.run(), "idempotency key of job", k.job.value);
}

Status SqliteStore::write_criteria(uint64_t scheme, const std::vector<core::Criterion>& criteria) {
  delete_criteria_.reset();
  delete_criteria_.bind_u64(scheme);
  BERTH_RETURN_IF_ERROR(with_context(delete_criteria_.run(), "criteria of scheme", scheme));
  for (size_t i = 0; i < criteria.size(); ++i) {
    Stmt& s = insert_criterion_;
    s.reset();
    s.bind_u64(scheme)
        .bind_i64(static_cast<int64_t>(i))
        .bind_text(criteria[i].name)
        .bind_i64(criteria[i].weight_bps);
    BERTH_RETURN_IF_ERROR(with_context(s.run(), "criteria of scheme", scheme));
  }
  return Status::Ok();
}

Status SqliteStore::write_application(const core::Application& a) {
  Stmt& s = upsert_application_;
  s.reset();
  s.bind_u64(a.id.value)
      .bind_u64(a.scheme.value)
      .bind_u64(a.project.value)
      .bind_u64(a.org.value)
      .bind_text(core::application_state_name(a.state))
      .bind_i64(a.terms.amount_minor)
      .bind_i64(a.terms.gpu_level)
      .bind_text(a.terms.gpu_model)
      .bind_i64(a.terms.duration_days)
      .bind_text(a.terms.justification)
      .bind_text(a.terms.planned_work)
      .bind_i64(a.created_ms)
      .bind_text(a.created_by)
      .bind_i64(a.updated_ms)
      .bind_i64(a.submitted_ms)
      .bind_text(a.submitted_by)
      .bind_i64(a.decided_ms)
      .bind_text(a.decided_by)
      .bind_i64(a.weighted_score_e4)
      .bind_i64(a.approved_minor)
      .bind_i64(a.approved_gpu_level)
      .bind_i64(a.approved_duration_days)
      .bind_i64(a.approved_rate_bps)
      .bind_text(a.rejection_reason)
      .bind_text(a.withdrawal_note)
      .bind_id_or_null(a.award.value);
  BERTH_RETURN_IF_ERROR(with_context(s.run(), "application", a.id.value));
  delete_reviews_.reset();
  delete_reviews_.bind_u64(a.id.value);
  BERTH_RETURN_IF_ERROR(with_context(delete_reviews_.run(), "reviews of application", a.id.value));
  for (size_t i = 0; i < a.reviews.size(); ++i) {
    const core::Review& r = a.reviews[i];
    Stmt& w = insert_review_;
    w.reset();
    w.bind_u64(a.id.value)
        .bind_i64(static_cast<int64_t>(i))
        .bind_text(r.reviewer)
        .bind_text(int_list_text(r.scores))
        .bind_i64(r.weighted_score_e4)
        .bind_text(r.comment)
        .bind_i64(r.at_ms);
    BERTH_RETURN_IF_ERROR(with_context(w.run(), "reviews of application", a.id.value));
  }
  return Status::Ok();
}

Status SqliteStore::write_application_event(const core::ApplicationEvent& e) {
  Stmt& s = insert_application_event_;
  s.reset();
  s.bind_u64(e.seq)
      .bind_id_or_null(e.application.value)
      .bind_u64(e.scheme.value)
      .bind_i64(e.at_ms)
      .bind_text(e.user)
      .bind_text(core::application_action_name(e.action))
      .bind_text(e.note);
  return with_context(s.run(), "application event", e.seq);
}

Status SqliteStore::write_report(const core::ProgressReport& r) {
  Stmt& s = upsert_report_;
  s.reset();
  s.bind_u64(r.award.value)
      .bind_i64(r.period)
      .bind_i64(r.due_ms)
      .bind_text(core::report_state_name(r.state))
      .bind_text(r.text)
      .bind_i64(r.submitted_ms)
      .bind_text(r.submitted_by)
      .bind_i64(r.decided_ms)
      .bind_text(r.decided_by)
      .bind_text(r.return_reason)
      .bind_i64(r.submissions);
  return with_context(s.run(), "progress report of award", r.award.value);
}

Status SqliteStore::write_report_event(const core::ReportEvent& e) {
  Stmt& s = insert_report_event_;
  s.reset();
  s.bind_u64(e.seq)
      .bind_u64(e.award.value)
      .bind_i64(e.period)
      .bind_i64(e.at_ms)
      .bind_text(e.user)
      .bind_text(core::report_action_name(e.action))
      .bind_text(e.note);
  return with_context(s.run(), "progress report event", e.seq);
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

Status SqliteStore::write_job(const core::Job& j) {
  Stmt& s = upsert_job_;
  s.reset();
  bind_columns(s, job_columns(), j);
  return with_context(s.run(), "job", j.id.value);
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
  auto del = prepare_once(db_.get(), "DELETE FROM nodes");
  if (!del.ok()) return del.status();
  auto ins = prepare_once(db_.get(), insert_sql("nodes", column_names(node_columns())));
  if (!ins.ok()) return ins.status();
  return in_transaction("put nodes", [&]() -> Status {
    BERTH_RETURN_IF_ERROR(del->run());
    for (const core::Node& n : nodes) {
      ins->reset();
      bind_columns(*ins, node_columns(), n);
      BERTH_RETURN_IF_ERROR(with_context(ins->run(), "node", n.id.value));
    }
    return Status::Ok();
  });
}

Status SqliteStore::put_node_state(const std::string& name, core::NodeState state) {
  auto s = prepare_once(db_.get(), "UPDATE nodes SET state = ? WHERE name = ?");
  if (!s.ok()) return s.status();
  return in_transaction("put node state", [&]() -> Status {
    s->bind_text(core::node_state_name(state)).bind_text(name);
    BERTH_RETURN_IF_ERROR(s->run());
    if (s->changes() == 0) return Status::NotFound("store: no node named '" + name + "'");
    return Status::Ok();
  });
}

Status SqliteStore::put_token(const TokenRow& row) { return put_tokens({row}); }

Status SqliteStore::put_tokens(const std::vector<TokenRow>& rows) {
  auto s =
      prepare_once(db_.get(), insert_sql("tokens", column_names(token_columns()), "token_hash"));
  if (!s.ok()) return s.status();
  return in_transaction("put tokens", [&]() -> Status {
    for (const TokenRow& row : rows) {
      s->reset();
      bind_columns(*s, token_columns(), row);
      BERTH_RETURN_IF_ERROR(s->run());
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
  auto s = prepare_once(db_.get(), select_sql("tokens", column_names(token_columns()), "rowid"));
  if (!s.ok()) return s.status();
  std::vector<TokenRow> out;
  while (true) {
    auto row = s->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    TokenRow t;
    NoRowProblems none;
    read_columns(*s, token_columns(), t, none);
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<core::Node>> SqliteStore::nodes() {
  std::vector<core::Node> out;
  const Status st = for_each_row(
      db_.get(), select_sql("nodes", column_names(node_columns()), "id"), [&](Stmt& s) {
        core::Node n;
        FirstUnreadable unreadable;
        read_columns(s, node_columns(), n, unreadable);
        if (unreadable.column != nullptr)
          return bad_value("node", unreadable.column, n.id.value, unreadable.text);
        out.push_back(std::move(n));
        return Status::Ok();
      });
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
  if (st.ok()) st = load_orgs(&rows);
  if (st.ok()) st = load_projects(&rows);
  if (st.ok()) st = load_schemes(&rows);
  if (st.ok()) st = load_awards(&rows);
  if (st.ok()) st = read_table(db, "accounts", account_columns(), "id", "account", &rows.accounts);
  if (st.ok()) st = load_transfers(db, &rows);
  if (st.ok()) st = load_topups(db, &rows);
  if (st.ok()) st = load_jobs(&rows);
  if (st.ok()) st = load_applications(&rows);
  if (st.ok()) st = read_table(db, "audit", audit_columns(), "seq", "audit record", &rows.audit);
  if (st.ok()) st = load_funding_orders(&rows);
  if (st.ok()) st = load_reports(&rows);
  if (st.ok()) st = load_submit_keys(&rows);
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

Status SqliteStore::load_orgs(core::ChangeSet* rows) {
  return for_each_row(db_.get(), select_sql("orgs", kOrgColumns, "id"), [&](Stmt& s) {
    core::Org o;
    o.id = OrgId(s.col_u64());
    o.name = s.col_text();
    const std::string kind = s.col_text();
    o.created_ms = s.col_i64();
    o.registration.number = s.col_text();
    o.registration.address = s.col_text();
    o.registration.contact_name = s.col_text();
    o.registration.contact_email = s.col_text();
    o.registration.jurisdiction = s.col_text();
    o.updated_ms = s.col_i64();
    if (!core::parse_org_kind(kind, &o.kind)) return bad_value("org", "kind", o.id.value, kind);
    rows->orgs.push_back(std::move(o));
    return Status::Ok();
  });
}

Status SqliteStore::load_projects(core::ChangeSet* rows) {
  return for_each_row(db_.get(), select_sql("projects", kProjectColumns, "id"), [&](Stmt& s) {
    core::Project p;
    p.id = ProjectId(s.col_u64());
    p.org = OrgId(s.col_u64());
    p.name = s.col_text();
    p.wallet = AccountId(s.col_u64());
    p.created_ms = s.col_i64();
    rows->projects.push_back(std::move(p));
    return Status::Ok();
  });
}

Status SqliteStore::load_schemes(core::ChangeSet* rows) {
  return for_each_row(db_.get(), select_sql("schemes", kSchemeColumns, "id"), [&](Stmt& s) {
    core::Scheme x;
    x.id = SchemeId(s.col_u64());
    x.name = s.col_text();
    x.rate_bps = s.col_i64();
    x.eligible_kinds = static_cast<uint32_t>(s.col_i64());
    (void)s.col_text();  // eligible_kinds_text: for people; the bitmask is authoritative
    const std::string shortfall = s.col_text();
    x.fund = AccountId(s.col_u64());
    x.created_ms = s.col_i64();
    x.exceptional_rate_bps = s.col_i64();
    x.cap_per_project_minor = s.col_i64();
    x.window_open_ms = s.col_i64();
    x.window_close_ms = s.col_i64();
    x.award_validity_days = static_cast<int>(s.col_i64());
    if (!core::parse_shortfall(shortfall, &x.shortfall))
      return bad_value("scheme", "shortfall", x.id.value, shortfall);
    rows->schemes.push_back(std::move(x));
    return Status::Ok();
  });
}

Status SqliteStore::load_awards(core::ChangeSet* rows) {
  return for_each_row(db_.get(), select_sql("awards", kAwardColumns, "id"), [&](Stmt& s) {
    core::Award a;
    a.id = AwardId(s.col_u64());
    a.scheme = SchemeId(s.col_u64());
    a.project = ProjectId(s.col_u64());
    a.account = AccountId(s.col_u64());
    a.amount_minor = s.col_i64();
    a.gpu_level = static_cast<int>(s.col_i64());
    a.start_ms = s.col_i64();
    a.end_ms = s.col_i64();
    a.created_ms = s.col_i64();
    a.rate_bps = s.col_i64();
    a.application = ApplicationId(s.col_u64());  // NULL reads as 0: awarded directly
    a.closed_ms = s.col_i64();
    a.returned_ms = s.col_i64();
    a.returned_minor = s.col_i64();
    a.report_every_months = static_cast<int>(s.col_i64());
    a.report_grace_days = static_cast<int>(s.col_i64());
    rows->awards.push_back(a);
    return Status::Ok();
  });
}

Status SqliteStore::load_applications(core::ChangeSet* rows) {
  BERTH_RETURN_IF_ERROR(
      for_each_row(db_.get(), select_sql("applications", kApplicationColumns, "id"), [&](Stmt& s) {
        core::Application a;
        a.id = ApplicationId(s.col_u64());
        a.scheme = SchemeId(s.col_u64());
        a.project = ProjectId(s.col_u64());
        a.org = OrgId(s.col_u64());
        const std::string state = s.col_text();
        a.terms.amount_minor = s.col_i64();
        a.terms.gpu_level = static_cast<int>(s.col_i64());
        a.terms.gpu_model = s.col_text();
        a.terms.duration_days = static_cast<int>(s.col_i64());
        a.terms.justification = s.col_text();
        a.terms.planned_work = s.col_text();
        a.created_ms = s.col_i64();
        a.created_by = s.col_text();
        a.updated_ms = s.col_i64();
        a.submitted_ms = s.col_i64();
        a.submitted_by = s.col_text();
        a.decided_ms = s.col_i64();
        a.decided_by = s.col_text();
        a.weighted_score_e4 = s.col_i64();
        a.approved_minor = s.col_i64();
        a.approved_gpu_level = static_cast<int>(s.col_i64());
        a.approved_duration_days = static_cast<int>(s.col_i64());
        a.approved_rate_bps = s.col_i64();
        a.rejection_reason = s.col_text();
        a.withdrawal_note = s.col_text();
        a.award = AwardId(s.col_u64());
        if (!core::parse_application_state(state, &a.state))
          return bad_value("application", "state", a.id.value, state);
        rows->applications.push_back(std::move(a));
        return Status::Ok();
      }));
  BERTH_RETURN_IF_ERROR(for_each_row(
      db_.get(), select_sql("application_reviews", kReviewColumns, "application_id, position"),
      [&](Stmt& s) {
        const uint64_t app = s.col_u64();
        (void)s.col_i64();  // position: the order of the rows
        core::Review r;
        r.reviewer = s.col_text();
        const std::string scores = s.col_text();
        r.weighted_score_e4 = s.col_i64();
        r.comment = s.col_text();
        r.at_ms = s.col_i64();
        if (app == 0 || app > rows->applications.size())
          return Status::Internal("store: a review names application " + std::to_string(app) +
                                  ", which does not exist");
        if (!parse_int_list(scores, &r.scores))
          return bad_value("application review of", "scores", app, scores);
        rows->applications[app - 1].reviews.push_back(std::move(r));
        return Status::Ok();
      }));
  BERTH_RETURN_IF_ERROR(for_each_row(
      db_.get(), select_sql("scheme_criteria", kCriterionColumns, "scheme_id, position"),
      [&](Stmt& s) {
        const uint64_t scheme = s.col_u64();
        (void)s.col_i64();  // position
        core::Criterion c;
        c.name = s.col_text();
        c.weight_bps = s.col_i64();
        rows->criteria[scheme].push_back(std::move(c));
        return Status::Ok();
      }));
  return for_each_row(
      db_.get(), select_sql("application_events", kApplicationEventColumns, "seq"), [&](Stmt& s) {
        core::ApplicationEvent e;
        e.seq = s.col_u64();
        e.application = ApplicationId(s.col_u64());
        e.scheme = SchemeId(s.col_u64());
        e.at_ms = s.col_i64();
        e.user = s.col_text();
        const std::string action = s.col_text();
        e.note = s.col_text();
        if (!parse_named(action, &core::application_action_name,
                         static_cast<int>(core::ApplicationAction::kCriteriaSet),
                         static_cast<int>(core::ApplicationAction::kAwarded), &e.action))
          return bad_value("application event", "action", e.seq, action);
        rows->application_events.push_back(std::move(e));
        return Status::Ok();
      });
}

Status SqliteStore::load_funding_orders(core::ChangeSet* rows) {
  return for_each_row(
      db_.get(), "SELECT project_id, award_id FROM funding_order ORDER BY project_id, position",
      [&](Stmt& s) {
        const uint64_t project = s.col_u64();
        rows->funding_orders[project].push_back(AwardId(s.col_u64()));
        return Status::Ok();
      });
}

Status SqliteStore::load_reports(core::ChangeSet* rows) {
  BERTH_RETURN_IF_ERROR(for_each_row(
      db_.get(), select_sql("progress_reports", kReportColumns, "award_id, period"), [&](Stmt& s) {
        core::ProgressReport r;
        r.award = AwardId(s.col_u64());
        r.period = static_cast<int>(s.col_i64());
        r.due_ms = s.col_i64();
        const std::string state = s.col_text();
        r.text = s.col_text();
        r.submitted_ms = s.col_i64();
        r.submitted_by = s.col_text();
        r.decided_ms = s.col_i64();
        r.decided_by = s.col_text();
        r.return_reason = s.col_text();
        r.submissions = static_cast<int>(s.col_i64());
        if (!core::parse_report_state(state, &r.state))
          return bad_value("progress report", "state", r.award.value, state);
        rows->reports.push_back(std::move(r));
        return Status::Ok();
      }));
  return for_each_row(db_.get(), select_sql("progress_report_events", kReportEventColumns, "seq"),
                      [&](Stmt& s) {
                        core::ReportEvent e;
                        e.seq = s.col_u64();
                        e.award = AwardId(s.col_u64());
                        e.period = static_cast<int>(s.col_i64());
                        e.at_ms = s.col_i64();
                        e.user = s.col_text();
                        const std::string action = s.col_text();
                        e.note = s.col_text();
                        if (!core::parse_report_action(action, &e.action))
                          return bad_value("progress report event", "action", e.seq, action);
                        rows->report_events.push_back(std::move(e));
                        return Status::Ok();
                      });
}

Status SqliteStore::load_submit_keys(core::ChangeSet* rows) {
  const auto& columns = submit_key_columns();
  return for_each_row(db_.get(), select_sql("submit_keys", column_names(columns), "job_id"),
                      [&](Stmt& s) {
                        core::SubmitKey k;
                        NoRowProblems none;
                        read_columns(s, columns, k, none);
                        rows->submit_keys.push_back(std::move(k));
                        return Status::Ok();
                      });
}

Status SqliteStore::load_jobs(core::ChangeSet* rows) {
  const std::vector<JobColumn>& columns = job_columns();
  return for_each_row(db_.get(), select_sql("jobs", column_names(columns), "id"), [&](Stmt& s) {
    // A field this berth cannot read gets a safe default and is reported, never a failed load:
    // Engine::Restore decides what becomes of the job (store/README.md, "Rows that cannot be
    // read").
    core::Job j;
    core::JobRowProblem problem;
    read_columns(s, columns, j, problem);
    if (!problem.what.empty()) rows->job_problems[j.id.value] = std::move(problem);
    rows->jobs.push_back(std::move(j));
    return Status::Ok();
  });
}

}  // namespace berth::store
