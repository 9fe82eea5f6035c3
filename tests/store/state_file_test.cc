// The database file under the store: a file deleted, replaced or truncated while open fails the
// next write; a damaged file is refused at Open; the state identity and the state directory's
// marker (OpenStateStore); and the online backup.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/engine.h"
#include "store/sqlite_store.h"
#include "store/state_dir.h"

namespace berth::store {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'800'000'000'000;  // a fixed virtual "now"

core::ClusterConfig one_node() {
  core::ClusterConfig c;
  c.nodes = {core::Node{NodeId(), "n1", "H100", 8, 64, 512'000, core::NodeState::kUp}};
  c.prices = {{"H100", 30 * kMinorPerUnit}};
  c.partitions = {core::Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth_state_file_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = StateDbPath(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<SqliteStore> open(const std::string& path) {
    auto s = SqliteStore::Open(path);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // A store with an engine's first rows and `orgs` organisations committed, one batch each.
  std::unique_ptr<SqliteStore> open_with_orgs(const std::string& path, int orgs) {
    auto store = open(path);
    if (!store) return nullptr;
    auto engine = core::Engine::Create(one_node(), kT0);
    EXPECT_TRUE(engine.ok());
    EXPECT_TRUE(store->commit((*engine)->drain_changes(), kT0).ok());
    for (int i = 0; i < orgs; ++i) {
      EXPECT_TRUE((*engine)
                      ->create_org("org" + std::to_string(i), core::OrgKind::kUniversity, kT0 + i)
                      .ok());
      const Status st = store->commit((*engine)->drain_changes(), kT0 + i);
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    return store;
  }

  static size_t org_count(SqliteStore& store) {
    auto rows = store.load(nullptr);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->orgs.size() : 0;
  }

  std::string dir_, path_;
};

// ---- the file watched while open ----

TEST_F(StateFileTest, ACommitAfterTheFileIsDeletedFails) {
  auto store = open_with_orgs(path_, 1);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->check_file().ok());
  ASSERT_EQ(::unlink(path_.c_str()), 0);

  const Status st = store->commit(core::ChangeSet{}, kT0 + 1000);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("is gone"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("backup"), std::string::npos) << st.ToString();
  EXPECT_FALSE(store->touch_alive(kT0 + 2000).ok());
}

TEST_F(StateFileTest, ADeletedFileIsRescuedAsLastCommitted) {
  auto store = open_with_orgs(path_, 2);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->rescue().status().code(), Code::kConflict);  // nothing happened to the file
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);  // rm berth.db*
  ASSERT_FALSE(store->commit(core::ChangeSet{}, kT0 + 1000).ok());

  auto saved = store->rescue();
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(*saved, path_ + ".rescued");
  auto second = store->rescue();  // never over an earlier rescue
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, path_ + ".rescued-2");
  store.reset();
  auto restored = open(*saved);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(org_count(*restored), 2u);
}

TEST_F(StateFileTest, ACommitAfterTheFileIsTruncatedFails) {
  auto store = open_with_orgs(path_, 1);
  ASSERT_NE(store, nullptr);
  ASSERT_GT(fs::file_size(path_), 0u);
  ASSERT_EQ(::truncate(path_.c_str(), 0), 0);

  const Status st = store->commit(core::ChangeSet{}, kT0 + 1000);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.ToString();
  EXPECT_EQ(store->rescue().status().code(), Code::kConflict);  // what it held is lost
}

TEST_F(StateFileTest, ACommitAfterTheFileIsReplacedFails) {
  auto store = open_with_orgs(path_, 1);
  ASSERT_NE(store, nullptr);
  const std::string other = dir_ + "/other.db";
  { auto second = open_with_orgs(other, 2); }
  ASSERT_EQ(::rename(other.c_str(), path_.c_str()), 0);

  const Status st = store->commit(core::ChangeSet{}, kT0 + 1000);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("replaced by another file"), std::string::npos) << st.ToString();
}

TEST_F(StateFileTest, AFileThatGrowsStaysGood) {
  auto store = open_with_orgs(path_, 200);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->check_file().ok());
  store.reset();  // the last connection checkpoints the WAL into the file
  store = open(path_);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->commit(core::ChangeSet{}, kT0 + 1000).ok());
  EXPECT_EQ(org_count(*store), 200u);
}

// ---- damaged files refused at Open ----

TEST_F(StateFileTest, GarbageIsRefusedAtOpen) {
  std::string garbage(64 * 1024, '\0');
  for (size_t i = 0; i < garbage.size(); ++i)
    garbage[i] = static_cast<char>((i * 7919 + 13) & 0xff);
  write_all(path_, garbage);
  auto s = SqliteStore::Open(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("is damaged or is not a berth database"), std::string::npos)
      << s.status().ToString();
  EXPECT_NE(s.status().message().find("backup"), std::string::npos) << s.status().ToString();
}

TEST_F(StateFileTest, ADamagedPageIsFoundByQuickCheckAtOpen) {
  { ASSERT_NE(open_with_orgs(path_, 300), nullptr); }  // closed: every page is in the main file
  int64_t root = 0;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE name = 'orgs'", -1,
                                 &s, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    root = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close_v2(db);
  }
  std::string bytes = read_all(path_);
  const size_t page = 4096;
  ASSERT_GE(bytes.size(), static_cast<size_t>(root) * page);
  // The schema stays readable; the orgs table's root page, past its header, is overwritten.
  for (size_t i = (root - 1) * page + 12; i < static_cast<size_t>(root) * page; ++i)
    bytes[i] = static_cast<char>(0xA5);
  write_all(path_, bytes);

  auto s = SqliteStore::Open(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("is damaged or is not a berth database (quick_check: "),
            std::string::npos)
      << s.status().ToString();
}

// ---- the state identity ----

TEST_F(StateFileTest, TheIdentityIsZeroUntilSetAndOutlivesReopening) {
  auto store = open_with_orgs(path_, 1);
  ASSERT_NE(store, nullptr);
  auto id = store->identity();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, 0);
  EXPECT_FALSE(store->set_identity(0).ok());
  ASSERT_TRUE(store->set_identity(4242).ok());
  store.reset();
  store = open(path_);
  ASSERT_NE(store, nullptr);
  id = store->identity();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 4242);
  EXPECT_EQ(org_count(*store), 1u);  // load reads past the identity's meta row
}

TEST_F(StateFileTest, AFreshStateDirGetsAMarkerMatchingItsDatabase) {
  auto store = OpenStateStore(dir_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto id = (*store)->identity();
  ASSERT_TRUE(id.ok());
  EXPECT_NE(*id, 0);
  EXPECT_EQ(read_all(StateMarkerPath(dir_)), std::to_string(*id) + "\n");
  store->reset();
  auto again = OpenStateStore(dir_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*(*again)->identity(), *id);
}

TEST_F(StateFileTest, AMissingDatabaseWhereTheMarkerIsIsRefusedAndNotCreated) {
  ASSERT_TRUE(OpenStateStore(dir_).ok());
  ASSERT_TRUE(fs::remove(path_));
  fs::remove(path_ + "-wal");
  fs::remove(path_ + "-shm");
  auto store = OpenStateStore(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("is missing"), std::string::npos)
      << store.status().ToString();
  EXPECT_NE(store.status().message().find("backup"), std::string::npos)
      << store.status().ToString();
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(StateFileTest, AnEmptyDatabaseWhereTheMarkerIsIsRefused) {
  ASSERT_TRUE(OpenStateStore(dir_).ok());
  fs::remove(path_ + "-wal");
  fs::remove(path_ + "-shm");
  write_all(path_, "");
  auto store = OpenStateStore(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("is empty"), std::string::npos)
      << store.status().ToString();
}

TEST_F(StateFileTest, ADatabaseOfAnotherIdentityOrNoneIsRefused) {
  ASSERT_TRUE(OpenStateStore(dir_).ok());
  const std::string marker = read_all(StateMarkerPath(dir_));
  write_all(StateMarkerPath(dir_), "17\n");  // as if the database came from another directory
  auto store = OpenStateStore(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("not 17"), std::string::npos)
      << store.status().ToString();

  fs::remove(path_);
  fs::remove(path_ + "-wal");
  fs::remove(path_ + "-shm");
  { ASSERT_NE(open_with_orgs(path_, 1), nullptr); }  // a new database, with no identity
  write_all(StateMarkerPath(dir_), marker);
  store = OpenStateStore(dir_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("holds no state identity"), std::string::npos)
      << store.status().ToString();
}

TEST_F(StateFileTest, ADatabaseWithoutAMarkerGivesItsIdentityToANewOne) {
  { ASSERT_NE(open_with_orgs(path_, 1), nullptr); }  // as a berth older than markers left it
  auto store = OpenStateStore(dir_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const int64_t id = *(*store)->identity();
  ASSERT_NE(id, 0);
  EXPECT_EQ(org_count(**store), 1u);
  store->reset();
  ASSERT_TRUE(fs::remove(StateMarkerPath(dir_)));  // the marker lost: made again from the database
  store = OpenStateStore(dir_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(read_all(StateMarkerPath(dir_)), std::to_string(id) + "\n");
}

// ---- online backup ----

TEST_F(StateFileTest, ABackupIsASelfContainedSnapshotTakenWhileAWriterHoldsALock) {
  auto store = open_with_orgs(path_, 3);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->set_identity(99).ok());

  // Another writer holds the write lock with a change not yet committed: the backup neither
  // waits for it nor copies it.
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &writer, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN IMMEDIATE; DELETE FROM orgs;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  const std::string copy = dir_ + "/copy.db";
  const Status st = SqliteStore::Backup(path_, copy);
  sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close_v2(writer);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(fs::exists(copy + "-wal"));

  EXPECT_EQ(SqliteStore::Backup(path_, copy).code(), Code::kConflict);  // never over a file
  auto restored = open(copy);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(org_count(*restored), 3u);
  EXPECT_EQ(*restored->identity(), 99);
  // The original goes on committing after the backup.
  EXPECT_TRUE(store->commit(core::ChangeSet{}, kT0 + 5000).ok());
}

TEST_F(StateFileTest, ABackupOfAMissingDatabaseFailsAndLeavesNoFile) {
  const std::string copy = dir_ + "/copy.db";
  const Status st = SqliteStore::Backup(dir_ + "/none.db", copy);
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(fs::exists(copy));
}

}  // namespace
}  // namespace berth::store
