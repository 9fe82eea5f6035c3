#include "agent/agent_store.h"

#include "store/sqlite_db.h"

namespace berth::agent {

namespace sq = ::berth::store::sqlite;

namespace {

constexpr const char* kSchema = R"(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS launches (
  job INTEGER NOT NULL, attempt INTEGER NOT NULL, rank INTEGER NOT NULL, step INTEGER NOT NULL,
  epoch INTEGER NOT NULL, fenceable INTEGER NOT NULL, running INTEGER NOT NULL,
  started_unix_ms INTEGER NOT NULL, pgid INTEGER NOT NULL,
  ended INTEGER NOT NULL, end_seq INTEGER NOT NULL, exit_code INTEGER NOT NULL,
  signal INTEGER NOT NULL, runtime_ms INTEGER NOT NULL, oom INTEGER NOT NULL,
  timed_out INTEGER NOT NULL, stopped INTEGER NOT NULL, launch_failed INTEGER NOT NULL,
  lost INTEGER NOT NULL, reason TEXT NOT NULL,
  PRIMARY KEY (job, attempt, rank, step));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
)";

}  // namespace

struct AgentStore::Db {
  sq::DbPtr db;
  sq::Stmt put, meta, settle, rows, read_meta;
};

AgentStore::AgentStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}
AgentStore::~AgentStore() = default;

Result<std::unique_ptr<AgentStore>> AgentStore::Open(const std::string& path) {
  auto d = std::make_unique<Db>();
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  d->db.reset(raw);
  if (rc != SQLITE_OK) return sq::Error(raw, rc, "opening the agent's store " + path);
  sqlite3_busy_timeout(raw, 5000);
  BERTH_RETURN_IF_ERROR(sq::Exec(raw, kSchema));
  BERTH_ASSIGN_OR_RETURN(d->put, sq::Stmt::Prepare(raw,
                                                   "INSERT OR REPLACE INTO launches VALUES "
                                                   "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                                   true));
  BERTH_ASSIGN_OR_RETURN(
      d->meta, sq::Stmt::Prepare(raw,
                                 "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                                 "SET value = max(value, excluded.value)",
                                 true));
  BERTH_ASSIGN_OR_RETURN(
      d->settle,
      sq::Stmt::Prepare(raw, "DELETE FROM launches WHERE ended = 1 AND end_seq <= ?", true));
  BERTH_ASSIGN_OR_RETURN(d->rows, sq::Stmt::Prepare(raw, "SELECT * FROM launches", true));
  BERTH_ASSIGN_OR_RETURN(d->read_meta, sq::Stmt::Prepare(raw, "SELECT key, value FROM meta", true));
  return std::unique_ptr<AgentStore>(new AgentStore(std::move(d)));
}

Status AgentStore::put(const LaunchRecord& r, uint64_t max_epoch) {
  sqlite3* raw = db_->db.get();
  BERTH_RETURN_IF_ERROR(sq::Exec(raw, "BEGIN IMMEDIATE"));
  const EndReport e = r.end.value_or(EndReport{});
  sq::Stmt& s = db_->put;
  s.reset();
  s.bind_u64(r.key.job).bind_i64(r.key.attempt).bind_i64(r.key.rank).bind_i64(r.key.step);
  s.bind_u64(r.epoch).bind_bool(r.fenceable).bind_bool(r.running).bind_i64(r.started_unix_ms);
  s.bind_i64(r.pgid);
  s.bind_bool(r.end.has_value()).bind_u64(r.end_seq).bind_i64(e.exit_code).bind_i64(e.signal);
  s.bind_i64(e.runtime_ms).bind_bool(e.oom).bind_bool(e.timed_out).bind_bool(e.stopped);
  s.bind_bool(e.launch_failed).bind_bool(e.lost).bind_text(e.reason);
  Status st = s.run();
  for (const auto& [key, value] :
       {std::pair{"max_epoch", max_epoch}, {"last_end_seq", r.end_seq}}) {
    if (!st.ok()) break;
    db_->meta.reset();
    db_->meta.bind_text(key).bind_u64(value);
    st = db_->meta.run();
  }
  if (!st.ok()) {
    (void)sq::Exec(raw, "ROLLBACK");
    return st;
  }
  return sq::Exec(raw, "COMMIT");
}

Status AgentStore::settle(uint64_t end_seq) {
  db_->settle.reset();
  db_->settle.bind_u64(end_seq);
  return db_->settle.run();
}

Result<AgentStore::Book> AgentStore::load() {
  Book book;
  db_->rows.reset();
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, db_->rows.step());
    if (!row) break;
    sq::Stmt& s = db_->rows;
    LaunchRecord r;
    r.key.job = s.col_u64();
    r.key.attempt = static_cast<uint32_t>(s.col_i64());
    r.key.rank = static_cast<uint32_t>(s.col_i64());
    r.key.step = static_cast<uint32_t>(s.col_i64());
    r.epoch = s.col_u64();
    r.fenceable = s.col_bool();
    r.running = s.col_bool();
    r.started_unix_ms = s.col_i64();
    r.pgid = static_cast<int>(s.col_i64());
    const bool ended = s.col_bool();
    r.end_seq = s.col_u64();
    EndReport e;
    e.exit_code = static_cast<int>(s.col_i64());
    e.signal = static_cast<int>(s.col_i64());
    e.runtime_ms = s.col_i64();
    e.oom = s.col_bool();
    e.timed_out = s.col_bool();
    e.stopped = s.col_bool();
    e.launch_failed = s.col_bool();
    e.lost = s.col_bool();
    e.reason = s.col_text();
    if (ended) r.end = e;
    book.records.push_back(std::move(r));
  }
  db_->read_meta.reset();
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, db_->read_meta.step());
    if (!row) break;
    const std::string key = db_->read_meta.col_text();
    const uint64_t value = db_->read_meta.col_u64();
    if (key == "max_epoch") book.max_epoch = value;
    if (key == "last_end_seq") book.last_end_seq = value;
  }
  return book;
}

}  // namespace berth::agent
