// The store's migrations on PostgreSQL: from an empty database and from each earlier schema
// version, every table as described (store/pg_store.h).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "common/pg_server.h"
#include "store/pg_dialect.h"
#include "store/pg_store.h"
#include "store/schema.h"

namespace berth::store {
namespace {

using testing::PgServer;

class PgMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PgServer::available()) GTEST_SKIP() << "PostgreSQL 15 is not installed";
    std::string error;
    server_ = PgServer::Shared(&error);
    ASSERT_NE(server_, nullptr) << error;
    url_ = server_->fresh_database();
    ASSERT_FALSE(url_.empty());
    db_ = url_.substr(url_.rfind('/') + 1);
  }

  // Applies the migrations up to `version` as a berth of that version would have.
  void write_old_schema(int version) {
    std::string error;
    ASSERT_TRUE(server_->exec(db_, to_postgres(kSchemaVersionTable), &error)) << error;
    for (const Migration& m : migrations()) {
      if (m.version > version) break;
      ASSERT_TRUE(server_->exec(db_, to_postgres(m.sql), &error)) << m.version << ": " << error;
      ASSERT_TRUE(server_->exec(db_,
                                "INSERT INTO schema_version (version, description) VALUES (" +
                                    std::to_string(m.version) + ", 'old')",
                                &error))
          << error;
    }
  }

  PgServer* server_ = nullptr;
  std::string url_, db_;
};

TEST_F(PgMigrationTest, AnEmptyDatabaseGetsEveryMigration) {
  auto store = PgStore::Open(url_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->schema_version(), migrations().back().version);
  // The lease's one row, never held.
  EXPECT_TRUE(server_->exec(db_, "SELECT 1/count(*) FROM leader WHERE id = 1 AND epoch = 0"));
}

TEST_F(PgMigrationTest, ReopeningAppliesNothingTwice) {
  ASSERT_TRUE(PgStore::Open(url_).ok());
  auto again = PgStore::Open(url_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(server_->exec(
      db_, "SELECT 1/(CASE WHEN count(*) = max(version) THEN 1 ELSE 0 END) FROM schema_version"));
}

TEST_F(PgMigrationTest, EveryEarlierSchemaVersionMigrates) {
  const int latest = migrations().back().version;
  for (int version = 1; version < latest; ++version) {
    SCOPED_TRACE("from schema version " + std::to_string(version));
    url_ = server_->fresh_database();
    db_ = url_.substr(url_.rfind('/') + 1);
    write_old_schema(version);
    auto store = PgStore::Open(url_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->schema_version(), latest);
  }
}

TEST_F(PgMigrationTest, BerthdsOpeningAnEmptyDatabaseAtOnceApplyEachMigrationOnce) {
  std::vector<Status> opened(4);
  std::vector<std::thread> berthds;
  for (size_t i = 0; i < opened.size(); ++i)
    berthds.emplace_back([&, i] { opened[i] = PgStore::Open(url_).status(); });
  for (auto& t : berthds) t.join();
  for (const Status& st : opened) EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(server_->exec(
      db_, "SELECT 1/(CASE WHEN count(*) = " + std::to_string(migrations().back().version) +
               " THEN 1 ELSE 0 END) FROM schema_version"));
}

TEST_F(PgMigrationTest, ATableThatDriftedFromItsDescriptionIsRefused) {
  ASSERT_TRUE(PgStore::Open(url_).ok());
  ASSERT_TRUE(server_->exec(db_, "ALTER TABLE jobs ADD COLUMN surprise BIGINT"));
  auto store = PgStore::Open(url_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("columns berth does not know: surprise"),
            std::string::npos)
      << store.status().ToString();
}

TEST_F(PgMigrationTest, ADatabaseFromANewerBerthIsRefused) {
  ASSERT_TRUE(PgStore::Open(url_).ok());
  ASSERT_TRUE(
      server_->exec(db_, "INSERT INTO schema_version (version, description) VALUES (999, 'x')"));
  auto store = PgStore::Open(url_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("newer than this berth knows"), std::string::npos);
}

}  // namespace
}  // namespace berth::store
