// A handler that throws is a bug in berthd: a 500 with an error id, which the log line carries.
#include "server/internal_error.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <stdexcept>

#include "server/log.h"

namespace berth::server {
namespace {

class InternalErrorTest : public ::testing::Test {
 protected:
  void SetUp() override { configure_log(LogFormat::kText, &log_); }
  void TearDown() override { configure_log(LogFormat::kText); }  // back to stderr before log_ goes
  std::ostringstream log_;
};

TEST_F(InternalErrorTest, AReplyPassesThroughUnchanged) {
  const Reply r = guarded([] { return Reply{201, {{"id", 7}}}; }, "POST /v1/orgs");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, (nlohmann::json{{"id", 7}}));
  EXPECT_TRUE(log_.str().empty()) << log_.str();
}

TEST_F(InternalErrorTest, AnExceptionIsA500WithAnIdThatTheLogCarries) {
  const Reply r =
      guarded([]() -> Reply { throw std::out_of_range("vector index 9"); }, "GET /v1/jobs");
  EXPECT_EQ(r.status, 500);
  ASSERT_TRUE(r.body.contains("error")) << r.body.dump();
  const nlohmann::json& error = r.body["error"];
  EXPECT_EQ(error.value("code", ""), "internal");
  const std::string id = error.value("id", "");
  EXPECT_TRUE(std::regex_match(id, std::regex("err-[0-9a-f]{16}"))) << id;
  EXPECT_NE(error.value("message", "").find(id), std::string::npos) << error.dump();
  // The caller is not told the internal detail; the log is, under the same id.
  EXPECT_EQ(r.body.dump().find("vector index"), std::string::npos) << r.body.dump();
  const std::string line = log_.str();
  EXPECT_NE(line.find(" error berthd: "), std::string::npos) << line;
  EXPECT_NE(line.find(id), std::string::npos) << line;
  EXPECT_NE(line.find("GET /v1/jobs"), std::string::npos) << line;
  EXPECT_NE(line.find("vector index 9"), std::string::npos) << line;
}

TEST_F(InternalErrorTest, AnythingThrownIsCaughtAndEachBugHasItsOwnId) {
  const Reply first = guarded([]() -> Reply { throw 42; }, "POST /v1/jobs");
  const Reply second = guarded([]() -> Reply { throw std::logic_error("x"); }, "POST /v1/jobs");
  EXPECT_EQ(first.status, 500);
  EXPECT_EQ(second.status, 500);
  EXPECT_NE(first.body["error"].value("id", ""), second.body["error"].value("id", ""));
}

}  // namespace
}  // namespace berth::server
