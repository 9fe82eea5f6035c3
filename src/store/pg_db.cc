#include "store/pg_db.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace berth::store::pg {

Result<ConnPtr> Connect(const std::string& url, const ConnectOptions& options) {
  const std::string timeout = std::to_string(options.connect_timeout_s);
  const std::string session = options.idle_in_transaction_ms > 0
                                  ? "-c idle_in_transaction_session_timeout=" +
                                        std::to_string(options.idle_in_transaction_ms)
                                  : "";
  // Keepalives find a peer that vanished (a partition) in seconds rather than hours.
  const char* keys[] = {
      "dbname",           "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
      "keepalives_count", "options",         nullptr};
  const char* values[] = {url.c_str(), timeout.c_str(), "1",    "5", "2",
                          "3",         session.c_str(), nullptr};
  ConnPtr c(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (c == nullptr) return Status(Code::kUnavailable, "postgresql: out of memory connecting");
  if (PQstatus(c.get()) != CONNECTION_OK)
    return Status(Code::kUnavailable,
                  std::string("postgresql: cannot connect: ") + PQerrorMessage(c.get()));
  // Notices ("there is no transaction in progress") are not berthd's log's business.
  PQsetNoticeProcessor(
      c.get(), [](void*, const char*) {}, nullptr);
  return c;
}

Status Error(PGconn* c, const PGresult* r, std::string_view what) {
  // The server's primary message and its detail, without libpq's "ERROR:  " and layout.
  const char* primary = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  std::string message = primary != nullptr ? primary : "";
  if (detail != nullptr) message += std::string(" (") + detail + ")";
  if (message.empty() && c != nullptr) message = PQerrorMessage(c);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const std::string text =
      "postgresql: " + (what.empty() ? std::string() : std::string(what) + ": ") + message;
  if (lost(c)) return Status(Code::kUnavailable, text);
  return Status::Internal(text);
}

Params& Params::add_text(std::string v) {
  values_.push_back(std::move(v));
  null_.push_back(false);
  return *this;
}

Params& Params::add_null() {
  values_.emplace_back();
  null_.push_back(true);
  return *this;
}

void Params::clear() {
  values_.clear();
  null_.clear();
}

const char* const* Params::values() const {
  pointers_.resize(values_.size());
  for (size_t i = 0; i < values_.size(); ++i)
    pointers_[i] = null_[i] ? nullptr : values_[i].c_str();
  return pointers_.data();
}

namespace {

Result<ResultPtr> checked(PGconn* c, PGresult* raw, std::string_view what) {
  ResultPtr r(raw);
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
  return Error(c, r.get(), what);
}

// A statement in a message: its first line, at most 80 characters.
std::string_view first_line(const std::string& sql) {
  return std::string_view(sql).substr(0, std::min<size_t>(sql.find('\n'), 80));
}

}  // namespace

Result<ResultPtr> Exec(PGconn* c, const std::string& sql) {
  return checked(c, PQexec(c, sql.c_str()), first_line(sql));
}

Result<ResultPtr> Exec(PGconn* c, const std::string& sql, const Params& params) {
  return checked(
      c, PQexecParams(c, sql.c_str(), params.size(), nullptr, params.values(), nullptr, nullptr, 0),
      sql);
}

int64_t get_i64(const PGresult* r, int row, int col) {
  const char* text = PQgetvalue(r, row, col);
  int64_t v = 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), v);
  return v;
}

std::string get_text(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

Status Session::connect() {
  conn_.reset();
  BERTH_ASSIGN_OR_RETURN(conn_, Connect(url_, options_));
  return Status::Ok();
}

Result<ResultPtr> Session::exec(const std::string& sql, const Params& params) {
  if (lost(conn_.get())) BERTH_RETURN_IF_ERROR(connect());
  return Exec(conn_.get(), sql, params);
}

// ---------------------------------------------------------------------------------------
// Pipeline

Pipeline::Pipeline(PGconn* c) : c_(c) {
  if (PQenterPipelineMode(c_) != 1) first_error_ = Error(c_, nullptr, "enter pipeline mode");
}

Pipeline::~Pipeline() {
  if (!pending_.empty() && !lost(c_)) (void)sync();
  if (!lost(c_)) PQexitPipelineMode(c_);
}

Status Pipeline::send_prepared(const std::string& name, const Params& params, Check check) {
  if (!first_error_.ok()) return first_error_;
  return sent(
      PQsendQueryPrepared(c_, name.c_str(), params.size(), params.values(), nullptr, nullptr, 0),
      std::move(check));
}

Status Pipeline::send(const std::string& sql, const Params& params, Check check) {
  if (!first_error_.ok()) return first_error_;
  return sent(PQsendQueryParams(c_, sql.c_str(), params.size(), nullptr, params.values(), nullptr,
                                nullptr, 0),
              std::move(check));
}

Status Pipeline::sent(int ok, Check check) {
  if (ok != 1) {
    first_error_ = Error(c_, nullptr, std::string("send ") + check.what);
    return first_error_;
  }
  pending_.push_back(std::move(check));
  if (pending_.size() >= kChunk) return read_all();
  return Status::Ok();
}

Status Pipeline::read_all() {
  if (pending_.empty()) return first_error_;
  if (PQsendFlushRequest(c_) != 1 || PQflush(c_) != 0) {
    first_error_ = Error(c_, nullptr, "flush");
    pending_.clear();
    return first_error_;
  }
  while (!pending_.empty() && !lost(c_)) (void)read_one();
  if (!pending_.empty()) {
    if (first_error_.ok()) first_error_ = Error(c_, nullptr, "read results");
    pending_.clear();
  }
  return first_error_;
}

// Reads the result of the first pending statement (and the NULL that ends it).
Status Pipeline::read_one() {
  Check check = std::move(pending_.front());
  pending_.pop_front();
  ResultPtr r(PQgetResult(c_));
  if (r == nullptr) {
    if (first_error_.ok()) first_error_ = Error(c_, nullptr, check.what);
    return first_error_;
  }
  const ExecStatusType st = PQresultStatus(r.get());
  Status outcome;
  if (st == PGRES_FATAL_ERROR) {
    const std::string key = check.key != 0 ? " " + std::to_string(check.key) : "";
    const Status failed = Error(c_, r.get(), "");
    outcome = Status(failed.code(), check.what + key + ": " + failed.message());
  } else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    if (!check.missing.empty() && std::atoi(PQcmdTuples(r.get())) != 1)
      outcome = Status(check.missing_code, check.missing);
    if (check.value != nullptr) *check.value = PQntuples(r.get()) > 0 ? get_i64(r.get(), 0, 0) : 0;
  }  // PGRES_PIPELINE_ABORTED: skipped after an earlier failure, which is already kept.
  if (!lost(c_)) r.reset(PQgetResult(c_));  // the NULL after each statement's result
  if (first_error_.ok() && !outcome.ok()) first_error_ = outcome;
  return first_error_;
}

Status Pipeline::sync(const std::function<void(int socket)>& after_send) {
  if (PQpipelineSync(c_) != 1) {
    pending_.clear();
    if (first_error_.ok()) first_error_ = Error(c_, nullptr, "sync");
    return first_error_;
  }
  if (after_send) after_send(PQsocket(c_));
  while (!pending_.empty() && !lost(c_)) (void)read_one();
  // Then the sync point's own result; a lost connection ends the wait.
  for (int nulls = 0; !lost(c_) && nulls < 2;) {
    ResultPtr r(PQgetResult(c_));
    if (r == nullptr) {
      ++nulls;
      continue;
    }
    if (PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC) break;
  }
  if (lost(c_)) {
    pending_.clear();
    if (first_error_.ok() || first_error_.code() != Code::kUnavailable)
      first_error_ = Error(c_, nullptr, "sync");
  }
  return first_error_;
}

}  // namespace berth::store::pg
