// The daemon over the seams it is given (DaemonSeams): the store, the clock and the executor
// are the ones it uses, and the time it records is its clock's.
#include "server/daemon.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "server/core_loop_fakes.h"
#include "store/sqlite_store.h"

namespace berth::server {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;

TEST(DaemonSeamsTest, TheDaemonRunsOnTheStoreClockAndExecutorItIsGiven) {
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  auto config = parse_config(default_config_toml(), "(embedded default)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  config->state_dir = scratch.path();
  config->agents.local = false;  // berthd runs the jobs itself, on the executor it is given
  auto sqlite = store::SqliteStore::Open(scratch.path() + "/berth.db");
  ASSERT_TRUE(sqlite.ok()) << sqlite.status().ToString();
  auto faulty = std::make_unique<FaultyStore>(std::move(*sqlite));
  FaultyStore* given_store = faulty.get();
  FakeExecutor* given_executor = nullptr;
  DaemonSeams seams;
  seams.store = std::move(faulty);
  seams.clock = std::make_unique<ManualClock>(kT0);
  seams.make_executor = [&](executor::ExitCallback report) {
    auto fake = std::make_unique<FakeExecutor>(std::move(report));
    given_executor = fake.get();
    return fake;
  };

  auto daemon = Daemon::Open(*config, std::move(seams));
  ASSERT_TRUE(daemon.ok()) << daemon.status().ToString();
  EXPECT_EQ(&(*daemon)->store(), given_store);
  EXPECT_NE(given_executor, nullptr);
  // The first admin token, made at the clock's time, is in the given store and in admin.token.
  auto rows = given_store->tokens();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].created_ms, kT0);
  EXPECT_EQ((*rows)[0].created_by, kBerthdCreator);
  EXPECT_TRUE(std::filesystem::exists((*daemon)->admin_token_path()));
  int64_t last_alive_ms = 0;
  ASSERT_TRUE(given_store->load(&last_alive_ms).ok());
  EXPECT_EQ(last_alive_ms, kT0);
}

}  // namespace
}  // namespace berth::server
