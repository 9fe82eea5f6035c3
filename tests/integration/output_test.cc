// What people read, from a real berthd: a statement a funder could be sent, money in the
// centre's currency, transfers by account name, node changes in the audit record, and a log of
// JSON lines with times and levels.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "harness.h"

namespace berth::testing {
namespace {

// The sample centre of scripts/statement-screenshot.sh, logging JSON lines.
class OutputTest : public DaemonTest {
 protected:
  std::string config() override {
    const std::string centre =
        read_file(std::string(BERTH_SOURCE_DIR) + "/scripts/statement-demo.toml");
    return centre + "\n[log]\nformat = \"json\"\n";
  }
  // A funded project with a job that ran and was refunded in full; returns the job's id.
  uint64_t job_charged_and_refunded() {
    must("org create hku --kind university");
    must("project create vision --org hku");
    must("scheme create ai-subsidy --rate 70% --fund 3000000 --eligible university");
    must(
        "award create --scheme ai-subsidy --project vision --amount 200000 --gpus 8 --start "
        "2020-01-01 --end 2100-01-01");
    must("topup vision 250000 --reference INV-42");
    const json body = {{"project", "vision"}, {"name", "pretrain"},
                       {"gpus", 8},           {"time_limit_s", 60},
                       {"workdir", work},     {"script", "#!/bin/sh\nsleep 0.5\n"}};
    auto [status, j] = daemon->api("POST", "/v1/jobs", body.dump());
    EXPECT_EQ(status, 201) << j.dump();
    const uint64_t id = j.value("id", uint64_t{0});
    EXPECT_TRUE(eventually([&] { return job(id).value("state", "") == "COMPLETED"; }))
        << job(id).dump();
    must("refund " + std::to_string(id) + " --reason 'node fault'");
    return id;
  }
  std::string statement_page(uint64_t id) {
    const std::string month = job(id)["end_time"].get<std::string>().substr(0, 7);
    const CliResult page = cli("statement vision --html --month " + month);
    EXPECT_EQ(page.exit_code, 0) << page.out;
    return page.out;
  }
};

TEST_F(OutputTest, AStatementAFunderCouldBeSent) {
  const uint64_t id = job_charged_and_refunded();
  const std::string month = job(id)["end_time"].get<std::string>().substr(0, 7);
  const std::string page = statement_page(id);
  EXPECT_NE(page.find("<h1>Harbour AI Supercomputing Centre</h1>"), std::string::npos) << page;
  EXPECT_NE(page.find("Unit 501, Cyberport 3<br>100 Cyberport Road<br>Hong Kong"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("ST-0001-" + month), std::string::npos) << page;
  EXPECT_NE(page.find("HK$ 250,000.00"), std::string::npos) << page;  // the top-up, in the summary
  EXPECT_NE(page.find("1 (ai-subsidy)"), std::string::npos) << page;  // the award on the job's line
  EXPECT_NE(page.find("refund of job " + std::to_string(id) + ": node fault"), std::string::npos)
      << page;
  EXPECT_NE(page.find("white-space:nowrap"), std::string::npos);
  // No internal transfer ids (they run to 19 digits), nor any other long number.
  EXPECT_FALSE(std::regex_search(page, std::regex("[0-9]{12,}"))) << page;
  // The closing row is dated the month's last day, not the first of the next.
  const json st = daemon->api("GET", "/v1/projects/vision/statement?month=" + month).second;
  EXPECT_EQ(st["number"], "ST-0001-" + month);
  const std::string to = st["to"];
  const size_t closing = page.find("<tr class=\"total\">");
  ASSERT_NE(closing, std::string::npos);
  EXPECT_EQ(page.find(to.substr(0, 10), closing), std::string::npos) << page.substr(closing);
  EXPECT_NE(page.find("<td class=\"d\">" + month + "-", closing), std::string::npos)
      << page.substr(closing);
  // JSON keeps the exact figures and names the refund's job and reason.
  ASSERT_EQ(st["other"].size(), 1u) << st.dump();
  EXPECT_EQ(st["other"][0]["job_id"], id);
  EXPECT_EQ(st["other"][0]["reason"], "node fault");
  EXPECT_EQ(st["topups"][0]["amount"], "250000.0000");
  // The CLI's statement says the same in the centre's currency.
  const CliResult text = cli("statement vision --month " + month);
  EXPECT_NE(text.out.find("Statement ST-0001-" + month + " of vision (hku)"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("HK$ 250,000.00"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("refund of job " + std::to_string(id) + ": node fault"),
            std::string::npos)
      << text.out;
}

TEST_F(OutputTest, TransfersNameTheirAccountsAndSayWhatBecameOfThem) {
  const uint64_t id = job_charged_and_refunded();
  const CliResult t = cli("transfers --job " + std::to_string(id));
  ASSERT_EQ(t.exit_code, 0) << t.out;
  EXPECT_NE(t.out.find("wallet of vision"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("award 1 of vision"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("centre revenue"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("settled"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("settles "), std::string::npos) << t.out;
  EXPECT_EQ(t.out.find("pending"), std::string::npos)
      << t.out;  // every hold of an ended job is settled
  EXPECT_EQ(t.out.find("FLAGS"), std::string::npos) << t.out;
  const json raw = json::parse(cli("--json transfers --job " + std::to_string(id)).out);
  EXPECT_EQ(raw["transfers"][0]["debit_name"], "award 1 of vision") << raw.dump();
}

TEST_F(OutputTest, NodeDrainAndResumeAreAudited) {
  const CliResult drained = cli("node drain local");
  EXPECT_EQ(drained.out, "Node local is drained\n");
  EXPECT_EQ(cli("node resume local").out, "Node local is up\n");
  const json audit = daemon->api("GET", "/v1/audit").second;
  std::vector<std::string> actions;
  for (const json& r : audit["audit"])
    if (r["subject"] == "node local")
      actions.push_back(r["action"].get<std::string>() + " by " + r["user"].get<std::string>());
  EXPECT_EQ(actions, (std::vector<std::string>{"node.drain by admin", "node.resume by admin"}))
      << audit.dump();
  const CliResult table = cli("audit");
  EXPECT_NE(table.out.find("node.drain"), std::string::npos) << table.out;
  // A restart restores the drain from the store without recording it again.
  must("node drain local");
  daemon->stop();
  daemon->start();
  const json after = daemon->api("GET", "/v1/audit").second;
  size_t drains = 0;
  for (const json& r : after["audit"]) drains += r["action"] == "node.drain";
  EXPECT_EQ(drains, 2u) << after.dump();
}

TEST_F(OutputTest, TheLogIsJsonLinesWithTimesAndLevels) {
  must("org create hku --kind university");
  daemon->stop();
  std::istringstream log(read_file(dir + "/state.log"));
  int lines = 0;
  bool listening = false;
  for (std::string line; std::getline(log, line); ++lines) {
    const json event = json::parse(line, nullptr, false);
    ASSERT_FALSE(event.is_discarded()) << "not a JSON line: " << line;
    EXPECT_TRUE(std::regex_match(event.value("time", ""),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
        << line;
    EXPECT_TRUE(event.value("level", "") == "info" || event.value("level", "") == "warning")
        << line;
    listening =
        listening || event.value("message", "").starts_with("listening on http://127.0.0.1:");
  }
  EXPECT_GE(lines, 2);
  EXPECT_TRUE(listening);
}

// The page as Chromium draws it (scripts/statement-screenshot.sh): a PNG of a printed page's
// width. Skipped where Chromium is not installed.
TEST_F(OutputTest, TheStatementPageRendersInChromium) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0)
    GTEST_SKIP()
        << "chromium is not installed (apt-get install chromium): the page is not rendered";
  const uint64_t id = job_charged_and_refunded();
  std::ofstream(dir + "/statement.html") << statement_page(id);
  const std::string png = dir + "/statement.png";
  const std::string script = std::string(BERTH_SOURCE_DIR) + "/scripts/statement-screenshot.sh";
  ASSERT_EQ(std::system((script + " " + dir + "/statement.html " + png + " >/dev/null").c_str()),
            0);
  const std::string bytes = read_file(png);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  auto be32 = [&bytes](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
  };
  EXPECT_EQ(be32(16), 1280u);  // IHDR: width, height
  EXPECT_EQ(be32(20), 1400u);
  EXPECT_GT(bytes.size(), 20'000u);  // a page with text on it, not a blank one
}

}  // namespace
}  // namespace berth::testing
