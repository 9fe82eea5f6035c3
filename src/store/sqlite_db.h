// A thin RAII layer over the SQLite C API: an owned connection, owned prepared statements
// with sequential binding and reading, and SQLite errors turned into a Status that carries
// SQLite's own message. Used only inside the store; not thread-safe.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace berth::store::sqlite {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, CloseDb>;

struct FinalizeStmt {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

// A Status for SQLite result code `rc` on `db`: kUnavailable when the database is busy or
// locked by another connection, kInternal otherwise. The message names `what` and holds
// SQLite's error text.
Status Error(sqlite3* db, int rc, std::string_view what);

// Runs one or more SQL statements that return no rows we need (schema scripts, BEGIN, ...).
Status Exec(sqlite3* db, const char* sql);

// A prepared statement. Parameters are bound in order from the first; a row's columns are
// read in order from the first. Typical use:
//   stmt.reset(); stmt.bind_i64(a).bind_text(b); BERTH_RETURN_IF_ERROR(stmt.run());
// A statement is reset before each use (reset()) and after it finishes or fails, so a
// cached statement never holds a read transaction open between uses.
class Stmt {
 public:
  Stmt() = default;
  // Prepares `sql` on `db`. `persistent` hints SQLite that it is kept for long (cached).
  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql, bool persistent);

  Stmt(Stmt&&) = default;
  Stmt& operator=(Stmt&&) = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool valid() const { return stmt_ != nullptr; }

  // Resets the statement and its bindings; the next bind is parameter 1.
  void reset();

  Stmt& bind_i64(int64_t value);
  // Unsigned 64-bit values are stored bit for bit as SQLite's signed INTEGER.
  Stmt& bind_u64(uint64_t value) { return bind_i64(static_cast<int64_t>(value)); }
  Stmt& bind_bool(bool value) { return bind_i64(value ? 1 : 0); }
  Stmt& bind_text(std::string_view value);
  Stmt& bind_null();
  // An id column that is NULL when the id is 0 (no such object), so foreign keys hold.
  Stmt& bind_id_or_null(uint64_t id) { return id == 0 ? bind_null() : bind_u64(id); }

  // Runs a statement that returns no rows, then resets it.
  Status run();
  // Steps once: true with a row to read, false when done. Resets the statement when done
  // or on an error.
  Result<bool> step();

  // Reading the current row; the first call after step() reads column 0.
  int64_t col_i64();
  uint64_t col_u64() { return static_cast<uint64_t>(col_i64()); }
  bool col_bool() { return col_i64() != 0; }
  std::string col_text();
  bool col_is_null() const;  // whether the next column to read is NULL (does not advance)

  // Rows changed by the last run() of this connection.
  int changes() const { return sqlite3_changes(db_); }

 private:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Status fail(int rc, std::string_view what);

  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, FinalizeStmt> stmt_;
  int next_param_ = 1;
  int next_col_ = 0;
  int bind_rc_ = SQLITE_OK;  // the first binding error since reset()
};

}  // namespace berth::store::sqlite
