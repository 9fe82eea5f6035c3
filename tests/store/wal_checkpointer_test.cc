// The WAL is checkpointed on the checkpointer's thread, not in the writer's commits, and still
// stays bounded: every committed row is in the database file once the writer closes.
#include "store/wal_checkpointer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace berth::store {
namespace {

namespace fs = std::filesystem;

class WalCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-wal-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/t.db";
    sqlite3* raw = nullptr;
    ASSERT_EQ(
        sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
        SQLITE_OK);
    db_.reset(raw);
    ASSERT_TRUE(sqlite::Exec(raw, "PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT)").ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  // One row of about a page per commit.
  void commit_rows(int n) {
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(sqlite::Exec(db_.get(), "INSERT INTO t VALUES (printf('%.4000c', 'x'))").ok());
  }
  // The checkpointer runs on its own thread: wait (boundedly) until it has done `n` checkpoints.
  static bool wait_for(const WalCheckpointer& c, int64_t n) {
    for (int i = 0; i < 2000 && c.checkpoints() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return c.checkpoints() >= n;
  }
  int64_t wal_bytes() const { return static_cast<int64_t>(fs::file_size(path_ + "-wal")); }

  std::string dir_, path_;
  sqlite::DbPtr db_;
};

TEST_F(WalCheckpointerTest, NothingHappensBelowTheThreshold) {
  auto c = WalCheckpointer::Start(db_.get(), path_, 200);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  commit_rows(20);  // two or three pages each
  // The writer's commits no longer checkpoint (the hook replaced SQLite's automatic one), and the
  // checkpointer was not asked to: the WAL holds every page written.
  EXPECT_EQ((*c)->checkpoints(), 0);
  EXPECT_GE(wal_bytes(), 40 * 4096);
}

TEST_F(WalCheckpointerTest, CheckpointsPastTheThresholdAndTheWalIsReused) {
  auto c = WalCheckpointer::Start(db_.get(), path_, 50);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  commit_rows(60);
  ASSERT_TRUE(wait_for(**c, 1));
  // After each pass the writer copies the tail and the WAL starts over: however many commits,
  // it never holds much more than the threshold and what one pass let through.
  for (int round = 0; round < 10; ++round) {
    commit_rows(60);
    ASSERT_TRUE(wait_for(**c, round + 2));
  }
  EXPECT_GE((*c)->tails(), 1);
  EXPECT_LT(wal_bytes(), 400 * 4200);
  c->reset();  // stops the thread; the writer gets SQLite's automatic checkpoint back
  commit_rows(1);
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite::DbPtr reader(raw);
  auto count = sqlite::Stmt::Prepare(raw, "SELECT count(*) FROM t", false);
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->step());
  EXPECT_EQ(count->col_i64(), 60 * 11 + 1);
}

}  // namespace
}  // namespace berth::store
