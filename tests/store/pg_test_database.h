// A fresh database on the test process's PostgreSQL (tests/common/pg_server.h) for one test,
// skipping the test when PostgreSQL is not installed.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/pg_server.h"

namespace berth::store {

class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::PgServer::available()) GTEST_SKIP() << "PostgreSQL 15 is not installed";
    std::string error;
    server_ = testing::PgServer::Shared(&error);
    ASSERT_NE(server_, nullptr) << error;
    url_ = server_->fresh_database();
    ASSERT_FALSE(url_.empty());
    db_ = url_.substr(url_.rfind('/') + 1);
  }

  testing::PgServer* server_ = nullptr;
  std::string url_;
  std::string db_;  // its name, for server_->exec
};

}  // namespace berth::store
