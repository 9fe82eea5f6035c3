// Job scripts kept in PostgreSQL (store/pg_script_store.h), readable by every berthd.
#include "store/pg_script_store.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "pg_test_database.h"
#include "store/pg_store.h"

namespace berth::store {
namespace {

class PgScriptStoreTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(PgStore::Open(url_).ok());
    auto scripts = PgScriptStore::Open(url_);
    ASSERT_TRUE(scripts.ok()) << scripts.status().ToString();
    scripts_ = std::move(*scripts);
  }
  std::unique_ptr<PgScriptStore> scripts_;
};

TEST_F(PgScriptStoreTest, AScriptPutIsReadByAnotherBerthd) {
  const std::string text = "#!/bin/sh\necho 'hello' \"$USER\"\n\ttab\n";
  ASSERT_TRUE(scripts_->put("abc123", text).ok());
  auto other = PgScriptStore::Open(url_);
  ASSERT_TRUE(other.ok());
  auto got = (*other)->get("abc123");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, text);
}

TEST_F(PgScriptStoreTest, PuttingTheSameScriptAgainIsOk) {
  ASSERT_TRUE(scripts_->put("abc123", "one").ok());
  ASSERT_TRUE(scripts_->put("abc123", "one").ok());
  EXPECT_EQ(*scripts_->get("abc123"), "one");
}

TEST_F(PgScriptStoreTest, AMissingScriptIsNotFound) {
  auto got = scripts_->get("nope");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kNotFound);
}

TEST_F(PgScriptStoreTest, ThreadsShareOneStore) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const std::string key = std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(scripts_->put(key, "script " + key).ok());
        EXPECT_EQ(*scripts_->get(key), "script " + key);
      }
    });
  }
  for (auto& t : threads) t.join();
}

TEST_F(PgScriptStoreTest, ItReconnectsAfterTheDatabaseRestarted) {
  ASSERT_TRUE(scripts_->put("abc", "kept").ok());
  ASSERT_EQ(server_->restart(), "");
  auto first = scripts_->get("abc");  // may fail once: its connection was broken
  if (!first.ok()) {
    EXPECT_EQ(first.status().code(), Code::kUnavailable);
  }
  auto got = scripts_->get("abc");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "kept");
}

}  // namespace
}  // namespace berth::store
