// A thin RAII layer over libpq for the PostgreSQL store: owned connections and results, a
// statement's parameters as text, PostgreSQL's errors as a Status carrying its message, and a
// pipeline (libpq's pipeline mode) that sends many statements before reading their results, so
// that a batch of many rows is a few round trips, not one per row. Used only inside the store;
// not thread-safe.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::store::pg {

struct FinishConn {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, FinishConn>;

struct ClearResult {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ClearResult>;

// The database's clock in milliseconds since the epoch, as SQL: the lease and the rows that
// record a time use it, so berthds' clocks never have to agree.
inline constexpr const char* kDatabaseNowMs =
    "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

// How a connection is set up beyond the URL.
struct ConnectOptions {
  // A session idle inside a transaction this long is ended by the server, so that a stopped
  // client (SIGSTOP, a partition) cannot hold its locks for ever. 0: PostgreSQL's default.
  int64_t idle_in_transaction_ms = 0;
  int connect_timeout_s = 5;
};

// Connects to `url` (a postgresql:// URL or key=value string) with TCP keepalives.
// kUnavailable when the server cannot be reached, with libpq's message.
Result<ConnPtr> Connect(const std::string& url, const ConnectOptions& options);

// Whether the connection is lost (the server went away, the socket broke).
inline bool lost(PGconn* c) { return c == nullptr || PQstatus(c) == CONNECTION_BAD; }

// A Status for a failed statement: kUnavailable when the connection is lost, kInternal
// otherwise; the message names `what` and holds PostgreSQL's own text.
Status Error(PGconn* c, const PGresult* r, std::string_view what);

// A statement's parameters, in order, as text; PostgreSQL converts each to its column's type.
class Params {
 public:
  Params& add_i64(int64_t v) { return add_text(std::to_string(v)); }
  Params& add_text(std::string v);
  Params& add_null();
  void clear();
  int size() const { return static_cast<int>(values_.size()); }
  // Pointers to the values (nullptr for NULL), valid until the next change.
  const char* const* values() const;

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
  mutable std::vector<const char*> pointers_;
};

// Runs `sql` (one or more statements, no parameters) and returns the last result; an error
// unless it completed (with or without rows).
Result<ResultPtr> Exec(PGconn* c, const std::string& sql);
// Runs one statement with parameters ($1, $2, ...).
Result<ResultPtr> Exec(PGconn* c, const std::string& sql, const Params& params);

// Reading a result: text values, NULL as "" / 0.
int64_t get_i64(const PGresult* r, int row, int col);
std::string get_text(const PGresult* r, int row, int col);
inline bool is_null(const PGresult* r, int row, int col) { return PQgetisnull(r, row, col) != 0; }

// A connection of its own for small statements (the lease, job scripts): connected on first
// use and again after it was lost, once per call; a call whose connection is lost fails
// kUnavailable and the next one reconnects. Not thread-safe.
class Session {
 public:
  Session(std::string url, ConnectOptions options) : url_(std::move(url)), options_(options) {}
  // Connects now: an error when the database cannot be reached.
  Status connect();
  Result<ResultPtr> exec(const std::string& sql, const Params& params);

 private:
  std::string url_;
  ConnectOptions options_;
  ConnPtr conn_;
};

// Statements sent in libpq's pipeline mode and their results checked in order, so that a batch
// of many rows costs a few round trips. The first failure is kept; the server skips every
// statement after a failed one until the next sync point, and so does send(). Results are read
// every kChunk statements (and by read_all), so that neither side's buffers fill up whatever
// the batch's size. A transaction is the caller's (BEGIN ... COMMIT sent through it).
class Pipeline {
 public:
  static constexpr size_t kChunk = 256;
  // What a statement's result must be; a failure names `what` and `key`.
  struct Check {
    const char* what = "";
    uint64_t key = 0;
    std::string missing;  // not empty: exactly one row must change, else Status(missing_code,
                          // missing)
    Code missing_code = Code::kNotFound;
    int64_t* value = nullptr;  // set to the first column of the first row (0 when none)
  };

  explicit Pipeline(PGconn* c);
  // Ends the pipeline (a sync point if anything is unread) and leaves pipeline mode.
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Sends a statement prepared (PQprepare) as `name`, or with `sql` unnamed.
  Status send_prepared(const std::string& name, const Params& params, Check check);
  Status send(const std::string& sql, const Params& params, Check check);
  // Asks the server for the results so far and reads them all: the first failure, or Ok.
  Status read_all();
  // A sync point (an implicit transaction ends here; an explicit one goes on): calls
  // `after_send` with the connection's socket once everything is sent, then reads every
  // result up to it. The first failure, or Ok.
  Status sync(const std::function<void(int socket)>& after_send = nullptr);

 private:
  Status sent(int ok, Check check);
  Status read_one();

  PGconn* c_;
  Status first_error_;
  std::deque<Check> pending_;
};

}  // namespace berth::store::pg
