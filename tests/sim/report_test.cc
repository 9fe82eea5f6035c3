// The report: files in a fresh directory, CSV rows, JSON that parses back, and a page that
// stands alone (an SVG per chart, nothing fetched from elsewhere).
#include "sim/report.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/sim_testing.h"

namespace berth::sim {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Whether a non-finite number reached the page ("nan", "-nan", "inf" as printf writes them;
// "tenant" and the like are words, not numbers).
bool has_non_finite(const std::string& html) {
  for (const char* bad :
       {"nan\"", "nan,", "nan ", "nan%", "nan<", "inf\"", "inf,", "inf ", "inf%", "inf<"})
    if (html.find(bad) != std::string::npos) return true;
  return false;
}

using testing::outcome;

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::make_temp_dir("berth_report_");
    ASSERT_FALSE(root_.empty());
    runs_.push_back(
        PolicyRun{"fifo",
                  {},
                  {outcome(1, "a", 0, 0, 3600, 8, 12'3456, 8'6419),
                   outcome(2, "b,c", 0, 3600, 7200, 4), outcome(3, "a", 60, 3600, 3700, 2)}});
    runs_.push_back(
        PolicyRun{"sjf<x>",
                  {},
                  {outcome(1, "a", 0, 100, 3700, 8), outcome(2, "b,c", 0, 3700, 7300, 4),
                   outcome(3, "a", 60, 0, 100, 2)}});
    for (PolicyRun& r : runs_) r.metrics = compute_metrics(r.jobs, 8);
    metrics_ = {{"policies", {{"fifo", runs_[0].metrics}, {"sjf<x>", runs_[1].metrics}}},
                {"total_gpus", 8}};
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  std::vector<PolicyRun> runs_;
  nlohmann::json metrics_;
};

TEST_F(ReportTest, WritesTheThreeFilesIntoANewDirectory) {
  const fs::path dir = root_ / "nested" / "out";
  ASSERT_TRUE(write_report(dir.string(), metrics_, runs_, 8, {}).ok());
  EXPECT_TRUE(fs::is_regular_file(dir / "metrics.json"));
  EXPECT_TRUE(fs::is_regular_file(dir / "jobs.csv"));
  EXPECT_TRUE(fs::is_regular_file(dir / "index.html"));
  // Writing again replaces the files.
  EXPECT_TRUE(write_report(dir.string(), metrics_, runs_, 8, {}).ok());
}

TEST_F(ReportTest, MetricsJsonParsesBack) {
  ASSERT_TRUE(write_report(root_.string(), metrics_, runs_, 8, {}).ok());
  const nlohmann::json back = nlohmann::json::parse(read_file(root_ / "metrics.json"));
  EXPECT_EQ(back, metrics_);
}

TEST_F(ReportTest, JobsCsvHasARowPerJobPerPolicy) {
  ASSERT_TRUE(write_report(root_.string(), metrics_, runs_, 8, {}).ok());
  std::istringstream in(read_file(root_ / "jobs.csv"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 1u + 6u);
  EXPECT_EQ(lines[0], "policy,id,tenant,submit_s,start_s,end_s,gpus,wait_s,cost,subsidy");
  EXPECT_EQ(lines[1], "fifo,1,a,0,0,3600,8,0,12.3456,8.6419");
  EXPECT_EQ(lines[2], "fifo,2,\"b,c\",0,3600,7200,4,3600,0.0000,0.0000");  // a comma is quoted
  EXPECT_EQ(lines[3], "fifo,3,a,60,3600,3700,2,3540,0.0000,0.0000");
  EXPECT_EQ(lines[4].substr(0, 7), "sjf<x>,");
  for (size_t i = 1; i < lines.size(); ++i) {
    if (i == 2 || i == 5) continue;  // the quoted tenant
    EXPECT_EQ(count(lines[i], ","), 9u) << lines[i];
  }
}

TEST_F(ReportTest, PageHasAChartPerViewAndNothingExternal) {
  ASSERT_TRUE(write_report(root_.string(), metrics_, runs_, 8, {}).ok());
  const std::string html = read_file(root_ / "index.html");
  EXPECT_EQ(count(html, "<svg"), 3u);  // utilisation, waits, per-tenant JCT
  EXPECT_EQ(count(html, "http"), 0u);
  EXPECT_EQ(count(html, "<script"), 0u);
  EXPECT_EQ(count(html, "<link"), 0u);
  EXPECT_EQ(count(html, "@import"), 0u);
  EXPECT_EQ(count(html, "url("), 0u);
  EXPECT_NE(html.find("<table>"), std::string::npos);
  EXPECT_NE(html.find("sjf&lt;x&gt;"), std::string::npos);  // names are escaped
  EXPECT_EQ(html.find("sjf<x>"), std::string::npos);
  EXPECT_NE(html.find("Utilisation over time"), std::string::npos);
  EXPECT_NE(html.find("time since first submit (h)"), std::string::npos);
  EXPECT_NE(html.find("Wait-time distribution"), std::string::npos);
  EXPECT_NE(html.find("average JCT"), std::string::npos);
  EXPECT_NE(html.find("<th>cost</th>"), std::string::npos);  // fifo cost money
  EXPECT_NE(html.find("12.3456"), std::string::npos);
  EXPECT_FALSE(has_non_finite(html));
}

TEST_F(ReportTest, AwardsAddABurnDownChart) {
  const std::vector<AwardSeries> awards = {{"a", {{0, 100'0000}, {3600, 87'6544}, {7200, 87'6544}}},
                                           {"b,c", {{0, 50'0000}, {7200, 0}}}};
  ASSERT_TRUE(write_report(root_.string(), metrics_, runs_, 8, awards).ok());
  const std::string html = read_file(root_ / "index.html");
  EXPECT_EQ(count(html, "<svg"), 4u);
  EXPECT_NE(html.find("Award burn-down"), std::string::npos);
  EXPECT_NE(html.find("award money left"), std::string::npos);
}

TEST(Report, HandlesNoRunsAndManyTenants) {
  const std::string empty = report_html({}, 8, {});
  EXPECT_EQ(count(empty, "<svg"), 3u);
  EXPECT_FALSE(has_non_finite(empty));
  PolicyRun run{"fifo", {}, {}};
  for (int i = 0; i < 50; ++i)
    run.jobs.push_back(outcome(i, "t" + std::to_string(i), 0, i, 2 * i + 1, 1));
  run.metrics = compute_metrics(run.jobs, 4);
  const std::string html = report_html({run}, 4, {});
  EXPECT_NE(html.find("the 20 with the most jobs, of 50"), std::string::npos);
  EXPECT_FALSE(has_non_finite(html));
}

TEST(Report, UnwritableDirectoryIsAnError) {
  const Status s =
      write_report("/proc/berth-cannot-write-here", nlohmann::json::object(), {}, 1, {});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInternal);
}

}  // namespace
}  // namespace berth::sim
