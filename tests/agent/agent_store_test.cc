#include "agent/agent_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace berth::agent {
namespace {

namespace fs = std::filesystem;

class AgentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("berth-agent-store-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<AgentStore> open() {
    auto s = AgentStore::Open((dir_ / "agent.db").string());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  fs::path dir_;
};

TEST_F(AgentStoreTest, TheBookSurvivesARestartAndGoesOnAsBefore) {
  AgentState state;
  {
    auto store = open();
    const LaunchKey a{42, 1, 0, 0}, b{43, 0, 1, 2};
    ASSERT_EQ(state.on_launch(a, 7, true), LaunchDecision::kStart);
    ASSERT_TRUE(store->put(*state.find(a), state.max_epoch()).ok());
    state.started(a, 1'800'000'000'000, 4321);
    ASSERT_TRUE(store->put(*state.find(a), state.max_epoch()).ok());
    state.on_launch(b, 7, false);
    state.started(b, 1'800'000'000'500);
    EndReport end;
    end.exit_code = 0;
    end.signal = 9;
    end.runtime_ms = 1234;
    end.oom = true;
    end.stopped = true;
    end.reason = "out of memory";
    state.ended(b, end);
    ASSERT_TRUE(store->put(*state.find(b), state.max_epoch()).ok());
  }
  auto store = open();
  auto book = store->load();
  ASSERT_TRUE(book.ok()) << book.status().ToString();
  EXPECT_EQ(book->max_epoch, 7u);
  EXPECT_EQ(book->last_end_seq, 1u);
  AgentState again;
  again.restore(book->records, book->max_epoch, book->last_end_seq);
  for (const LaunchRecord* r : state.inventory()) {
    const LaunchRecord* back = again.find(r->key);
    ASSERT_NE(back, nullptr) << to_string(r->key);
    EXPECT_EQ(back->epoch, r->epoch);
    EXPECT_EQ(back->fenceable, r->fenceable);
    EXPECT_EQ(back->running, r->running);
    EXPECT_EQ(back->started_unix_ms, r->started_unix_ms);
    EXPECT_EQ(back->pgid, r->pgid);
    EXPECT_EQ(back->end, r->end);
    EXPECT_EQ(back->end_seq, r->end_seq);
  }
  EXPECT_EQ(again.inventory().size(), 2u);
}

TEST_F(AgentStoreTest, SettledEndsAreDeletedButTheirNumbersAreNeverReused) {
  AgentState state;
  auto store = open();
  for (uint64_t job = 1; job <= 3; ++job) {
    const LaunchKey k{job, 0, 0, 0};
    state.on_launch(k, 1, false);
    state.ended(k, EndReport{});
    ASSERT_TRUE(store->put(*state.find(k), state.max_epoch()).ok());
  }
  ASSERT_TRUE(store->settle(3).ok());
  auto book = store->load();
  ASSERT_TRUE(book.ok());
  EXPECT_TRUE(book->records.empty());
  EXPECT_EQ(book->last_end_seq, 3u);
  AgentState again;
  again.restore(book->records, book->max_epoch, book->last_end_seq);
  const LaunchKey next{4, 0, 0, 0};
  again.on_launch(next, 1, false);
  EXPECT_EQ(again.ended(next, EndReport{}), 4u);
}

TEST_F(AgentStoreTest, AStoreThatCannotBeOpenedNamesItsPath) {
  auto s = AgentStore::Open((dir_ / "missing" / "agent.db").string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("missing/agent.db"), std::string::npos)
      << s.status().message();
}

}  // namespace
}  // namespace berth::agent
