// The SQLite store: schema migrations, batches committed all or nothing, and a round trip
// through real files that restores an Engine exactly as it was.
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/reconcile.h"
#include "store/schema.h"

namespace berth::store {
namespace {

namespace fs = std::filesystem;
using core::ChangeSet;
using core::Engine;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kT0 = 1'800'000'000'000;  // a fixed virtual "now"
constexpr Minor kUnit = kMinorPerUnit;

core::ClusterConfig small_cluster() {
  core::ClusterConfig c;
  c.nodes = {core::Node{NodeId(), "n1", "H100", 8, 64, 512'000, core::NodeState::kUp}};
  c.prices = {{"H100", 30 * kUnit}};  // 30.0000 per GPU-hour
  c.partitions = {core::Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

// A read-only view of the database file through its own connection, as an operator's SQL
// tool would see it.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db_);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Every row of the result, columns joined by '|', NULL as "NULL".
  std::vector<std::string> rows(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db_);
    if (rc != SQLITE_OK) return out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(s); ++c) {
        if (c > 0) row += '|';
        const unsigned char* text = sqlite3_column_text(s, c);
        row += text ? reinterpret_cast<const char*>(text) : "NULL";
      }
      out.push_back(row);
    }
    sqlite3_finalize(s);
    return out;
  }
  std::string one(const std::string& sql) {
    const auto r = rows(sql);
    EXPECT_EQ(r.size(), 1u) << sql;
    return r.empty() ? "" : r[0];
  }
  // Every row of every table, in rowid order: equal dumps mean equal databases.
  std::string dump() {
    std::string out;
    for (const std::string& table :
         rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
      out += "== " + table + "\n";
      for (const std::string& row : rows("SELECT * FROM \"" + table + "\" ORDER BY rowid"))
        out += row + "\n";
    }
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// ---- field-by-field comparison of rows ----

void expect_same(const core::Org& a, const core::Org& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.registration, b.registration);
  EXPECT_EQ(a.updated_ms, b.updated_ms);
}
void expect_same(const core::Project& a, const core::Project& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.org.value, b.org.value);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.wallet.value, b.wallet.value);
  EXPECT_EQ(a.created_ms, b.created_ms);
}
void expect_same(const core::Scheme& a, const core::Scheme& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.rate_bps, b.rate_bps);
  EXPECT_EQ(a.eligible_kinds, b.eligible_kinds);
  EXPECT_EQ(a.shortfall, b.shortfall);
  EXPECT_EQ(a.fund.value, b.fund.value);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.exceptional_rate_bps, b.exceptional_rate_bps);
  EXPECT_EQ(a.cap_per_project_minor, b.cap_per_project_minor);
  EXPECT_EQ(a.window_open_ms, b.window_open_ms);
  EXPECT_EQ(a.window_close_ms, b.window_close_ms);
  EXPECT_EQ(a.award_validity_days, b.award_validity_days);
}
void expect_same(const core::Award& a, const core::Award& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.scheme.value, b.scheme.value);
  EXPECT_EQ(a.project.value, b.project.value);
  EXPECT_EQ(a.account.value, b.account.value);
  EXPECT_EQ(a.amount_minor, b.amount_minor);
  EXPECT_EQ(a.gpu_level, b.gpu_level);
  EXPECT_EQ(a.start_ms, b.start_ms);
  EXPECT_EQ(a.end_ms, b.end_ms);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.rate_bps, b.rate_bps);
  EXPECT_EQ(a.application.value, b.application.value);
  EXPECT_EQ(a.closed_ms, b.closed_ms);
  EXPECT_EQ(a.returned_ms, b.returned_ms);
  EXPECT_EQ(a.returned_minor, b.returned_minor);
  EXPECT_EQ(a.report_every_months, b.report_every_months);
  EXPECT_EQ(a.report_grace_days, b.report_grace_days);
}
void expect_same(const core::TopUp& a, const core::TopUp& b) {
  EXPECT_EQ(a.transfer.value, b.transfer.value);
  EXPECT_EQ(a.project.value, b.project.value);
  EXPECT_EQ(a.amount_minor, b.amount_minor);
  EXPECT_EQ(a.reference, b.reference);
  EXPECT_EQ(a.created_ms, b.created_ms);
}
void expect_same(const core::Account& a, const core::Account& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.no_overdraft, b.no_overdraft);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.debits_pending, b.debits_pending);
  EXPECT_EQ(a.debits_posted, b.debits_posted);
  EXPECT_EQ(a.credits_pending, b.credits_pending);
  EXPECT_EQ(a.credits_posted, b.credits_posted);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.credit_limit_minor, b.credit_limit_minor);
}
void expect_same(const core::Transfer& a, const core::Transfer& b) {
  EXPECT_TRUE(a.same_fields(b)) << "transfer " << a.id.value << " vs " << b.id.value;
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.debit.value, b.debit.value);
  EXPECT_EQ(a.credit.value, b.credit.value);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.pending_id.value, b.pending_id.value);
  EXPECT_EQ(a.timeout_ms, b.timeout_ms);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.ref, b.ref);
  EXPECT_EQ(a.timestamp_ms, b.timestamp_ms);
}
void expect_same(const core::PendingUpdate& a, const core::PendingUpdate& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.posted_minor, b.posted_minor);
}
void expect_same(const core::Job& a, const core::Job& b) {
  SCOPED_TRACE("job " + std::to_string(a.id.value));
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.project.value, b.project.value);
  EXPECT_EQ(a.org.value, b.org.value);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.tier, b.tier);
  EXPECT_EQ(a.gpus, b.gpus);
  EXPECT_EQ(a.gpu_model, b.gpu_model);
  EXPECT_EQ(a.partition, b.partition);
  EXPECT_EQ(a.time_limit_s, b.time_limit_s);
  EXPECT_EQ(a.requeue, b.requeue);
  EXPECT_EQ(a.restarts, b.restarts);
  EXPECT_EQ(a.ran_ms, b.ran_ms);
  EXPECT_EQ(a.submit_ms, b.submit_ms);
  EXPECT_EQ(a.start_ms, b.start_ms);
  EXPECT_EQ(a.end_ms, b.end_ms);
  EXPECT_EQ(a.node.value, b.node.value);
  EXPECT_EQ(a.gpu_ids, b.gpu_ids);
  EXPECT_EQ(a.exit_code, b.exit_code);
  EXPECT_EQ(a.term_signal, b.term_signal);
  EXPECT_EQ(a.cancel_requested, b.cancel_requested);
  EXPECT_EQ(a.award.value, b.award.value);
  EXPECT_EQ(a.rate_bps, b.rate_bps);
  EXPECT_EQ(a.price_per_gpu_hour_minor, b.price_per_gpu_hour_minor);
  EXPECT_EQ(a.max_cost_minor, b.max_cost_minor);
  EXPECT_EQ(a.subsidy_held_minor, b.subsidy_held_minor);
  EXPECT_EQ(a.copay_held_minor, b.copay_held_minor);
  EXPECT_EQ(a.cost_minor, b.cost_minor);
  EXPECT_EQ(a.subsidy_minor, b.subsidy_minor);
  EXPECT_EQ(a.copay_minor, b.copay_minor);
  EXPECT_EQ(a.launch, b.launch);
  EXPECT_EQ(a.held, b.held);
  EXPECT_EQ(a.dependencies, b.dependencies);
  EXPECT_EQ(a.array_id.value, b.array_id.value);
  EXPECT_EQ(a.array_index, b.array_index);
  EXPECT_EQ(a.array_throttle, b.array_throttle);
  EXPECT_EQ(a.nodes, b.nodes);
  EXPECT_EQ(a.more_nodes, b.more_nodes);
  EXPECT_EQ(a.node_choice, b.node_choice);
  EXPECT_EQ(a.estimate_s, b.estimate_s);
  EXPECT_EQ(a.refunded_minor, b.refunded_minor);
}
void expect_same(const core::Node& a, const core::Node& b) {
  SCOPED_TRACE("node " + a.name);
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.gpu_model, b.gpu_model);
  EXPECT_EQ(a.gpus, b.gpus);
  EXPECT_EQ(a.cpus, b.cpus);
  EXPECT_EQ(a.memory_mb, b.memory_mb);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.domain, b.domain);
  EXPECT_EQ(a.agent_version, b.agent_version);
  EXPECT_EQ(a.address, b.address);
  EXPECT_EQ(a.isolation, b.isolation);
  EXPECT_EQ(a.last_heartbeat_ms, b.last_heartbeat_ms);
  EXPECT_EQ(a.state_reason, b.state_reason);
  EXPECT_EQ(a.silent_down, b.silent_down);
  EXPECT_EQ(a.state_before_silence, b.state_before_silence);
  EXPECT_EQ(a.reason_before_silence, b.reason_before_silence);
}

template <typename T>
void expect_same_list(const char* what, const std::vector<T>& a, const std::vector<T>& b) {
  SCOPED_TRACE(what);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) expect_same(a[i], b[i]);
}

void expect_same_rows(const ChangeSet& got, const ChangeSet& want) {
  expect_same_list("orgs", got.orgs, want.orgs);
  expect_same_list("projects", got.projects, want.projects);
  expect_same_list("schemes", got.schemes, want.schemes);
  expect_same_list("awards", got.awards, want.awards);
  expect_same_list("topups", got.topups, want.topups);
  expect_same_list("accounts", got.accounts, want.accounts);
  expect_same_list("transfers", got.transfers, want.transfers);
  expect_same_list("pending", got.pending, want.pending);
  expect_same_list("jobs", got.jobs, want.jobs);
  EXPECT_EQ(got.applications, want.applications);
  EXPECT_EQ(got.application_events, want.application_events);
  EXPECT_EQ(got.reports, want.reports);
  EXPECT_EQ(got.report_events, want.report_events);
  EXPECT_EQ(got.criteria, want.criteria);
  EXPECT_EQ(got.audit, want.audit);
  EXPECT_EQ(got.funding_orders, want.funding_orders);
  EXPECT_EQ(got.submit_keys, want.submit_keys);
  EXPECT_EQ(got.next_job_id, want.next_job_id);
  EXPECT_EQ(got.next_account_id, want.next_account_id);
  EXPECT_EQ(got.next_transfer_seq, want.next_transfer_seq);
}

// ---- the fixture ----

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth_store_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (fs::path(dir_) / "berth.db").string();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<SqliteStore> open() {
    auto s = SqliteStore::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Commits what the engine changed since the last commit, as berthd does after each batch.
  void commit(int64_t now_ms) {
    const Status st = store_->commit(engine_->drain_changes(), now_ms);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Closes the store, opens it again and loads it: the rows, and an engine restored from them,
  // must be `want` exactly. Returns the restored engine (nullptr after a failure).
  std::unique_ptr<Engine> reopen_and_restore(const ChangeSet& want) {
    store_.reset();
    store_ = open();
    EXPECT_NE(store_, nullptr);
    if (!store_) return nullptr;
    auto rows = store_->load(nullptr);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok()) return nullptr;
    expect_same_rows(*rows, want);
    auto restored = Engine::Restore(small_cluster(), *rows);
    EXPECT_TRUE(restored.ok()) << restored.status().ToString();
    if (!restored.ok()) return nullptr;
    expect_same_rows((*restored)->snapshot(), want);
    return std::move(*restored);
  }

  core::JobRequest request(const std::string& name, int gpus, int64_t limit_s,
                           bool requeue = false) {
    core::JobRequest r;
    r.name = name;
    r.user = "alice";
    r.project = project_;
    r.gpus = gpus;
    r.gpu_model = "H100";
    r.time_limit_s = limit_s;
    r.requeue = requeue;
    r.launch = R"({"script":"run.sh","env":{"NOTE":"a \"quoted\" ünïcode, value"}})";
    return r;
  }
  JobId submit(const core::JobRequest& r, int64_t now_ms) {
    auto id = engine_->submit(r, now_ms);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : JobId();
  }

  // A centre's story, committed step by step: an organisation, a project, a scheme with its
  // fund, an award, a top-up; five jobs of which one completes (settled), one is cancelled
  // while pending, one is asked to cancel while running, one is lost and requeued, and two
  // are running with money held at the end.
  void run_story() {
    auto e = Engine::Create(small_cluster(), kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
    commit(kT0);

    auto org = engine_->create_org("hku", core::OrgKind::kUniversity, kT0);
    ASSERT_TRUE(org.ok()) << org.status().ToString();
    commit(kT0);
    auto project = engine_->create_project(org->id, "vision", kT0);
    ASSERT_TRUE(project.ok()) << project.status().ToString();
    project_ = project->id;
    commit(kT0);
    const uint32_t kinds = 1u << static_cast<int>(core::OrgKind::kUniversity) |
                           1u << static_cast<int>(core::OrgKind::kInstitute);
    auto scheme = engine_->create_scheme("ai-subsidy", 7000, kinds, core::Shortfall::kWallet,
                                         1'000'000 * kUnit, kT0);
    ASSERT_TRUE(scheme.ok()) << scheme.status().ToString();
    commit(kT0);
    auto award = engine_->create_award(scheme->id, project_, 1'000 * kUnit, 8, kT0 - kHour,
                                       kT0 + 1000 * kHour, kT0);
    ASSERT_TRUE(award.ok()) << award.status().ToString();
    commit(kT0);
    auto topup = engine_->top_up(project_, 500 * kUnit, "pay-1", kT0);
    ASSERT_TRUE(topup.ok()) << topup.status().ToString();
    commit(kT0);

    jobs_.push_back(submit(request("train", 2, 3600), kT0 + 1));    // completes
    jobs_.push_back(submit(request("big", 4, 2 * 3600), kT0 + 2));  // cancel asked while running
    jobs_.push_back(
        submit(request("wait", 4, 3600), kT0 + 3));  // waits (award's 8 GPUs), then runs
    jobs_.push_back(submit(request("whole", 8, 3600), kT0 + 4));        // cancelled while pending
    jobs_.push_back(submit(request("flaky", 1, 3600, true), kT0 + 5));  // lost, requeued
    commit(kT0 + 5);

    const int64_t t1 = kT0 + kMinute;
    EXPECT_EQ(engine_->schedule(t1).size(), 3u);  // train, big, flaky: 7 of 8 GPUs
    commit(t1);
    EXPECT_EQ(engine_->job(jobs_[2])->reason,
              core::PendingReason::kAwardCap);  // 7 + 4 > the award's 8

    const int64_t t2 = t1 + 30 * kMinute;
    ASSERT_TRUE(engine_->job_ended(jobs_[0], core::JobEnd{}, t2, t2).ok());
    commit(t2);
    ASSERT_TRUE(engine_->cancel(jobs_[3], t2).ok());
    auto asked = engine_->cancel(jobs_[1], t2);
    ASSERT_TRUE(asked.ok() && *asked);
    commit(t2);
    core::JobEnd lost;
    lost.lost = true;
    ASSERT_TRUE(engine_->job_ended(jobs_[4], lost, t2, t2).ok());
    commit(t2);

    const int64_t t3 = t2 + kMinute;
    EXPECT_EQ(engine_->schedule(t3).size(), 1u);  // wait: 4 GPUs; flaky waits for one
    commit(t3);

    // The story reached every state it means to test.
    ASSERT_EQ(engine_->job(jobs_[0])->state, core::JobState::kCompleted);
    ASSERT_GT(engine_->job(jobs_[0])->cost_minor, 0);
    ASSERT_EQ(engine_->job(jobs_[1])->state, core::JobState::kRunning);
    ASSERT_TRUE(engine_->job(jobs_[1])->cancel_requested);
    ASSERT_EQ(engine_->job(jobs_[2])->state, core::JobState::kRunning);
    ASSERT_EQ(engine_->job(jobs_[3])->state, core::JobState::kCancelled);
    ASSERT_EQ(engine_->job(jobs_[4])->state, core::JobState::kPending);
    ASSERT_EQ(engine_->job(jobs_[4])->restarts, 1);
    ASSERT_EQ(engine_->job(jobs_[4])->ran_ms, t2 - t1);  // it ran from t1 until its node was lost
    ASSERT_TRUE(engine_->verify().ok());
  }

  // Writes a database as a berth at schema `version` left it: its migrations, then `rows`.
  void write_old_database(int version, const std::vector<std::string>& rows) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    auto exec = [&](const std::string& sql) {
      char* err = nullptr;
      const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
      EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
      sqlite3_free(err);
    };
    exec(kSchemaVersionTable);
    for (const Migration& m : migrations()) {
      if (m.version > version) break;
      exec(m.sql);
      std::string description;  // as an SQL string: a quote doubled ("a job''s user")
      for (const char* c = m.description; *c != '\0'; ++c)
        description += *c == '\'' ? std::string("''") : std::string(1, *c);
      exec("INSERT INTO schema_version (version, description) VALUES (" +
           std::to_string(m.version) + ", '" + description + "')");
    }
    for (const std::string& row : rows) exec(row);
    sqlite3_close(db);
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Engine> engine_;
  ProjectId project_;
  std::vector<JobId> jobs_;
};

// ---- schema ----

TEST_F(SqliteStoreTest, OpenCreatesTheSchema) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  const int latest = migrations().back().version;
  EXPECT_EQ(store_->schema_version(), latest);

  RawDb raw(path_);
  EXPECT_EQ(raw.one("PRAGMA journal_mode"), "wal");
  const auto tables = raw.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  for (const char* t : {"accounts", "awards", "jobs", "meta", "nodes", "orgs", "projects",
                        "schema_version", "schemes", "tokens", "topups", "transfers"}) {
    EXPECT_NE(std::find(tables.begin(), tables.end(), t), tables.end()) << t;
  }
  EXPECT_EQ(raw.one("SELECT COUNT(*), MIN(version), MAX(version) FROM schema_version"),
            std::to_string(migrations().size()) + "|1|" + std::to_string(latest));
}

TEST_F(SqliteStoreTest, ReopeningDoesNotReapplyMigrations) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  std::string before;
  {
    RawDb raw(path_);
    before = raw.dump();
  }
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->schema_version(), migrations().back().version);
  RawDb raw(path_);
  EXPECT_EQ(raw.dump(), before);  // schema_version rows, applied_at included, untouched
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerBerth) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  store_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "INSERT INTO schema_version (version, description) VALUES (999, 'future')",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
  }
  auto s = SqliteStore::Open(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status().ToString();
}

TEST_F(SqliteStoreTest, RefusesAPathThatIsNotAFile) {
  EXPECT_FALSE(SqliteStore::Open(":memory:").ok());
  EXPECT_FALSE(SqliteStore::Open("").ok());
  auto s = SqliteStore::Open(dir_ + "/no/such/dir/berth.db");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("sqlite"), std::string::npos) << s.status().ToString();
}

TEST_F(SqliteStoreTest, AFreshDatabaseLoadsEmpty) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  int64_t alive = -1;
  auto rows = store_->load(&alive);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_TRUE(rows->empty());
  EXPECT_TRUE(rows->accounts.empty());
  EXPECT_EQ(rows->next_job_id, 1u);
  EXPECT_EQ(rows->next_account_id, 4u);
  EXPECT_EQ(rows->next_transfer_seq, 1u);
  EXPECT_EQ(alive, 0);
}

// ---- round trip ----

TEST_F(SqliteStoreTest, RoundTripRestoresTheEngineExactly) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  const ChangeSet want = engine_->snapshot();
  ASSERT_FALSE(want.pending.empty());
  store_.reset();

  store_ = open();  // a restart: a new connection to the same file
  ASSERT_NE(store_, nullptr);
  int64_t alive = 0;
  auto rows = store_->load(&alive);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(alive, kT0 + 32 * kMinute);
  expect_same_rows(*rows, want);

  auto restored = Engine::Restore(small_cluster(), *rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE((*restored)->verify().ok()) << (*restored)->verify().ToString();
  expect_same_rows((*restored)->snapshot(), want);
  EXPECT_EQ((*restored)->cluster().used_gpus(), engine_->cluster().used_gpus());
}

TEST_F(SqliteStoreTest, ReconcileReadsTheRowsEvenWhereRestoreRefusesThem) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  int64_t alive = 0;
  auto rows = store_->load(&alive);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  const core::ReconcileReport clean = core::reconcile(*rows);
  EXPECT_TRUE(clean.ok()) << clean.differences_found << " difference(s), first: "
                          << (clean.differences.empty() ? "" : clean.differences[0].message);
  EXPECT_EQ(clean.jobs_checked, jobs_.size());
  store_.reset();

  // An operator's UPDATE gives the wallet a minor unit its transfers never paid in.
  const AccountId wallet = engine_->funding().project(project_)->wallet;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  const std::string update =
      "UPDATE accounts SET credits_posted_minor = credits_posted_minor + 1 WHERE id = " +
      std::to_string(wallet.value);
  EXPECT_EQ(sqlite3_exec(db, update.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close_v2(db);

  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto tampered = store_->load(&alive);
  ASSERT_TRUE(tampered.ok()) << tampered.status().ToString();
  auto refused = Engine::Restore(small_cluster(), *tampered);
  ASSERT_FALSE(refused.ok());  // berthd would refuse to start: the books are never guessed
  EXPECT_NE(refused.status().message().find("the books do not verify"), std::string::npos)
      << refused.status().ToString();
  const core::ReconcileReport r = core::reconcile(*tampered);
  ASSERT_FALSE(r.differences.empty());
  const core::Difference& d = r.differences[0];
  EXPECT_EQ(d.kind, core::DifferenceKind::kAccountBalance);
  EXPECT_EQ(d.entity, core::EntityKind::kAccount);
  EXPECT_EQ(d.id, wallet.value);
  EXPECT_EQ(d.field, "credits_posted");
  EXPECT_EQ(d.found, d.expected + 1);
}

// Raw SQL, as an operator's tool or an older or newer berth might leave a row.
void exec_raw(const std::string& path, const std::vector<std::string>& statements) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (const std::string& sql : statements)
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, UnknownJobTextsLoadWithDefaultsAndTheirProblem) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  store_.reset();
  exec_raw(path_, {"UPDATE jobs SET state = 'FROZEN' WHERE id = 3",
                   "UPDATE jobs SET tier = 'gold' WHERE id = 5",
                   "UPDATE jobs SET reason = 'Sleepy', gpu_ids = '0,x' WHERE id = 1"});
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->jobs.size(), 5u);
  ASSERT_EQ(rows->job_problems.size(), 3u);
  EXPECT_EQ(rows->job_problems.at(3).what, "unknown state 'FROZEN'");
  EXPECT_TRUE(rows->job_problems.at(3).state_unknown);
  EXPECT_EQ(rows->jobs[2].state, core::JobState::kFailed);
  EXPECT_EQ(rows->job_problems.at(5).what, "unknown tier 'gold'");
  EXPECT_EQ(rows->jobs[4].tier, core::Tier::kNormal);
  EXPECT_EQ(rows->job_problems.at(1).what,
            "unknown pending reason 'Sleepy'; unreadable gpu_ids '0,x'");
  EXPECT_TRUE(rows->jobs[0].gpu_ids.empty());
}

// Unlike a job's, an unreadable value in the books or the funding programme fails the load,
// naming the table's row, the column and the text (store/README.md, "Rows that cannot be read").
TEST_F(SqliteStoreTest, AnUnreadableValueOutsideTheJobsFailsTheLoadNamingItsRow) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  store_.reset();
  const std::string saved = path_ + ".saved";
  fs::copy_file(path_, saved);
  const struct {
    const char* update;
    const char* message;
  } cases[] = {
      {"UPDATE accounts SET kind = 'piggybank' WHERE id = 1", "account 1 has kind 'piggybank'"},
      {"UPDATE orgs SET kind = 'guild'", "org 1 has kind 'guild'"},
      {"UPDATE schemes SET shortfall = 'beg'", "scheme 1 has shortfall 'beg'"},
      {"UPDATE transfers SET pending_state = 'lost' WHERE seq = (SELECT MIN(seq) FROM transfers "
       "WHERE pending_state IS NOT NULL)",
       "has pending_state 'lost'"},
  };
  for (const auto& c : cases) {
    fs::copy_file(saved, path_, fs::copy_options::overwrite_existing);
    exec_raw(path_, {c.update});
    store_ = open();
    ASSERT_NE(store_, nullptr);
    auto rows = store_->load(nullptr);
    ASSERT_FALSE(rows.ok()) << c.update;
    EXPECT_NE(rows.status().message().find(c.message), std::string::npos)
        << rows.status().ToString();
    store_.reset();
  }
}

// A running job whose state is unknown, one on a node no longer configured, a pending job of an
// unknown tier and one that depends on a job that does not exist are set aside: FAILED with
// their reason, holds posted at 0, GPUs free. A finished job is kept. The start goes on, the
// books still balance, and the rows written back load cleanly next time.
TEST_F(SqliteStoreTest, RestoreSetsAsideJobsItCannotTakeBack) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  const AccountId wallet = engine_->funding().project(project_)->wallet;
  const core::Job running2 = *engine_->job(jobs_[1]);
  const core::Job running3 = *engine_->job(jobs_[2]);
  ASSERT_GT(running3.copay_held_minor + running3.subsidy_held_minor, 0);
  // Job 6: a pending job that will name a job that does not exist.
  jobs_.push_back(submit(request("late", 1, 600), kT0 + 2 * kHour));
  commit(kT0 + 2 * kHour);
  store_.reset();
  exec_raw(path_, {"UPDATE jobs SET state = 'FROZEN' WHERE id = 3",
                   "UPDATE jobs SET node_id = 9 WHERE id = 2",
                   "UPDATE jobs SET tier = 'gold' WHERE id = 5",
                   "UPDATE jobs SET dependencies = 'afterok:99' WHERE id = 6",
                   "UPDATE jobs SET tier = 'gold' WHERE id = 1"});
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto restored = Engine::Restore(small_cluster(), *rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  Engine& e = **restored;

  const auto& aside = e.set_aside_at_restore();
  ASSERT_EQ(aside.size(), 5u);
  EXPECT_TRUE(aside[0].kept);  // job 1: finished, kept with the default tier
  EXPECT_EQ(e.job(jobs_[0])->state, core::JobState::kCompleted);
  EXPECT_EQ(e.job(jobs_[0])->tier, core::Tier::kNormal);
  EXPECT_EQ(e.job(jobs_[0])->end_reason, "");
  const struct {
    JobId id;
    const char* reason;
    bool was_running;
  } want[] = {
      {jobs_[1],
       "stored row could not be loaded: node 9, where it ran, is not in the configuration", true},
      {jobs_[2], "stored row could not be loaded: unknown state 'FROZEN'", true},
      {jobs_[4], "stored row could not be loaded: unknown tier 'gold'", false},
      {jobs_[5], "stored row could not be loaded: it depends on job 99, which does not exist",
       false}};
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(want[i].reason);
    const core::Job& j = *e.job(want[i].id);
    EXPECT_EQ(aside[i + 1].job, want[i].id);
    EXPECT_FALSE(aside[i + 1].kept);
    EXPECT_EQ(aside[i + 1].was_running, want[i].was_running);
    EXPECT_EQ(j.state, core::JobState::kFailed);
    EXPECT_EQ(j.end_reason, want[i].reason);
  }
  // The runs that never finished are charged nothing; their holds are released.
  EXPECT_EQ(e.job(jobs_[1])->end_ms, running2.start_ms);
  EXPECT_EQ(e.job(jobs_[2])->cost_minor, 0);
  EXPECT_EQ(e.ledger().account(wallet)->debits_pending, 0);
  EXPECT_EQ(e.cluster().used_gpus(), 0);
  EXPECT_TRUE(e.running_jobs().empty());
  EXPECT_TRUE(e.verify().ok());

  // Written back, the rows load cleanly, restore with nothing set aside, and reconcile.
  ASSERT_TRUE(store_->commit(e.drain_changes(), kT0 + 3 * kHour).ok());
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto again = store_->load(nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->job_problems.empty());
  auto second = Engine::Restore(small_cluster(), *again);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE((*second)->set_aside_at_restore().empty());
  EXPECT_EQ((*second)->job(jobs_[2])->end_reason,
            "stored row could not be loaded: unknown state 'FROZEN'");
  const core::ReconcileReport r = core::reconcile(*again);
  EXPECT_TRUE(r.ok()) << r.differences_found << " difference(s), first: "
                      << (r.differences.empty() ? "" : r.differences[0].message);
}

// Two running jobs whose rows claim the same GPU: the first keeps it, the second is set aside.
TEST_F(SqliteStoreTest, RestoreSetsAsideARunningJobWhoseGpusAreTakenOrOutOfRange) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  store_.reset();
  exec_raw(path_, {"UPDATE jobs SET gpu_ids = '0,1,2,3' WHERE id = 2",
                   "UPDATE jobs SET gpu_ids = '0,5,6,7' WHERE id = 3"});
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto restored = Engine::Restore(small_cluster(), *rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->job(jobs_[1])->state, core::JobState::kRunning);
  EXPECT_EQ((*restored)->job(jobs_[2])->state, core::JobState::kFailed);
  EXPECT_EQ((*restored)->job(jobs_[2])->end_reason,
            "stored row could not be loaded: GPU 0 on node n1 is held twice");
  EXPECT_EQ((*restored)->cluster().used_gpus(), 4);
  store_.reset();
  exec_raw(path_, {"UPDATE jobs SET gpu_ids = '4,5,6,8' WHERE id = 3"});
  store_ = open();
  ASSERT_NE(store_, nullptr);
  rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  restored = Engine::Restore(small_cluster(), *rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->job(jobs_[2])->end_reason,
            "stored row could not be loaded: GPU 8 is not on node n1");
}

TEST_F(SqliteStoreTest, ARestoredEngineKeepsCommittingWhereItLeftOff) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto restored = Engine::Restore(small_cluster(), *rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();

  // The same commands on the original and the restored engine; only the restored one's
  // changes go to the store. The holds posted now were written in earlier batches.
  const int64_t t4 = kT0 + 50 * kMinute;
  for (Engine* e : {engine_.get(), restored->get()}) {
    ASSERT_TRUE(e->job_ended(jobs_[1], core::JobEnd{0, 15, false, true, false}, t4, t4).ok());
    ASSERT_TRUE(e->job_ended(jobs_[2], core::JobEnd{1, 0, false, false, false}, t4, t4).ok());
    EXPECT_EQ(e->schedule(t4).size(), 1u);  // flaky runs again, held afresh
    ASSERT_TRUE(e->top_up(project_, 7 * kUnit, "pay-2", t4).ok());
  }
  ASSERT_TRUE(store_->commit((*restored)->drain_changes(), t4).ok());

  auto again = store_->load(nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  expect_same_rows(*again, engine_->snapshot());
  auto restored_again = Engine::Restore(small_cluster(), *again);
  ASSERT_TRUE(restored_again.ok()) << restored_again.status().ToString();
  EXPECT_TRUE((*restored_again)->verify().ok());
}

TEST_F(SqliteStoreTest, ASnapshotCommitsAsOneBatch) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  const ChangeSet want = engine_->snapshot();

  store_.reset();
  path_ = (fs::path(dir_) / "copy.db").string();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->commit(want, kT0).ok());
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  expect_same_rows(*rows, want);
}

TEST_F(SqliteStoreTest, TablesReadAsPlainSql) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  ASSERT_TRUE(store_->put_nodes(engine_->cluster().nodes()).ok());

  RawDb raw(path_);
  EXPECT_EQ(raw.one("SELECT kind FROM orgs WHERE name = 'hku'"), "university");
  EXPECT_EQ(raw.one("SELECT eligible_kinds_text, shortfall, rate_bps FROM schemes"),
            "university,institute|wallet|7000");
  EXPECT_EQ(raw.one("SELECT kind FROM accounts WHERE id = 3"), "revenue");
  EXPECT_EQ(raw.one("SELECT COUNT(*) FROM accounts WHERE kind = 'wallet'"), "1");
  EXPECT_EQ(raw.one("SELECT state, reason, tier, gpu_ids, node_id FROM jobs WHERE name = 'train'"),
            "COMPLETED|None|normal|0,1|1");
  EXPECT_EQ(
      raw.one("SELECT state, reason, restarts, node_id, award_id FROM jobs WHERE name = 'flaky'"),
      "PENDING|AwardCap|1|NULL|NULL");  // requeued; the award's 8 GPUs are in use
  const core::Job& train = *engine_->job(jobs_[0]);
  EXPECT_EQ(raw.one("SELECT cost_minor, subsidy_minor, copay_minor FROM jobs WHERE name = 'train'"),
            std::to_string(train.cost_minor) + "|" + std::to_string(train.subsidy_minor) + "|" +
                std::to_string(train.copay_minor));
  EXPECT_EQ(raw.one("SELECT json_extract(launch, '$.script') FROM jobs WHERE id = 1"), "run.sh");
  // Holds of running jobs are pending; those of ended runs were posted.
  EXPECT_EQ(raw.one("SELECT COUNT(*) FROM transfers WHERE pending_state = 'pending'"), "4");
  EXPECT_EQ(raw.one("SELECT COUNT(*) FROM transfers WHERE pending_state = 'posted'"), "4");
  EXPECT_EQ(raw.one("SELECT code_name, flags_text FROM transfers WHERE id = " +
                    std::to_string(Engine::job_transfer_id(jobs_[0], 0, 1).value)),
            "job_subsidy|pending,linked");
  EXPECT_EQ(raw.one("SELECT reference, amount_minor FROM topups"),
            "pay-1|" + std::to_string(500 * kUnit));
  EXPECT_EQ(raw.one("SELECT balance_minor FROM account_balances WHERE kind = 'source'"),
            std::to_string(-1'000'000 * kUnit));
  EXPECT_EQ(raw.one("SELECT name, gpu_model, gpus, state FROM nodes"), "n1|H100|8|up");
  EXPECT_EQ(raw.one("SELECT value FROM meta WHERE name = 'next_job_id'"), "6");
}

// ---- holds, dependencies and arrays ----

TEST_F(SqliteStoreTest, HoldsDependenciesAndArrayTasksRoundTrip) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  ChangeSet want = engine_->snapshot();
  ASSERT_EQ(want.jobs.size(), 5u);
  // Job 5 (pending) is held; job 4 waits on two jobs of one type and one of another; jobs 2
  // and 3 are tasks 0 and 7 of array 2, at most 2 running at once.
  core::Job& held = want.jobs[4];
  held.held = true;
  held.reason = core::PendingReason::kJobHeldUser;
  core::Job& dependent = want.jobs[3];
  dependent.dependencies = {{core::DependencyType::kAfterOk, JobId(1)},
                            {core::DependencyType::kAfterOk, JobId(2)},
                            {core::DependencyType::kAfterNotOk, JobId(3)}};
  dependent.reason = core::PendingReason::kDependencyNeverSatisfied;
  for (int i : {1, 2}) {
    want.jobs[i].array_id = want.jobs[1].id;
    want.jobs[i].array_throttle = 2;
  }
  want.jobs[1].array_index = 0;
  want.jobs[2].array_index = 7;

  store_.reset();
  path_ = (fs::path(dir_) / "holds.db").string();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  // A task may be written before the first task of its array: no foreign key on array_id.
  ChangeSet reversed = want;
  std::reverse(reversed.jobs.begin(), reversed.jobs.end());
  const Status st = store_->commit(reversed, kT0);
  ASSERT_TRUE(st.ok()) << st.ToString();
  store_.reset();

  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  expect_same_rows(*rows, want);
  ASSERT_EQ(rows->jobs.size(), 5u);
  EXPECT_TRUE(rows->jobs[4].held);
  EXPECT_EQ(rows->jobs[4].reason, core::PendingReason::kJobHeldUser);
  ASSERT_EQ(rows->jobs[3].dependencies.size(), 3u);
  EXPECT_EQ(rows->jobs[3].dependencies[2].type, core::DependencyType::kAfterNotOk);
  EXPECT_EQ(rows->jobs[3].dependencies[2].job.value, 3u);
  EXPECT_EQ(rows->jobs[2].array_id.value, 2u);
  EXPECT_EQ(rows->jobs[2].array_index, 7);
  EXPECT_EQ(rows->jobs[0].array_index, -1);
  EXPECT_EQ(rows->jobs[0].array_id.value, 0u);

  RawDb raw(path_);
  EXPECT_EQ(
      raw.rows(
          "SELECT id, held, dependencies, array_id, array_index, array_throttle, reason FROM jobs "
          "ORDER BY id"),
      (std::vector<std::string>{"1|0||NULL|-1|0|None", "2|0||2|0|2|None", "3|0||2|7|2|None",
                                "4|0|afterok:1:2,afternotok:3|NULL|-1|0|DependencyNeverSatisfied",
                                "5|1||NULL|-1|0|JobHeldUser"}));
  EXPECT_EQ(raw.one("SELECT COUNT(*) FROM jobs WHERE array_id = 2"), "2");
}

TEST_F(SqliteStoreTest, ABadDependencyTextIsReportedWithItsJobOnLoad) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  store_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE jobs SET dependencies = 'before:1' WHERE id = 4", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();  // one bad row never fails the whole load
  ASSERT_EQ(rows->job_problems.count(4), 1u);
  EXPECT_EQ(rows->job_problems.at(4).what, "unreadable dependencies 'before:1'");
  EXPECT_FALSE(rows->job_problems.at(4).state_unknown);
  EXPECT_TRUE(rows->jobs[3].dependencies.empty());
  EXPECT_EQ(rows->job_problems.size(), 1u);
}

// A database written by the berth before migration 3 (schema version 2) opens, migrates, and
// its jobs read back with the defaults: not held, no dependencies, not an array task.
TEST_F(SqliteStoreTest, MigratesADatabaseFromSchemaVersion2) {
  write_old_database(
      2, {
             "INSERT INTO orgs VALUES (1, 'hku', 'university', 0)",
             "INSERT INTO accounts VALUES (4, 'wallet', 1, 1, 'vision', 0, 0, 0, 0, 0)",
             "INSERT INTO projects VALUES (1, 1, 'vision', 4, 0)",
             "INSERT INTO jobs VALUES (1, 'old', 'alice', 1, 1, 'PENDING', 'Priority', 'normal', "
             "2, 'H100', 'gpu', "
             "3600, 0, 0, 5, 0, 0, NULL, '', 0, 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0, 0, '{}')",
             "INSERT INTO meta VALUES ('next_job_id', 2)",
         });
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->schema_version(), migrations().back().version);
  EXPECT_GE(store_->schema_version(), 3);

  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->jobs.size(), 1u);
  const core::Job& j = rows->jobs[0];
  EXPECT_EQ(j.name, "old");
  EXPECT_EQ(j.reason, core::PendingReason::kPriority);
  EXPECT_EQ(j.gpus, 2);
  EXPECT_FALSE(j.held);
  EXPECT_TRUE(j.dependencies.empty());
  EXPECT_EQ(j.array_id.value, 0u);
  EXPECT_EQ(j.array_index, -1);
  EXPECT_EQ(j.array_throttle, 0);
  EXPECT_EQ(rows->next_job_id, 2u);
  {
    RawDb raw(path_);
    EXPECT_EQ(raw.one("SELECT held, dependencies, array_id, array_index, array_throttle FROM jobs"),
              "0||NULL|-1|0");
    EXPECT_EQ(
        raw.one("SELECT COUNT(*), MAX(version) FROM schema_version"),
        std::to_string(migrations().size()) + "|" + std::to_string(migrations().back().version));
  }

  // The migrated table takes new rows with the new columns, and refuses a bad held.
  core::Job updated = j;
  updated.held = true;
  updated.dependencies = {{core::DependencyType::kAfterAny, JobId(9)}};
  ChangeSet batch;
  batch.jobs.push_back(updated);
  batch.next_job_id = 2;
  ASSERT_TRUE(store_->commit(batch, kT0).ok());
  auto again = store_->load(nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->jobs.size(), 1u);
  expect_same(again->jobs[0], updated);
  store_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_NE(sqlite3_exec(db, "UPDATE jobs SET held = 2", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
}

// ---- gang jobs, runtime estimates, node domains (migration 4) ----

TEST_F(SqliteStoreTest, GangJobsAndEstimatesRoundTrip) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  ChangeSet want = engine_->snapshot();
  ASSERT_EQ(want.jobs.size(), 5u);
  // Job 2 (running) is a gang job on three nodes, 4 GPUs on each; it and job 5 (pending) plan
  // with an estimate shorter than their limit.
  core::Job& gang = want.jobs[1];
  ASSERT_EQ(gang.state, core::JobState::kRunning);
  gang.gpus = 12;
  gang.nodes = 3;
  gang.more_nodes = {core::Placement{NodeId(4), {0, 1, 2, 3}},
                     core::Placement{NodeId(7), {4, 5, 6, 7}}};
  gang.estimate_s = 1800;
  want.jobs[4].nodes = 2;
  want.jobs[4].estimate_s = 600;
  // Job 5 asks for two nodes by name; job 4 rules one out (--nodelist, --exclude).
  want.jobs[4].node_choice.required = {NodeId(2), NodeId(5)};
  want.jobs[3].node_choice.excluded = {NodeId(3)};

  store_.reset();
  path_ = (fs::path(dir_) / "gang.db").string();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  const Status st = store_->commit(want, kT0);
  ASSERT_TRUE(st.ok()) << st.ToString();
  store_.reset();

  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  expect_same_rows(*rows, want);
  ASSERT_EQ(rows->jobs.size(), 5u);
  EXPECT_EQ(rows->jobs[1].gpus_per_node(), 4);
  EXPECT_TRUE(rows->jobs[1].runs_on(NodeId(7)));
  EXPECT_EQ(rows->jobs[1].planned_s(), 1800);
  EXPECT_TRUE(rows->jobs[4].more_nodes.empty());

  RawDb raw(path_);
  EXPECT_EQ(
      raw.rows("SELECT id, nodes, node_id, gpu_ids, more_nodes, estimate_s FROM jobs ORDER BY id"),
      (std::vector<std::string>{"1|1|1|0,1||0", "2|3|1|2,3,4,5|4:0,1,2,3;7:4,5,6,7|1800",
                                "3|1|1|0,1,6,7||0", "4|1|NULL|||0", "5|2|NULL|||600"}));
  EXPECT_EQ(
      raw.rows("SELECT id, required_nodes, excluded_nodes FROM jobs WHERE id >= 4 ORDER BY id"),
      (std::vector<std::string>{"4||3", "5|2,5|"}));
}

TEST_F(SqliteStoreTest, TheSchemaRefusesANodeCountBelowOneAndANegativeEstimate) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  std::string before;
  {
    RawDb raw(path_);
    before = raw.dump();
  }
  const ChangeSet good = engine_->snapshot();
  ChangeSet no_nodes;
  no_nodes.jobs.push_back(good.jobs.front());
  no_nodes.jobs.front().nodes = 0;
  ChangeSet negative_estimate;
  negative_estimate.jobs.push_back(good.jobs.front());
  negative_estimate.jobs.front().estimate_s = -1;
  for (const ChangeSet* bad : {&no_nodes, &negative_estimate}) {
    const Status st = store_->commit(*bad, kT0 + kHour);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("CHECK"), std::string::npos) << st.ToString();
    EXPECT_NE(st.message().find("job 1"), std::string::npos) << st.ToString();
    RawDb raw(path_);
    EXPECT_EQ(raw.dump(), before);
  }
}

TEST_F(SqliteStoreTest, AMalformedMoreNodesIsReportedWithItsJobOnLoad) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  store_.reset();
  for (const char* text : {"4", "4:0,1;", ";4:0", "0:1", ":1", "4:a", "4:0;;7:0", "-3:0",
                           "4:0,1 ;7:0", "4:0:1", "4,5:0", "x:0"}) {
    SCOPED_TRACE(text);
    {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
      const std::string sql =
          std::string("UPDATE jobs SET more_nodes = '") + text + "' WHERE id = 2";
      ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
      sqlite3_close(db);
    }
    store_ = open();
    ASSERT_NE(store_, nullptr);
    auto rows = store_->load(nullptr);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->job_problems.count(2), 1u);
    EXPECT_EQ(rows->job_problems.at(2).what, std::string("unreadable more_nodes '") + text + "'");
    EXPECT_TRUE(rows->jobs[1].more_nodes.empty());
    store_.reset();
  }
  // Well-formed text, an empty GPU list included (what the store writes it reads back), loads.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE jobs SET more_nodes = '12:0,7;3:' WHERE id = 2", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->jobs[1].more_nodes,
            (std::vector<core::Placement>{core::Placement{NodeId(12), {0, 7}},
                                          core::Placement{NodeId(3), {}}}));
}

// A database written by the berth before migration 4 (schema version 3) opens, migrates, and
// reads back with the defaults: one node, no more nodes, no estimate, no domain.
TEST_F(SqliteStoreTest, MigratesADatabaseFromSchemaVersion3) {
  write_old_database(3,
                     {
                         "INSERT INTO orgs VALUES (1, 'hku', 'university', 0)",
                         "INSERT INTO accounts VALUES (4, 'wallet', 1, 1, 'vision', 0, 0, 0, 0, 0)",
                         "INSERT INTO projects VALUES (1, 1, 'vision', 4, 0)",
                         "INSERT INTO jobs VALUES (1, 'old', 'alice', 1, 1, 'PENDING', 'Priority', "
                         "'normal', 2, 'H100', 'gpu', "
                         "3600, 0, 0, 5, 0, 0, NULL, '', 0, 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0, 0, "
                         "'{}', 1, 'afterok:9', NULL, -1, 0)",
                         "INSERT INTO nodes VALUES (1, 'n1', 'H100', 8, 64, 512000, 'drain')",
                         "INSERT INTO meta VALUES ('next_job_id', 2)",
                     });
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->schema_version(), migrations().back().version);
  EXPECT_GE(store_->schema_version(), 4);

  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->jobs.size(), 1u);
  const core::Job& j = rows->jobs[0];
  EXPECT_EQ(j.name, "old");
  EXPECT_TRUE(j.held);
  ASSERT_EQ(j.dependencies.size(), 1u);
  EXPECT_EQ(j.nodes, 1);
  EXPECT_TRUE(j.more_nodes.empty());
  EXPECT_EQ(j.estimate_s, 0);
  auto nodes = store_->nodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].state, core::NodeState::kDrain);
  EXPECT_EQ((*nodes)[0].domain, "");
  {
    RawDb raw(path_);
    EXPECT_EQ(raw.one("SELECT nodes, more_nodes, estimate_s FROM jobs"), "1||0");
    EXPECT_EQ(raw.one("SELECT domain FROM nodes"), "");
    EXPECT_EQ(
        raw.one("SELECT COUNT(*), MAX(version) FROM schema_version"),
        std::to_string(migrations().size()) + "|" + std::to_string(migrations().back().version));
  }

  // The migrated tables take the new columns.
  core::Job updated = j;
  updated.nodes = 2;
  updated.estimate_s = 120;
  ChangeSet batch;
  batch.jobs.push_back(updated);
  batch.next_job_id = 2;
  ASSERT_TRUE(store_->commit(batch, kT0).ok());
  auto again = store_->load(nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->jobs.size(), 1u);
  expect_same(again->jobs[0], updated);
}

TEST_F(SqliteStoreTest, SchemeRulesAndApplicationsRoundTripAcrossBatches) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto e = Engine::Create(small_cluster(), kT0);
  ASSERT_TRUE(e.ok());
  engine_ = std::move(*e);
  const OrgId org = engine_->create_org("hku", core::OrgKind::kUniversity, kT0)->id;
  project_ = engine_->create_project(org, "vision", kT0)->id;
  core::SchemeSpec spec;
  spec.name = "ai-subsidy";
  spec.rate_bps = 7000;
  spec.eligible_kinds = 1u << static_cast<int>(core::OrgKind::kUniversity);
  spec.exceptional_rate_bps = 9000;
  spec.cap_per_project_minor = 800 * kUnit;
  spec.window_open_ms = kT0 - kHour;
  spec.window_close_ms = kT0 + 100 * kHour;
  spec.award_validity_days = 90;
  const SchemeId scheme = engine_->create_scheme(spec, 10'000 * kUnit, kT0)->id;
  commit(kT0);
  const core::Actor alice{"alice", core::FundingRole::kMember, org};
  const core::Actor rita{"rita", core::FundingRole::kReviewer, OrgId()};
  const core::Actor victor{"victor", core::FundingRole::kReviewer, OrgId()};
  ASSERT_TRUE(engine_->set_criteria(rita, scheme, {{"impact", 7000}, {"plan", 3000}}, kT0).ok());
  commit(kT0);
  core::ApplicationTerms terms;
  terms.amount_minor = 500 * kUnit;
  terms.gpu_level = 4;
  terms.gpu_model = "H100";
  terms.duration_days = 120;
  terms.justification = "a 'quoted', ünïcode justification";
  terms.planned_work = "line one\nline two";
  std::vector<ApplicationId> ids;
  for (int i = 0; i < 4; ++i) {
    auto id = engine_->draft_application(alice, scheme, project_, terms, kT0 + i);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ids.push_back(*id);
  }
  commit(kT0 + 4);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(engine_->submit_application(alice, ids[i], kT0 + 10).ok());
  commit(kT0 + 10);
  ASSERT_TRUE(
      engine_->review_application(rita, ids[0], {{"impact", 90}, {"plan", 60}}, "good", kT0 + 20)
          .ok());
  ASSERT_TRUE(
      engine_->review_application(victor, ids[0], {{"impact", 70}, {"plan", 80}}, "", kT0 + 21)
          .ok());
  ASSERT_TRUE(
      engine_->review_application(rita, ids[0], {{"impact", 95}, {"plan", 60}}, "revised", kT0 + 22)
          .ok());
  commit(kT0 + 22);
  core::Approval approval;
  approval.amount_minor = 400 * kUnit;
  approval.exceptional_rate = true;
  ASSERT_TRUE(engine_->approve_application(rita, ids[0], approval, kT0 + 30).ok());
  ASSERT_TRUE(engine_->reject_application(rita, ids[1], "not now", kT0 + 31).ok());
  ASSERT_TRUE(engine_->withdraw_application(alice, ids[2], "changed plans", kT0 + 32).ok());
  commit(kT0 + 32);
  // A second award, a supplement, a stated funding order, and an early closure whose remainder
  // returns at once (no job holds on it): awards are upserted, the audit record appended.
  auto direct =
      engine_->create_award(scheme, project_, 100 * kUnit, 2, kT0, kT0 + 1000 * kHour, kT0 + 33);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  commit(kT0 + 33);
  engine_->set_actor("rita");
  ASSERT_TRUE(
      engine_->supplement_award(AwardId(1), 50 * kUnit, kT0 + 3000 * kHour, "more work", kT0 + 34)
          .ok());
  ASSERT_TRUE(engine_->set_funding_order(project_, {direct->id, AwardId(1)}, kT0 + 34).ok());
  commit(kT0 + 34);
  ASSERT_TRUE(engine_->close_award(direct->id, "project moved", kT0 + 35).ok());
  engine_->set_actor("system");
  commit(kT0 + 35);
  ASSERT_EQ(engine_->funding().award(direct->id)->returned_minor, 100 * kUnit);
  ASSERT_GE(engine_->audit().size(), 6u);
  const ChangeSet want = engine_->snapshot();
  ASSERT_EQ(want.applications.size(), 4u);
  ASSERT_EQ(want.applications[0].reviews.size(), 2u);
  const std::unique_ptr<Engine> restored = reopen_and_restore(want);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->funding().awards()[0].rate_bps, 9000);
  EXPECT_EQ(restored->funding().awards()[0].amount_minor, 450 * kUnit);
  EXPECT_EQ(restored->audit().back().action, "award.return");
  EXPECT_EQ(restored->audit()[restored->audit().size() - 2].user, "rita");
  {
    RawDb raw(path_);
    EXPECT_EQ(raw.one("SELECT state, approved_rate_bps, award_id FROM applications WHERE id = 1"),
              "approved|9000|1");
    EXPECT_EQ(raw.one("SELECT COUNT(*) FROM application_events"),
              std::to_string(want.application_events.size()));
    EXPECT_EQ(
        raw.one("SELECT scores FROM application_reviews WHERE application_id = 1 AND position = 0"),
        "95,60");
  }
}

TEST_F(SqliteStoreTest, ProgressReportsRoundTripAcrossBatches) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto e = Engine::Create(small_cluster(), kT0);
  ASSERT_TRUE(e.ok());
  engine_ = std::move(*e);
  const OrgId org = engine_->create_org("hku", core::OrgKind::kUniversity, kT0)->id;
  project_ = engine_->create_project(org, "vision", kT0)->id;
  const SchemeId scheme =
      engine_
          ->create_scheme("ai-subsidy", 7000, 1u << static_cast<int>(core::OrgKind::kUniversity),
                          core::Shortfall::kWallet, 10'000 * kUnit, kT0)
          ->id;
  auto award =
      engine_->create_award(scheme, project_, 100 * kUnit, 4, kT0, kT0 + 4000 * kHour, kT0, 1, 2);
  ASSERT_TRUE(award.ok()) << award.status().ToString();
  commit(kT0);
  const core::Actor alice{"alice", core::FundingRole::kMember, org};
  const core::Actor rita{"rita", core::FundingRole::kReviewer, OrgId()};
  const int64_t due = engine_->report_standing(award->id, kT0).next_due_ms;
  ASSERT_GT(due, kT0);
  ASSERT_TRUE(engine_->submit_report(alice, award->id, 1, "first 'draft'\nwith a line", due).ok());
  commit(due);
  ASSERT_TRUE(engine_->return_report(rita, award->id, 1, "add the numbers", due + 1).ok());
  ASSERT_TRUE(engine_->submit_report(alice, award->id, 1, "with the numbers", due + 2).ok());
  commit(due + 2);
  ASSERT_TRUE(engine_->accept_report(rita, award->id, 1, due + 3).ok());
  ASSERT_TRUE(engine_->submit_report(alice, award->id, 2, "second", due + 4).ok());
  commit(due + 4);
  const ChangeSet want = engine_->snapshot();
  ASSERT_EQ(want.reports.size(), 2u);
  ASSERT_EQ(want.report_events.size(), 5u);
  const std::unique_ptr<Engine> restored = reopen_and_restore(want);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->funding().award(award->id)->report_grace_days, 2);
  RawDb raw(path_);
  EXPECT_EQ(raw.one("SELECT state, submissions, decided_by FROM progress_reports WHERE award_id = "
                    "1 AND period = 1"),
            "accepted|2|rita");
  EXPECT_EQ(raw.one("SELECT report_every_months, report_grace_days FROM awards WHERE id = 1"),
            "1|2");
  EXPECT_EQ(raw.one("SELECT action, note FROM progress_report_events WHERE seq = 2"),
            "returned|add the numbers");
}

TEST_F(SqliteStoreTest, MigratesADatabaseFromSchemaVersion4) {
  write_old_database(
      4, {
             "INSERT INTO orgs VALUES (1, 'hku', 'university', 0)",
             "INSERT INTO accounts VALUES (4, 'wallet', 1, 1, 'vision', 0, 0, 0, 0, 0)",
             "INSERT INTO accounts VALUES (5, 'fund', 1, 1, 'fund', 0, 0, 0, 0, 0)",
             "INSERT INTO accounts VALUES (6, 'award', 1, 1, 'award', 0, 0, 0, 0, 0)",
             "INSERT INTO projects VALUES (1, 1, 'vision', 4, 0)",
             "INSERT INTO schemes VALUES (1, 'ai', 7000, 4, 'university', 'wallet', 5, 0)",
             "INSERT INTO awards VALUES (1, 1, 1, 6, 0, 8, 0, 1000, 0)",
         });
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_GE(store_->schema_version(), 5);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->schemes.size(), 1u);
  EXPECT_EQ(rows->schemes[0].exceptional_rate_bps, 0);
  EXPECT_EQ(rows->schemes[0].window_close_ms, 0);
  ASSERT_EQ(rows->awards.size(), 1u);
  EXPECT_EQ(rows->awards[0].rate_bps, 7000);  // the scheme's rate, as it was paid before
  EXPECT_FALSE(rows->awards[0].application.valid());
  EXPECT_TRUE(rows->applications.empty());
}

TEST_F(SqliteStoreTest, CreditLimitsAndRefundsRoundTrip) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  ASSERT_TRUE(engine_->set_credit_limit(project_, 250 * kUnit, "trusted", kT0 + kHour).ok());
  commit(kT0 + kHour);
  const core::Job& done = *engine_->job(jobs_[0]);
  auto refunded = engine_->refund_job(done.id, done.cost_minor / 2, "slow node", kT0 + kHour);
  ASSERT_TRUE(refunded.ok()) << refunded.status().ToString();
  commit(kT0 + kHour);
  ASSERT_TRUE(engine_->adjust_wallet(project_, -3 * kUnit, "correction", kT0 + kHour).ok());
  commit(kT0 + kHour);
  const ChangeSet want = engine_->snapshot();
  store_.reset();

  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  expect_same_rows(*rows, want);
  auto restored = Engine::Restore(small_cluster(), *rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const core::Project& p = *(*restored)->funding().project(project_);
  EXPECT_EQ((*restored)->ledger().account(p.wallet)->credit_limit_minor, 250 * kUnit);
  EXPECT_EQ((*restored)->job(jobs_[0])->refunded_minor, done.cost_minor / 2);
  EXPECT_TRUE(core::reconcile(*rows).ok());
  RawDb raw(path_);
  EXPECT_EQ(raw.one("SELECT credit_limit_minor FROM accounts WHERE id = " +
                    std::to_string(p.wallet.value)),
            std::to_string(250 * kUnit));
  EXPECT_EQ(raw.one("SELECT refunded_minor FROM jobs WHERE id = " + std::to_string(jobs_[0].value)),
            std::to_string(done.cost_minor / 2));
}

TEST_F(SqliteStoreTest, TheSchemaRefusesARefundAboveTheCost) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  ChangeSet bad;
  bad.jobs.push_back(*engine_->job(jobs_[0]));
  bad.jobs.front().refunded_minor = bad.jobs.front().cost_minor + 1;
  const Status st = store_->commit(bad, kT0 + kHour);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("CHECK"), std::string::npos) << st.ToString();
}

TEST_F(SqliteStoreTest, MigratesADatabaseFromSchemaVersion5) {
  write_old_database(5,
                     {
                         "INSERT INTO orgs VALUES (1, 'hku', 'university', 0)",
                         "INSERT INTO accounts VALUES (4, 'wallet', 1, 1, 'vision', 0, 0, 0, 0, 0)",
                         "INSERT INTO projects VALUES (1, 1, 'vision', 4, 0)",
                     });
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_GE(store_->schema_version(), 6);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->accounts.size(), 1u);
  EXPECT_EQ(rows->accounts[0].credit_limit_minor, 0);  // an older wallet has no credit
  RawDb raw(path_);
  EXPECT_EQ(raw.one("SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = 'refunded_minor'"),
            "1");
}

TEST_F(SqliteStoreTest, RegistrationRecordsAreUpsertedAndSurviveReopening) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto e = Engine::Create(small_cluster(), kT0);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  engine_ = std::move(*e);
  core::RegistrationChange record;
  record.number = "71234567";
  record.address = "1 Science Park West Avenue, Hong Kong";
  record.contact_name = "Ann Lee";
  record.contact_email = "ann@acme.hk";
  auto org = engine_->create_org("acme", core::OrgKind::kStartup, record, kT0);
  ASSERT_TRUE(org.ok()) << org.status().ToString();
  commit(kT0);
  core::RegistrationChange amended;
  amended.contact_email = "ops@acme.hk";
  amended.jurisdiction = "Hong Kong";
  ASSERT_TRUE(engine_->update_org(org->id, amended, "shared mailbox", kT0 + kHour).ok());
  commit(kT0 + kHour);  // the same org row again: upserted, not a second row
  const std::unique_ptr<Engine> restored = reopen_and_restore(engine_->snapshot());
  ASSERT_NE(restored, nullptr);
  const core::Org& o = *restored->funding().org(org->id);
  EXPECT_EQ(o.registration.contact_email, "ops@acme.hk");
  EXPECT_EQ(o.registration.number, "71234567");
  EXPECT_EQ(o.updated_ms, kT0 + kHour);
  EXPECT_EQ(restored->audit().back().action, "org.update");
  RawDb raw(path_);
  EXPECT_EQ(raw.one("SELECT COUNT(*) FROM orgs WHERE name = 'acme'"), "1");
  EXPECT_EQ(
      raw.one("SELECT registration_number || '|' || contact_email || '|' || jurisdiction FROM orgs "
              "WHERE name = 'acme'"),
      "71234567|ops@acme.hk|Hong Kong");
}

TEST_F(SqliteStoreTest, TheSchemaRefusesAnOverlongRegistrationField) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ChangeSet bad;
  core::Org o{OrgId(1), "acme", core::OrgKind::kStartup, kT0};
  o.registration.address = std::string(core::kMaxAddressBytes + 1, 'a');
  bad.orgs.push_back(o);
  const Status st = store_->commit(bad, kT0);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("CHECK"), std::string::npos) << st.ToString();
}

TEST_F(SqliteStoreTest, MigratesADatabaseFromSchemaVersion8) {
  write_old_database(8, {"INSERT INTO orgs VALUES (1, 'hku', 'university', 0)"});
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_GE(store_->schema_version(), 9);
  auto rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->orgs.size(), 1u);
  EXPECT_EQ(rows->orgs[0].name, "hku");
  EXPECT_EQ(rows->orgs[0].registration,
            core::OrgRegistration{});  // nothing recorded for an older org
  EXPECT_EQ(rows->orgs[0].updated_ms, 0);
}

// ---- atomicity ----

TEST_F(SqliteStoreTest, AFailedCommitLeavesTheDatabaseExactlyAsBefore) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  const ChangeSet good = engine_->snapshot();
  std::string before;
  {
    RawDb raw(path_);
    before = raw.dump();
  }

  // Each batch writes good rows first and then one that the schema refuses.
  ChangeSet dangling;  // a transfer from an account that does not exist
  dangling.orgs.push_back(core::Org{OrgId(99), "late", core::OrgKind::kStartup, kT0});
  dangling.accounts.push_back(good.accounts.back());
  dangling.accounts.back().credits_posted += 1;
  dangling.jobs.push_back(good.jobs.front());
  dangling.jobs.front().name = "renamed";
  core::Transfer t = good.transfers.front();
  t.id = TransferId(12345);
  t.debit = AccountId(999);
  dangling.transfers.push_back(t);
  dangling.next_job_id = 77;

  ChangeSet repeated;  // an append-only row written twice
  repeated.accounts.push_back(good.accounts.back());
  repeated.projects.push_back(good.projects.front());

  ChangeSet unknown_pending;  // the state of a transfer that was never written
  unknown_pending.orgs.push_back(core::Org{OrgId(99), "late", core::OrgKind::kStartup, kT0});
  unknown_pending.pending.push_back({TransferId(4242), core::PendingState::kPosted, 1});

  ChangeSet job_of_nobody;  // a job whose project does not exist
  job_of_nobody.jobs.push_back(good.jobs.front());
  job_of_nobody.jobs.front().id = JobId(50);
  job_of_nobody.jobs.front().project = ProjectId(9);

  for (const ChangeSet* bad : {&dangling, &repeated, &unknown_pending, &job_of_nobody}) {
    const Status st = store_->commit(*bad, kT0 + 99 * kHour);
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Code::kInternal) << st.ToString();
    RawDb raw(path_);
    EXPECT_EQ(raw.dump(), before);
  }
  EXPECT_NE(store_->commit(dangling, kT0).message().find("FOREIGN KEY"), std::string::npos);
  EXPECT_NE(store_->commit(repeated, kT0).message().find("UNIQUE"), std::string::npos);

  // The store is still usable, and loads what was there.
  ASSERT_TRUE(store_->touch_alive(kT0 + 100 * kHour).ok());
  int64_t alive = 0;
  auto rows = store_->load(&alive);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(alive, kT0 + 100 * kHour);
  expect_same_rows(*rows, good);
}

// ---- heartbeat, tokens, nodes ----

TEST_F(SqliteStoreTest, LastAliveRoundTrips) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  int64_t alive = -1;
  ASSERT_TRUE(store_->load(&alive).ok());
  EXPECT_EQ(alive, 0);

  ASSERT_TRUE(store_->touch_alive(kT0 + 5).ok());
  ASSERT_TRUE(store_->load(&alive).ok());
  EXPECT_EQ(alive, kT0 + 5);

  ASSERT_TRUE(store_->commit(ChangeSet{}, kT0 + 9).ok());  // an empty batch is a heartbeat too
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->load(&alive).ok());
  EXPECT_EQ(alive, kT0 + 9);
}

TEST_F(SqliteStoreTest, TokensRoundTrip) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->put_token({"hash-a", "admin", "admin", 0, kT0}).ok());
  ASSERT_TRUE(store_->put_token({"hash-b", "bob", "member", 7, kT0 + 1}).ok());
  ASSERT_TRUE(
      store_->put_token({"hash-a", "admin", "member", 3, kT0 + 2}).ok());  // replaces the row
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);

  auto tokens = store_->tokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  ASSERT_EQ(tokens->size(), 2u);
  const TokenRow& a = (*tokens)[0];
  EXPECT_EQ(a.token_hash, "hash-a");
  EXPECT_EQ(a.user, "admin");
  EXPECT_EQ(a.role, "member");
  EXPECT_EQ(a.org_id, 3u);
  EXPECT_EQ(a.created_ms, kT0 + 2);
  const TokenRow& b = (*tokens)[1];
  EXPECT_EQ(b.token_hash, "hash-b");
  EXPECT_EQ(b.user, "bob");
  EXPECT_EQ(b.role, "member");
  EXPECT_EQ(b.org_id, 7u);
  EXPECT_EQ(b.created_ms, kT0 + 1);
}

TEST_F(SqliteStoreTest, TokensKeepTheirCreatorExpiryRevocationAndUnixUser) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  TokenRow admin{"hash-a", "admin", "admin", 0, kT0, "berthd", 0, 0, ""};
  TokenRow alice{"hash-b", "alice", "member", 7, kT0 + 1, "admin", kT0 + kHour, 0, "alice"};
  ASSERT_TRUE(store_->put_tokens({admin, alice}).ok());
  admin.revoked_ms = kT0 + 2;  // a rotation: the old admin token revoked with the new one added
  const TokenRow next{"hash-c", "admin", "admin", 0, kT0 + 2, "berthd", 0, 0, ""};
  ASSERT_TRUE(store_->put_tokens({admin, next}).ok());
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto tokens = store_->tokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  ASSERT_EQ(tokens->size(), 3u);
  EXPECT_EQ((*tokens)[0].created_by, "berthd");
  EXPECT_EQ((*tokens)[0].revoked_ms, kT0 + 2);
  EXPECT_EQ((*tokens)[1].created_by, "admin");
  EXPECT_EQ((*tokens)[1].expires_ms, kT0 + kHour);
  EXPECT_EQ((*tokens)[1].revoked_ms, 0);
  EXPECT_EQ((*tokens)[1].unix_user, "alice");
  EXPECT_EQ((*tokens)[2].token_hash, "hash-c");
}

TEST_F(SqliteStoreTest, MigratingTokensMarksTheAdminTokensBerthdMade) {
  write_old_database(10, {"INSERT INTO tokens VALUES ('hash-a', 'admin', 'admin', 0, 1)",
                          "INSERT INTO tokens VALUES ('hash-b', 'admin', 'admin', 0, 2)",
                          "INSERT INTO tokens VALUES ('hash-c', 'bob', 'member', 3, 3)"});
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto tokens = store_->tokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  ASSERT_EQ(tokens->size(), 3u);
  EXPECT_EQ((*tokens)[0].created_by, "berthd");
  EXPECT_EQ((*tokens)[1].created_by, "berthd");  // the second admin token a lost admin.token made
  EXPECT_EQ((*tokens)[2].created_by, "");
  for (const TokenRow& t : *tokens) {
    EXPECT_EQ(t.expires_ms, 0);
    EXPECT_EQ(t.revoked_ms, 0);
    EXPECT_EQ(t.unix_user, "");
  }
}

TEST_F(SqliteStoreTest, IdempotencyKeysAreCommittedWithTheirJobsAndRestored) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  core::JobRequest r = request("keyed", 1, 600);
  r.idempotency_key = "submit-7f3a";
  r.request_digest = "digest-1";
  const JobId keyed = submit(r, kT0 + 40 * kMinute);
  const ChangeSet batch = engine_->drain_changes();
  ASSERT_EQ(batch.submit_keys.size(), 1u);
  ASSERT_TRUE(store_->commit(batch, kT0 + 40 * kMinute).ok());
  {
    RawDb raw(path_);
    EXPECT_EQ(raw.one("SELECT user_name, key, digest, job_id FROM submit_keys"),
              "alice|submit-7f3a|digest-1|" + std::to_string(keyed.value));
  }
  const ChangeSet want = engine_->snapshot();
  ASSERT_EQ(want.submit_keys.size(), 1u);
  std::unique_ptr<Engine> restored = reopen_and_restore(want);
  ASSERT_NE(restored, nullptr);
  bool replayed = false;
  auto again = restored->submit(r, kT0 + 41 * kMinute, &replayed);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(replayed);
  EXPECT_EQ(*again, keyed);
}

TEST_F(SqliteStoreTest, NodesRoundTripWithTheirDomains) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto none = store_->nodes();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());

  const std::vector<core::Node> want = {
      core::Node{NodeId(1), "n1", "H100", 8, 64, 512'000, core::NodeState::kUp, "rack-a"},
      core::Node{NodeId(2), "n2", "H100", 8, 64, 512'000, core::NodeState::kDrain, "rack-a"},
      core::Node{NodeId(3), "n3", "A100", 4, 32, 256'000, core::NodeState::kDown, ""},
  };
  ASSERT_TRUE(store_->put_nodes(want).ok());
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto got = store_->nodes();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  expect_same_list("nodes", *got, want);
  RawDb raw(path_);
  EXPECT_EQ(raw.rows("SELECT name, state, domain FROM nodes ORDER BY id"),
            (std::vector<std::string>{"n1|up|rack-a", "n2|drain|rack-a", "n3|down|"}));
}

// Two up 8-GPU H100 nodes: n1 in rack-a, n2 in `second_rack`.
std::vector<core::Node> two_up_nodes(const std::string& second_rack) {
  return {core::Node{NodeId(1), "n1", "H100", 8, 64, 512'000, core::NodeState::kUp, "rack-a"},
          core::Node{NodeId(2), "n2", "H100", 8, 64, 512'000, core::NodeState::kUp, second_rack}};
}

// berthd's restart: the configured nodes are written again, each keeping the state an
// administrator set before the restart.
TEST_F(SqliteStoreTest, ANodeStatePersistsAcrossReopen) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  std::vector<core::Node> configured = two_up_nodes("rack-b");
  ASSERT_TRUE(store_->put_nodes(configured).ok());
  auto with_state = [&configured](size_t i, core::NodeState state) {
    core::Node n = configured[i];
    n.state = state;
    return n;
  };
  ASSERT_TRUE(store_->put_node(with_state(1, core::NodeState::kDrain)).ok());
  ASSERT_TRUE(store_->put_node(with_state(0, core::NodeState::kDown)).ok());
  ASSERT_TRUE(store_->put_node(with_state(0, core::NodeState::kUp)).ok());
  core::Node unknown = configured[0];
  unknown.name = "n9";
  const Status missing = store_->put_node(unknown);
  EXPECT_EQ(missing.code(), Code::kNotFound) << missing.ToString();
  EXPECT_NE(missing.message().find("'n9'"), std::string::npos) << missing.ToString();
  store_.reset();

  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto stored = store_->nodes();
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].state, core::NodeState::kUp);
  EXPECT_EQ((*stored)[1].state, core::NodeState::kDrain);
  // The configuration now adds n3 and moves n2 to another domain; n2 keeps its drain.
  configured.push_back(
      core::Node{NodeId(3), "n3", "A100", 4, 32, 256'000, core::NodeState::kUp, ""});
  configured[1].domain = "rack-c";
  for (core::Node& n : configured)
    for (const core::Node& s : *stored)
      if (s.name == n.name) n.state = s.state;
  ASSERT_TRUE(store_->put_nodes(configured).ok());
  RawDb raw(path_);
  EXPECT_EQ(raw.rows("SELECT name, state, domain FROM nodes ORDER BY id"),
            (std::vector<std::string>{"n1|up|rack-a", "n2|drain|rack-c", "n3|up|"}));
}

// What a node's agent last said and why the node is in its state, written with put_node and
// read back after a reopen; put_nodes keeps them too.
TEST_F(SqliteStoreTest, NodesKeepTheirAgentsAndReasons) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  std::vector<core::Node> nodes = two_up_nodes("rack-a");
  ASSERT_TRUE(store_->put_nodes(nodes).ok());
  nodes[0].state = core::NodeState::kDown;
  nodes[0].agent_version = "0.9.0";
  nodes[0].address = "10.0.0.7";
  nodes[0].isolation = "cgroup1";
  nodes[0].last_heartbeat_ms = 1'800'000'000'000;
  nodes[0].state_reason = "agent silent since 2027-01-15T08:00:00Z";
  nodes[0].silent_down = true;
  nodes[0].state_before_silence = core::NodeState::kDrain;
  nodes[0].reason_before_silence = "disk swap";
  ASSERT_TRUE(store_->put_node(nodes[0]).ok());
  nodes[1].state = core::NodeState::kDrain;
  nodes[1].state_reason = "fan replaced";
  ASSERT_TRUE(store_->put_node(nodes[1]).ok());
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto got = store_->nodes();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  expect_same_list("nodes", *got, nodes);
  {
    RawDb raw(path_);
    EXPECT_EQ(raw.rows("SELECT name, state, agent_version, address, isolation, last_heartbeat_ms, "
                       "state_reason, silent_down, state_before_silence, reason_before_silence "
                       "FROM nodes ORDER BY id"),
              (std::vector<std::string>{"n1|down|0.9.0|10.0.0.7|cgroup1|1800000000000|agent "
                                        "silent since 2027-01-15T08:00:00Z|1|drain|disk swap",
                                        "n2|drain||||0|fan replaced|0|up|"}));
  }
  ASSERT_TRUE(store_->put_nodes(*got).ok());
  auto again = store_->nodes();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  expect_same_list("nodes", *again, nodes);
}

// A database written before migration 14 opens, and its nodes read as nodes no agent has
// registered for, with no reason.
TEST_F(SqliteStoreTest, MigratesNodesFromSchemaVersion13) {
  write_old_database(13, {"INSERT INTO nodes (id, name, gpu_model, gpus, cpus, memory_mb, state, "
                          "domain) VALUES (1, 'n1', 'H100', 8, 64, 512000, 'drain', 'rack-a')"});
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->schema_version(), migrations().back().version);
  auto got = store_->nodes();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const std::vector<core::Node> want = {
      core::Node{NodeId(1), "n1", "H100", 8, 64, 512'000, core::NodeState::kDrain, "rack-a"}};
  expect_same_list("nodes", *got, want);
  core::Node n = (*got)[0];
  n.last_heartbeat_ms = 5;
  n.silent_down = true;
  ASSERT_TRUE(store_->put_node(n).ok());
  RawDb raw(path_);
  EXPECT_EQ(raw.one("SELECT last_heartbeat_ms, silent_down FROM nodes"), "5|1");
}

TEST_F(SqliteStoreTest, AnUnknownNodeStateIsReportedOnRead) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_
                  ->put_nodes({core::Node{NodeId(1), "n1", "H100", 8, 64, 512'000,
                                          core::NodeState::kUp, ""}})
                  .ok());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE nodes SET state = 'sleeping'", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto nodes = store_->nodes();
  ASSERT_FALSE(nodes.ok());
  EXPECT_NE(nodes.status().message().find("node 1 has state 'sleeping'"), std::string::npos)
      << nodes.status().ToString();
}

TEST_F(SqliteStoreTest, PutNodesReplacesTheTable) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  std::vector<core::Node> nodes = {
      core::Node{NodeId(1), "n1", "H100", 8, 64, 512'000, core::NodeState::kUp},
      core::Node{NodeId(2), "n2", "A100", 4, 32, 256'000, core::NodeState::kDrain},
  };
  ASSERT_TRUE(store_->put_nodes(nodes).ok());
  nodes.pop_back();
  nodes[0].state = core::NodeState::kDown;
  ASSERT_TRUE(store_->put_nodes(nodes).ok());
  RawDb raw(path_);
  EXPECT_EQ(raw.rows("SELECT id, name, gpu_model, gpus, cpus, memory_mb, state FROM nodes"),
            std::vector<std::string>{"1|n1|H100|8|64|512000|down"});
}

// ---- WAL: more than one connection ----

TEST_F(SqliteStoreTest, ASecondConnectionReadsWhatTheFirstCommitted) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());

  auto second = open();  // while the first is still open
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->schema_version(), store_->schema_version());
  auto rows = second->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  expect_same_rows(*rows, engine_->snapshot());

  // The first keeps writing; the second sees each new commit.
  ASSERT_TRUE(
      engine_->job_ended(jobs_[2], core::JobEnd{}, kT0 + 40 * kMinute, kT0 + 40 * kMinute).ok());
  commit(kT0 + 40 * kMinute);
  int64_t alive = 0;
  rows = second->load(&alive);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(alive, kT0 + 40 * kMinute);
  expect_same_rows(*rows, engine_->snapshot());
}

}  // namespace
}  // namespace berth::store
