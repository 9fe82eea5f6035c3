// The Store contract (store/store.h), on every backend: each test runs on SQLite and on
// PostgreSQL (Backends/StoreTest.X/sqlite, .../postgresql), with the same story and the same SQL
// an operator's tool would use. The SQLite store's files, WAL and rescue are its own tests'
// (sqlite_store_test.cc); PostgreSQL's migrations, lease and reconnects theirs (pg_*_test.cc).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include "common/pg_server.h"
#include "core/engine.h"
#include "core/reconcile.h"
#include "store/pg_dialect.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "store_fixture.h"

namespace berth::store {
namespace {

namespace fs = std::filesystem;

// SQLite says "CHECK constraint failed", PostgreSQL "violates check constraint".
std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

class StoreTest : public StoreFixture<Store>, public ::testing::WithParamInterface<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgresql"; }

  void SetUp() override {
    if (postgres()) {
      if (!berth::testing::PgServer::available()) GTEST_SKIP() << "PostgreSQL 15 is not installed";
      std::string error;
      server_ = berth::testing::PgServer::Shared(&error);
      ASSERT_NE(server_, nullptr) << error;
      url_ = server_->fresh_database();
      ASSERT_FALSE(url_.empty());
      db_ = url_.substr(url_.rfind('/') + 1);
      return;
    }
    dir_ = std::make_unique<TemporaryDir>();
    ASSERT_TRUE(dir_->ok());
    path_ = (fs::path(dir_->path()) / "berth.db").string();
  }
  void TearDown() override { store_.reset(); }

  std::unique_ptr<Store> open() override {
    Status st;
    std::unique_ptr<Store> s;
    if (postgres()) {
      auto pg = PgStore::Open(url_);
      if (pg.ok()) s = std::move(*pg);
      st = pg.status();
    } else {
      auto lite = SqliteStore::Open(path_);
      if (lite.ok()) s = std::move(*lite);
      st = lite.status();
    }
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }

  void exec(const std::string& sql) override {
    std::string error;
    if (postgres()) {
      EXPECT_TRUE(server_->exec(db_, sql, &error)) << sql << ": " << error;
      return;
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  void exec_schema(const std::string& sql) override { exec(postgres() ? to_postgres(sql) : sql); }
  void exec_all(const std::vector<std::string>& statements) {
    for (const std::string& sql : statements) exec(sql);
  }

  // Every row of the result, columns joined by '|', NULL as "NULL", as an operator's SQL tool
  // would see them, through a connection of its own.
  std::vector<std::string> rows(const std::string& sql) {
    return postgres() ? pg_rows(sql) : sqlite_rows(sql);
  }

  std::vector<std::string> sqlite_rows(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db);
    while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(s); ++c) {
        const unsigned char* text = sqlite3_column_text(s, c);
        row +=
            (c > 0 ? "|" : "") + std::string(text ? reinterpret_cast<const char*>(text) : "NULL");
      }
      out.push_back(row);
    }
    sqlite3_finalize(s);
    sqlite3_close_v2(db);
    return out;
  }

  std::vector<std::string> pg_rows(const std::string& sql) {
    std::vector<std::string> out;
    pg::ConnPtr c(PQconnectdb(
        ("host=127.0.0.1 port=" + std::to_string(server_->port()) + " user=postgres dbname=" + db_)
            .c_str()));
    pg::ResultPtr r(PQexec(c.get(), sql.c_str()));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << sql << ": " << PQerrorMessage(c.get());
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      std::string row;
      for (int col = 0; col < PQnfields(r.get()); ++col) {
        row += (col > 0 ? "|" : "") +
               std::string(PQgetisnull(r.get(), i, col) ? "NULL" : PQgetvalue(r.get(), i, col));
      }
      out.push_back(row);
    }
    return out;
  }

  // The reading side of the tests' SQL, as RawDb is for SQLite's own tests.
  class SqlView {
   public:
    explicit SqlView(StoreTest* test) : test_(test) {}
    std::vector<std::string> rows(const std::string& sql) { return test_->rows(sql); }
    std::string one(const std::string& sql) {
      const auto r = rows(sql);
      EXPECT_EQ(r.size(), 1u) << sql;
      return r.empty() ? "" : r[0];
    }

   private:
    StoreTest* test_;
  };

  berth::testing::PgServer* server_ = nullptr;
  std::string url_, db_;               // PostgreSQL
  std::unique_ptr<TemporaryDir> dir_;  // SQLite
  std::string path_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_P(StoreTest, AFreshDatabaseLoadsEmpty) {
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

TEST_P(StoreTest, RoundTripRestoresTheEngineExactly) {
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

TEST_P(StoreTest, UnknownJobTextsLoadWithDefaultsAndTheirProblem) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  store_.reset();
  exec_all({"UPDATE jobs SET state = 'FROZEN' WHERE id = 3",
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
TEST_P(StoreTest, RestoreSetsAsideJobsItCannotTakeBack) {
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
  exec_all({"UPDATE jobs SET state = 'FROZEN' WHERE id = 3",
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
TEST_P(StoreTest, RestoreSetsAsideARunningJobWhoseGpusAreTakenOrOutOfRange) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  store_.reset();
  exec_all({"UPDATE jobs SET gpu_ids = '0,1,2,3' WHERE id = 2",
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
  exec_all({"UPDATE jobs SET gpu_ids = '4,5,6,8' WHERE id = 3"});
  store_ = open();
  ASSERT_NE(store_, nullptr);
  rows = store_->load(nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  restored = Engine::Restore(small_cluster(), *rows);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->job(jobs_[2])->end_reason,
            "stored row could not be loaded: GPU 8 is not on node n1");
}

TEST_P(StoreTest, ARestoredEngineKeepsCommittingWhereItLeftOff) {
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

TEST_P(StoreTest, TablesReadAsPlainSql) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  ASSERT_TRUE(store_->put_nodes(engine_->cluster().nodes()).ok());

  SqlView raw(this);
  EXPECT_EQ(raw.one("SELECT kind FROM orgs WHERE name = 'hku'"), "university");
  EXPECT_EQ(raw.one("SELECT eligible_kinds_text, shortfall, rate_bps FROM schemes"),
            "university,institute|wait|7000");
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
  EXPECT_EQ(raw.one(postgres() ? "SELECT launch::json->>'script' FROM jobs WHERE id = 1"
                               : "SELECT json_extract(launch, '$.script') FROM jobs WHERE id = 1"),
            "run.sh");
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

TEST_P(StoreTest, SchemeRulesAndApplicationsRoundTripAcrossBatches) {
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
    SqlView raw(this);
    EXPECT_EQ(raw.one("SELECT state, approved_rate_bps, award_id FROM applications WHERE id = 1"),
              "approved|9000|1");
    EXPECT_EQ(raw.one("SELECT COUNT(*) FROM application_events"),
              std::to_string(want.application_events.size()));
    EXPECT_EQ(
        raw.one("SELECT scores FROM application_reviews WHERE application_id = 1 AND position = 0"),
        "95,60");
  }
}

TEST_P(StoreTest, ProgressReportsRoundTripAcrossBatches) {
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
  SqlView raw(this);
  EXPECT_EQ(raw.one("SELECT state, submissions, decided_by FROM progress_reports WHERE award_id = "
                    "1 AND period = 1"),
            "accepted|2|rita");
  EXPECT_EQ(raw.one("SELECT report_every_months, report_grace_days FROM awards WHERE id = 1"),
            "1|2");
  EXPECT_EQ(raw.one("SELECT action, note FROM progress_report_events WHERE seq = 2"),
            "returned|add the numbers");
}

TEST_P(StoreTest, CreditLimitsAndRefundsRoundTrip) {
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
  SqlView raw(this);
  EXPECT_EQ(raw.one("SELECT credit_limit_minor FROM accounts WHERE id = " +
                    std::to_string(p.wallet.value)),
            std::to_string(250 * kUnit));
  EXPECT_EQ(raw.one("SELECT refunded_minor FROM jobs WHERE id = " + std::to_string(jobs_[0].value)),
            std::to_string(done.cost_minor / 2));
}

TEST_P(StoreTest, TheSchemaRefusesARefundAboveTheCost) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());
  ChangeSet bad;
  bad.jobs.push_back(*engine_->job(jobs_[0]));
  bad.jobs.front().refunded_minor = bad.jobs.front().cost_minor + 1;
  const Status st = store_->commit(bad, kT0 + kHour);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(lowercase(st.message()).find("check constraint"), std::string::npos) << st.ToString();
}

TEST_P(StoreTest, RegistrationRecordsAreUpsertedAndSurviveReopening) {
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
  SqlView raw(this);
  EXPECT_EQ(raw.one("SELECT COUNT(*) FROM orgs WHERE name = 'acme'"), "1");
  EXPECT_EQ(
      raw.one("SELECT registration_number || '|' || contact_email || '|' || jurisdiction FROM orgs "
              "WHERE name = 'acme'"),
      "71234567|ops@acme.hk|Hong Kong");
}

TEST_P(StoreTest, TheSchemaRefusesAnOverlongRegistrationField) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ChangeSet bad;
  core::Org o{OrgId(1), "acme", core::OrgKind::kStartup, kT0};
  o.registration.address = std::string(core::kMaxAddressBytes + 1, 'a');
  bad.orgs.push_back(o);
  const Status st = store_->commit(bad, kT0);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(lowercase(st.message()).find("check constraint"), std::string::npos) << st.ToString();
}

TEST_P(StoreTest, TokensRoundTrip) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->put_tokens({{"hash-a", "admin", "admin", 0, kT0}}).ok());
  ASSERT_TRUE(store_->put_tokens({{"hash-b", "bob", "member", 7, kT0 + 1}}).ok());
  ASSERT_TRUE(
      store_->put_tokens({{"hash-a", "admin", "member", 3, kT0 + 2}}).ok());  // replaces the row
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

TEST_P(StoreTest, TokensKeepTheirCreatorExpiryRevocationAndUnixUser) {
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

TEST_P(StoreTest, MigratingTokensMarksTheAdminTokensBerthdMade) {
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

TEST_P(StoreTest, IdempotencyKeysAreCommittedWithTheirJobsAndRestored) {
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
    SqlView raw(this);
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

TEST_P(StoreTest, NodesRoundTripWithTheirDomains) {
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
  SqlView raw(this);
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
TEST_P(StoreTest, ANodeStatePersistsAcrossReopen) {
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
  SqlView raw(this);
  EXPECT_EQ(raw.rows("SELECT name, state, domain FROM nodes ORDER BY id"),
            (std::vector<std::string>{"n1|up|rack-a", "n2|drain|rack-c", "n3|up|"}));
}

// What a node's agent last said and why the node is in its state, written with put_node and
// read back after a reopen; put_nodes keeps them too.
TEST_P(StoreTest, NodesKeepTheirAgentsAndReasons) {
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
    SqlView raw(this);
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
TEST_P(StoreTest, PutNodesReplacesTheTable) {
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
  SqlView raw(this);
  EXPECT_EQ(raw.rows("SELECT id, name, gpu_model, gpus, cpus, memory_mb, state FROM nodes"),
            std::vector<std::string>{"1|n1|H100|8|64|512000|down"});
}

TEST_P(StoreTest, ASecondConnectionReadsWhatTheFirstCommitted) {
  store_ = open();
  ASSERT_NE(store_, nullptr);
  ASSERT_NO_FATAL_FAILURE(run_story());

  auto second = open();  // while the first is still open
  ASSERT_NE(second, nullptr);
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
