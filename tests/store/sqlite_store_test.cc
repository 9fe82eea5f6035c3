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
#include "store_fixture.h"

namespace berth::store {
namespace {

namespace fs = std::filesystem;

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

// ---- the fixture ----

class SqliteStoreTest : public StoreFixture<SqliteStore> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(temporary_.ok());
    dir_ = temporary_.path();
    path_ = (fs::path(dir_) / "berth.db").string();
  }
  void TearDown() override { store_.reset(); }

  std::unique_ptr<SqliteStore> open() override {
    auto s = SqliteStore::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  void exec(const std::string& sql) override {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  TemporaryDir temporary_;
  std::string dir_;
  std::string path_;
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

}  // namespace
}  // namespace berth::store
