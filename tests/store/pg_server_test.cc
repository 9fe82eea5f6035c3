// The test harness's PostgreSQL (tests/common/pg_server.h): it starts, hands out empty
// databases, and restarts on the same port while clients reconnect.
#include "common/pg_server.h"

#include <gtest/gtest.h>

namespace berth::testing {
namespace {

#define REQUIRE_POSTGRES()                                                      \
  if (!PgServer::available()) GTEST_SKIP() << "PostgreSQL 15 is not installed"; \
  do {                                                                          \
  } while (0)

TEST(PgServerTest, HandsOutEmptyDatabasesOfTheirOwn) {
  REQUIRE_POSTGRES();
  std::string error;
  PgServer* server = PgServer::Shared(&error);
  ASSERT_NE(server, nullptr) << error;
  const std::string a = server->fresh_database();
  const std::string b = server->fresh_database();
  ASSERT_FALSE(a.empty());
  ASSERT_NE(a, b);
  const std::string db_a = a.substr(a.rfind('/') + 1);
  const std::string db_b = b.substr(b.rfind('/') + 1);
  ASSERT_TRUE(server->exec(db_a, "CREATE TABLE t (x INT)", &error)) << error;
  EXPECT_TRUE(server->exec(db_b, "CREATE TABLE t (x INT)", &error)) << error;  // not in a's way
}

TEST(PgServerTest, RestartsOnTheSamePortKeepingWhatWasCommitted) {
  REQUIRE_POSTGRES();
  PgServer server;
  ASSERT_EQ(server.start(), "");
  const std::string url = server.fresh_database();
  const std::string db = url.substr(url.rfind('/') + 1);
  std::string error;
  ASSERT_TRUE(server.exec(db, "CREATE TABLE t (x INT); INSERT INTO t VALUES (7)", &error)) << error;
  const int port = server.port();
  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_FALSE(server.exec(db, "SELECT 1"));  // nobody listens
  ASSERT_EQ(server.start(), "");
  EXPECT_EQ(server.port(), port);
  EXPECT_TRUE(server.exec(db, "SELECT x FROM t WHERE x = 7", &error)) << error;
}

}  // namespace
}  // namespace berth::testing
