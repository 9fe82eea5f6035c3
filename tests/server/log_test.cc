// berthd's log: every event one line, with its UTC time and level; JSON lines on request.
#include "server/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

namespace berth::server {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override { configure_log(LogFormat::kText); }  // back to stderr before out_ goes
  std::ostringstream out_;
};

TEST_F(LogTest, TextLinesCarryTimeLevelAndMessage) {
  configure_log(LogFormat::kText, &out_);
  log_info("listening on http://127.0.0.1:8765");
  log_warning("job 3 set aside");
  log_critical("FATAL: commit failed");
  const auto lines = lines_of(out_.str());
  ASSERT_EQ(lines.size(), 3u) << out_.str();
  const std::regex time(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )");
  for (const std::string& line : lines) EXPECT_TRUE(std::regex_search(line, time)) << line;
  EXPECT_TRUE(lines[0].ends_with(" info berthd: listening on http://127.0.0.1:8765")) << lines[0];
  EXPECT_TRUE(lines[1].ends_with(" warning berthd: job 3 set aside")) << lines[1];
  EXPECT_TRUE(lines[2].ends_with(" critical berthd: FATAL: commit failed")) << lines[2];
}

TEST_F(LogTest, AnEventNeverSpansTwoLines) {
  configure_log(LogFormat::kText, &out_);
  log_error("output file /tmp/a\nb cannot be opened");
  const auto lines = lines_of(out_.str());
  ASSERT_EQ(lines.size(), 1u) << out_.str();
  EXPECT_NE(lines[0].find(R"(/tmp/a\x0Ab cannot)"), std::string::npos) << lines[0];
}

TEST_F(LogTest, JsonLinesAreOneObjectEach) {
  configure_log(LogFormat::kJson, &out_);
  log_info("admin token written to berth-state/admin.token");
  log_error("a \"quoted\"\nmessage");
  const auto lines = lines_of(out_.str());
  ASSERT_EQ(lines.size(), 2u) << out_.str();
  const auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["message"], "admin token written to berth-state/admin.token");
  EXPECT_TRUE(std::regex_match(first["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  const auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["level"], "error");
  EXPECT_EQ(second["message"], "a \"quoted\"\nmessage");
}

}  // namespace
}  // namespace berth::server
