#include "store/sqlite_db.h"

namespace berth::store::sqlite {

Status Error(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  const Code code =
      primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? Code::kUnavailable : Code::kInternal;
  std::string message = "sqlite: ";
  message += what;
  message += ": ";
  // The connection's message describes the last failure on it; fall back to the generic
  // text of the code when the connection does not exist or holds no matching message.
  if (db != nullptr && (sqlite3_extended_errcode(db) & 0xff) == primary) {
    message += sqlite3_errmsg(db);
  } else {
    message += sqlite3_errstr(rc);
  }
  message += " (code " + std::to_string(rc) + ")";
  return Status(code, std::move(message));
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  const int primary = rc & 0xff;
  const Code code =
      primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? Code::kUnavailable : Code::kInternal;
  std::string first_line(sql);
  if (const size_t nl = first_line.find('\n'); nl != std::string::npos) first_line.resize(nl);
  return Status(code,
                "sqlite: " + first_line + ": " + message + " (code " + std::to_string(rc) + ")");
}

Result<Stmt> Stmt::Prepare(sqlite3* db, std::string_view sql, bool persistent) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
  Stmt stmt(db, raw);  // owns raw from here, even on failure
  if (rc != SQLITE_OK) return Error(db, rc, "prepare " + std::string(sql.substr(0, 80)));
  if (raw == nullptr)
    return Status::Internal("sqlite: prepare: no statement in '" + std::string(sql) + "'");
  return stmt;
}

void Stmt::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  next_param_ = 1;
  next_col_ = 0;
  bind_rc_ = SQLITE_OK;
}

Stmt& Stmt::bind_i64(int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_.get(), next_param_++, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::bind_text(std::string_view value) {
  const int rc = sqlite3_bind_text64(stmt_.get(), next_param_++, value.data(), value.size(),
                                     SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::bind_null() {
  const int rc = sqlite3_bind_null(stmt_.get(), next_param_++);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Status Stmt::fail(int rc, std::string_view what) {
  Status st = Error(db_, rc, what);
  std::string message = st.message();
  if (const char* sql = sqlite3_sql(stmt_.get())) {
    std::string text(sql);
    if (text.size() > 80) text = text.substr(0, 80) + "...";
    message += " in: " + text;
  }
  sqlite3_reset(stmt_.get());
  return Status(st.code(), std::move(message));
}

Status Stmt::run() {
  if (bind_rc_ != SQLITE_OK) return fail(bind_rc_, "bind");
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_DONE) {
    sqlite3_reset(stmt_.get());
    return Status::Ok();
  }
  if (rc == SQLITE_ROW) {
    sqlite3_reset(stmt_.get());
    return Status::Internal("sqlite: a statement run for its effect returned rows");
  }
  return fail(rc, "step");
}

Result<bool> Stmt::step() {
  if (bind_rc_ != SQLITE_OK) return fail(bind_rc_, "bind");
  next_col_ = 0;
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    sqlite3_reset(stmt_.get());
    return false;
  }
  return fail(rc, "step");
}

int64_t Stmt::col_i64() { return sqlite3_column_int64(stmt_.get(), next_col_++); }

std::string Stmt::col_text() {
  const int col = next_col_++;
  const unsigned char* text = sqlite3_column_text(stmt_.get(), col);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), col)));
}

bool Stmt::col_is_null() const {
  return sqlite3_column_type(stmt_.get(), next_col_) == SQLITE_NULL;
}

}  // namespace berth::store::sqlite
