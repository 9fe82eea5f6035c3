// The PostgreSQL store when its database goes away (store/pg_store.h, "Reconnects"): a write
// waits for it within retry_ms, fails kUnavailable after, and a COMMIT whose outcome was lost
// with the connection is settled by the batch number, never written twice.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <thread>

#include "common/pg_server.h"
#include "core/engine.h"
#include "store/pg_store.h"
#include "store_fixture.h"

namespace berth::store {
namespace {

class PgReconnectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!berth::testing::PgServer::available()) GTEST_SKIP() << "PostgreSQL 15 is not installed";
    ASSERT_EQ(server_.start(), "");
    url_ = server_.fresh_database();
    ASSERT_FALSE(url_.empty());
    auto e = core::Engine::Create(small_cluster(), kT0);
    ASSERT_TRUE(e.ok());
    engine_ = std::move(*e);
  }

  std::unique_ptr<PgStore> open(PgOptions options) {
    auto s = PgStore::Open(url_, std::move(options));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // A batch that cannot be written twice: a project is inserted, never upserted.
  core::ChangeSet new_project(const std::string& name) {
    auto org = engine_->create_org(name + "-org", core::OrgKind::kUniversity, kT0);
    EXPECT_TRUE(org.ok());
    EXPECT_TRUE(engine_->create_project(org->id, name, kT0).ok());
    return engine_->drain_changes();
  }

  size_t stored_projects(PgStore& store) {
    auto rows = store.load(nullptr);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->projects.size() : 0;
  }

  berth::testing::PgServer server_;
  std::string url_;
  std::unique_ptr<core::Engine> engine_;
};

TEST_F(PgReconnectTest, ACommitWhileTheDatabaseIsAwayWaitsForIt) {
  auto store = open({});
  ASSERT_NE(store, nullptr);
  const core::ChangeSet batch = new_project("vision");
  server_.stop();
  Status committed;
  std::thread writer([&] { committed = store->commit(batch, kT0); });
  ASSERT_EQ(server_.start(), "");
  writer.join();
  ASSERT_TRUE(committed.ok()) << committed.ToString();
  EXPECT_EQ(stored_projects(*store), 1u);
}

TEST_F(PgReconnectTest, ACommitFailsUnavailableWhenTheDatabaseStaysAwayPastRetry) {
  auto store = open({.retry_ms = 200});
  ASSERT_NE(store, nullptr);
  const core::ChangeSet batch = new_project("vision");
  server_.stop();
  const Status st = store->commit(batch, kT0);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("out of reach for 200 ms"), std::string::npos) << st.ToString();
  ASSERT_EQ(server_.start(), "");
  EXPECT_EQ(stored_projects(*store), 0u);  // nothing acknowledged, nothing written
}

TEST_F(PgReconnectTest, ACommitWhoseOutcomeWasLostIsSettledNotWrittenTwice) {
  int cut = 0;
  PgOptions options;
  // The connection breaks right after COMMIT went out: the store cannot know whether it
  // committed until it asks again.
  options.after_commit_sent = [&](int socket) {
    if (cut++ == 0) ::shutdown(socket, SHUT_RDWR);
  };
  auto store = open(std::move(options));
  ASSERT_NE(store, nullptr);
  const Status st = store->commit(new_project("vision"), kT0);
  ASSERT_TRUE(st.ok()) << st.ToString();  // a second INSERT of the project would have failed
  EXPECT_GE(cut, 1);
  EXPECT_EQ(stored_projects(*store), 1u);
  ASSERT_TRUE(store->commit(new_project("speech"), kT0 + 1).ok());
  EXPECT_EQ(stored_projects(*store), 2u);
}

TEST_F(PgReconnectTest, ReadsReconnectAfterARestart) {
  auto store = open({});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->commit(new_project("vision"), kT0).ok());
  ASSERT_EQ(server_.restart(), "");
  EXPECT_EQ(stored_projects(*store), 1u);
  ASSERT_TRUE(store->put_nodes(small_cluster().nodes).ok());
  auto nodes = store->nodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  EXPECT_EQ(nodes->size(), 1u);
}

}  // namespace
}  // namespace berth::store
