// Decisions the header leaves open:
// - Every value travels as text; PostgreSQL converts it to the column's type, so the bind and
//   read code is the same for every column of a description (pg_columns.h).
// - A write transaction is two round trips: (BEGIN, the fence's SELECT, every row) with their
//   results read, then COMMIT and a sync point. The fence is checked and every row's result
//   (a pending update's row count among them) seen before COMMIT is sent, so nothing is
//   committed that should not be; only the second round trip can leave an outcome unknown.
// - Batch numbers start from a random number per store, so two berthds' batches never share
//   one and a last_batch equal to ours can only be our own commit.
#include "store/pg_store.h"

#include <array>
#include <chrono>
#include <random>
#include <thread>

#include "store/batch.h"
#include "store/pg_columns.h"
#include "store/pg_dialect.h"
#include "store/schema.h"

namespace berth::store {

namespace {

constexpr int64_t kFirstBackoffMs = 50;
constexpr int64_t kLongestBackoffMs = 1'000;
// The advisory lock held while migrating ("berth" in ASCII): one berthd migrates at a time.
constexpr int64_t kMigrationLock = 0x6265727468;
constexpr const char* kFenceSql = "SELECT epoch FROM leader WHERE id = 1 FOR SHARE";

const std::string& statement_name(Write w) {
  static const std::array<std::string, kWriteCount> names = [] {
    std::array<std::string, kWriteCount> n;
    for (int i = 0; i < kWriteCount; ++i) n[static_cast<size_t>(i)] = "berth_w" + std::to_string(i);
    return n;
  }();
  return names[static_cast<size_t>(w)];
}

// batch.h's Writer: each row a prepared statement sent down the pipeline.
struct PgWriter {
  pg::Pipeline& pipeline;
  pg::Params params;

  template <typename Row, typename Problems>
  Status row(const Target& target, const std::vector<Column<Row, Problems>>& columns,
             const Row& row) {
    params.clear();
    bind_columns(params, columns, row);
    return pipeline.send_prepared(statement_name(target.statement), params,
                                  {target.what, target.key, target.missing, target.missing_code});
  }
};

// batch.h's Reader: one query, its rows read through the description.
struct PgReader {
  PGconn* c;

  template <typename Row, typename Problems, typename Fn>
  Status select(const std::string& sql, const std::vector<Column<Row, Problems>>& columns,
                Fn&& fn) {
    BERTH_ASSIGN_OR_RETURN(auto r, pg::Exec(c, sql));
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      Row row;
      Problems problems;
      read_columns(r.get(), i, columns, row, problems);
      BERTH_RETURN_IF_ERROR(fn(std::move(row), std::move(problems)));
    }
    return Status::Ok();
  }
};

int64_t random_batch_base() {
  std::random_device device;
  const uint64_t high = device(), low = device();
  return static_cast<int64_t>(((high << 32) | low) >> 2) + 1;  // positive, far from overflow
}

Status with_what(Status st, const char* what) {
  if (st.ok()) return st;
  return Status(st.code(), std::string(what) + ": " + st.message());
}

}  // namespace

PgStore::PgStore(std::string url, PgOptions options)
    : url_(std::move(url)), options_(std::move(options)), next_batch_(random_batch_base()) {}

PgStore::~PgStore() = default;

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& url, PgOptions options) {
  if (url.empty()) return Status::Invalid("the PostgreSQL store needs a URL");
  std::unique_ptr<PgStore> store(new PgStore(url, std::move(options)));
  BERTH_RETURN_IF_ERROR(store->connect());
  BERTH_RETURN_IF_ERROR(store->migrate());
  for (const DescribedTable& t : described_tables())
    BERTH_RETURN_IF_ERROR(check_table_columns(store->conn_.get(), t.table, t.names));
  BERTH_RETURN_IF_ERROR(store->prepare_statements());
  return store;
}

Status PgStore::connect() {
  conn_.reset();
  BERTH_ASSIGN_OR_RETURN(
      conn_, pg::Connect(url_, {.idle_in_transaction_ms = options_.idle_in_transaction_ms}));
  if (schema_version_ > 0) return prepare_statements();  // a reconnect
  return Status::Ok();
}

Status PgStore::prepare_statements() {
  for (int i = 0; i < kWriteCount; ++i) {
    const Write w = static_cast<Write>(i);
    pg::ResultPtr r(PQprepare(conn_.get(), statement_name(w).c_str(),
                              numbered_placeholders(write_sql(w)).c_str(), 0, nullptr));
    if (r == nullptr || PQresultStatus(r.get()) != PGRES_COMMAND_OK)
      return pg::Error(conn_.get(), r.get(), "prepare " + write_sql(w));
  }
  return Status::Ok();
}

namespace {

// Runs fn() inside BEGIN ... COMMIT on `c`; rolls back when it fails.
template <typename Fn>
Status in_transaction(PGconn* c, const char* begin, Fn&& fn) {
  Status st = pg::Exec(c, begin).status();
  if (st.ok()) st = fn();
  if (st.ok()) st = pg::Exec(c, "COMMIT").status();
  if (!st.ok() && !pg::lost(c)) (void)pg::Exec(c, "ROLLBACK");
  return st;
}

Result<int> current_version(PGconn* c) {
  BERTH_ASSIGN_OR_RETURN(auto r,
                         pg::Exec(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  return static_cast<int>(pg::get_i64(r.get(), 0, 0));
}

}  // namespace

Status PgStore::migrate() {
  PGconn* c = conn_.get();
  const int latest = migrations().back().version;
  const std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")";
  for (const Migration& m : migrations()) {
    // Under the lock, so two berthds opening an empty database at once apply each once.
    BERTH_RETURN_IF_ERROR(with_what(
        in_transaction(
            c, "BEGIN",
            [&]() -> Status {
              BERTH_RETURN_IF_ERROR(pg::Exec(c, lock).status());
              BERTH_RETURN_IF_ERROR(pg::Exec(c, to_postgres(kSchemaVersionTable)).status());
              BERTH_ASSIGN_OR_RETURN(auto version, current_version(c));
              if (version > latest)
                return Status::Internal(
                    "the database has schema version " + std::to_string(version) +
                    ", newer than this berth knows (" + std::to_string(latest) + ")");
              if (version >= m.version) return Status::Ok();
              if (version != m.version - 1)
                return Status::Internal("schema version " + std::to_string(version) +
                                        " cannot take migration " + std::to_string(m.version));
              BERTH_RETURN_IF_ERROR(pg::Exec(c, to_postgres(m.sql)).status());
              pg::Params p;
              p.add_i64(m.version).add_text(m.description);
              return pg::Exec(
                         c, "INSERT INTO schema_version (version, description) VALUES ($1, $2)", p)
                  .status();
            }),
        "schema migration"));
  }
  BERTH_ASSIGN_OR_RETURN(schema_version_, current_version(c));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Writing

template <typename Attempt>
Status PgStore::with_retry(const char* what, Attempt&& attempt, int64_t batch) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.retry_ms);
  int64_t backoff_ms = kFirstBackoffMs;
  bool unsure = false;  // whether batch `batch` may have committed
  while (true) {
    Status st = pg::lost(conn_.get()) ? connect() : Status::Ok();
    if (st.ok() && unsure) {
      auto done = batch_committed(batch);
      if (done.ok() && *done) return Status::Ok();
      unsure = !done.ok();
      st = done.status();
    }
    if (st.ok()) {
      st = attempt();
      if (fenced_) return st;  // the message starts "fenced:", as berthd expects
      if (st.ok() || !pg::lost(conn_.get())) return with_what(std::move(st), what);
      unsure = batch != 0;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status(Code::kUnavailable, std::string(what) + ": the database was out of reach for " +
                                            std::to_string(options_.retry_ms) +
                                            " ms: " + st.message());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, kLongestBackoffMs);
  }
}

template <typename Write>
Status PgStore::transaction(Write&& write, const std::function<void(int)>& after_commit_sent) {
  PGconn* c = conn_.get();
  Status st;
  {
    pg::Pipeline p(c);
    PgWriter w{p, {}};
    int64_t epoch = 0;
    st = p.send("BEGIN", {}, {"begin"});
    if (st.ok() && fence_epoch_ != 0)
      st = p.send(kFenceSql, {}, {"the lease", 0, {}, Code::kNotFound, &epoch});
    if (st.ok()) st = write(w);
    const Status results = p.read_all();
    if (st.ok()) st = results;
    if (st.ok() && fence_epoch_ != 0 && static_cast<uint64_t>(epoch) != fence_epoch_) {
      fenced_ = true;
      st = Status(Code::kUnavailable, "fenced: epoch " + std::to_string(epoch) +
                                          " leads now; this berthd led at epoch " +
                                          std::to_string(fence_epoch_) + " and writes no more");
    }
    if (st.ok()) {
      st = p.send("COMMIT", {}, {"commit"});
      const Status synced = p.sync(after_commit_sent);
      return st.ok() ? synced : st;
    }
    (void)p.sync();
  }
  if (!pg::lost(c)) (void)pg::Exec(c, "ROLLBACK");
  return st;
}

Status PgStore::commit(const core::ChangeSet& changes, int64_t now_ms) {
  const int64_t batch = next_batch_++;
  return with_retry(
      "commit",
      [&] {
        return transaction(
            [&](PgWriter& w) -> Status {
              BERTH_RETURN_IF_ERROR(write_changes(w, changes, now_ms));
              return write_meta(w, kMetaLastBatch, batch);
            },
            options_.after_commit_sent);
      },
      batch);
}

Result<bool> PgStore::batch_committed(int64_t batch) {
  pg::Params p;
  p.add_text(kMetaLastBatch);
  BERTH_ASSIGN_OR_RETURN(auto r,
                         pg::Exec(conn_.get(), "SELECT value FROM meta WHERE name = $1", p));
  return PQntuples(r.get()) == 1 && pg::get_i64(r.get(), 0, 0) == batch;
}

Status PgStore::put_nodes(const std::vector<core::Node>& nodes) {
  return with_retry(
      "put nodes", [&] { return transaction([&](PgWriter& w) { return write_nodes(w, nodes); }); });
}

Status PgStore::put_node(const core::Node& node) {
  return with_retry("put node",
                    [&] { return transaction([&](PgWriter& w) { return write_node(w, node); }); });
}

Status PgStore::put_tokens(const std::vector<TokenRow>& rows) {
  return with_retry("put tokens", [&] {
    return transaction([&](PgWriter& w) { return write_tokens(w, rows); });
  });
}

Status PgStore::backup(const std::string&) const {
  return Status::Conflict(
      "a PostgreSQL store is backed up with PostgreSQL's own tools (pg_dump, pg_basebackup)");
}

Result<std::string> PgStore::rescue() {
  return Status::Conflict(
      "a PostgreSQL store has no file of berthd's to rescue; what was committed is in the "
      "database");
}

// ---------------------------------------------------------------------------------------
// Reading

template <typename Read>
Status PgStore::read_snapshot(Read&& read) {
  return with_retry("read", [&] {
    PGconn* c = conn_.get();
    return in_transaction(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [&] {
      PgReader r{c};
      return read(r);
    });
  });
}

Result<core::ChangeSet> PgStore::load(int64_t* last_alive_ms) {
  core::ChangeSet rows;
  int64_t alive_ms = 0;
  Status st = read_snapshot([&](PgReader& r) {
    rows = core::ChangeSet{};
    alive_ms = 0;
    return load_changes(r, &rows, &alive_ms);
  });
  if (!st.ok()) return Status(st.code(), "load: " + st.message());
  if (last_alive_ms != nullptr) *last_alive_ms = alive_ms;
  return rows;
}

Result<std::vector<core::Node>> PgStore::nodes() {
  std::vector<core::Node> out;
  BERTH_RETURN_IF_ERROR(read_snapshot([&](PgReader& r) -> Status {
    BERTH_ASSIGN_OR_RETURN(out, read_nodes(r));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<TokenRow>> PgStore::tokens() {
  std::vector<TokenRow> out;
  BERTH_RETURN_IF_ERROR(read_snapshot([&](PgReader& r) {
    out.clear();
    return read_table(r, "tokens", token_columns(), "token_hash", "token", &out);
  }));
  return out;
}

}  // namespace berth::store
