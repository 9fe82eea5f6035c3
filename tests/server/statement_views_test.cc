// A statement's HTML page, as a funder is sent it, and its CSV rows.
#include "server/statement_views.h"

#include <gtest/gtest.h>

#include <regex>

#include "common/timefmt.h"

namespace berth::server {
namespace {

int64_t at(const char* iso) { return *parse_time_ms(iso); }

// November 2026 of project 3: a top-up, a job paid in part by award 1 of "ai-subsidy", and a
// refund of that job whose transfer has an internal 19-digit id.
core::ProjectStatement november() {
  core::ProjectStatement st;
  st.project = ProjectId(3);
  st.project_name = "vision";
  st.org = OrgId(1);
  st.org_name = "hku";
  st.from_ms = at("2026-11-01T00:00:00Z");
  st.to_ms = at("2026-12-01T00:00:00Z");
  st.opening_minor = 1'000'0000;
  core::WalletMovement topup{TransferId(4611686018427387905ULL),
                             at("2026-11-02T09:00:00Z"),
                             core::kCodeTopUp,
                             250'000'0000,
                             "INV-42",
                             JobId(),
                             ""};
  st.topups.push_back(topup);
  core::JobCharge job;
  job.job = JobId(12);
  job.name = "pretrain";
  job.user = "alice";
  job.state = "COMPLETED";
  job.gpus = 8;
  job.start_ms = at("2026-11-10T10:00:00Z");
  job.end_ms = at("2026-11-10T12:00:00Z");
  job.gpu_ms = 8 * 7'200'000LL;
  job.cost_minor = 480'0000;
  job.subsidy_minor = 336'0000;
  job.copay_minor = 144'0000;
  job.award = AwardId(1);
  job.award_scheme = "ai-subsidy";
  st.jobs.push_back(job);
  core::WalletMovement refund{TransferId(4611686018427387917ULL),
                              at("2026-11-12T08:00:00Z"),
                              core::kCodeRefund,
                              43'2000,
                              "",
                              JobId(12),
                              "node fault"};
  st.other.push_back(refund);
  st.topups_minor = 250'000'0000;
  st.other_credits_minor = 43'2000;
  st.copay_debits_minor = 144'0000;
  st.jobs_cost_minor = 480'0000;
  st.jobs_subsidy_minor = 336'0000;
  st.jobs_copay_minor = 144'0000;
  st.jobs_gpu_ms = job.gpu_ms;
  st.closing_minor =
      st.opening_minor + st.topups_minor + st.other_credits_minor - st.copay_debits_minor;
  return st;
}

DaemonConfig centre() {
  DaemonConfig c;
  c.currency = "HKD";
  c.centre.name = "Harbour AI <Supercomputing> Centre";
  c.centre.address = "Unit 501, Cyberport 3\nHong Kong";
  c.centre.currency_symbol = "HK$";
  return c;
}

TEST(StatementPage, IsHeadedWithTheCentreAndTheStatementsNumber) {
  const std::string page = statement_html(november(), centre());
  EXPECT_NE(page.find("<h1>Harbour AI &lt;Supercomputing&gt; Centre</h1>"), std::string::npos)
      << page;
  EXPECT_NE(page.find("<address>Unit 501, Cyberport 3<br>Hong Kong</address>"), std::string::npos)
      << page;
  EXPECT_NE(page.find("<dd>ST-0003-2026-11</dd>"), std::string::npos) << page;
  EXPECT_NE(page.find("<dd>2026-11-01 to 2026-11-30</dd>"), std::string::npos) << page;
  EXPECT_EQ(statement_number(november()), "ST-0003-2026-11");
}

TEST(StatementPage, MoneyToTheCentWithTheCentresCurrency) {
  const std::string page = statement_html(november(), centre());
  EXPECT_NE(page.find("<td class=\"n\">HK$ 250,000.00</td>"), std::string::npos)
      << page;  // top-ups
  EXPECT_NE(page.find("Amounts in HKD (HK$), rounded to the cent"), std::string::npos) << page;
  EXPECT_NE(page.find("<td class=\"n\">480.00</td>"), std::string::npos)
      << page;  // the job's gross
  EXPECT_EQ(page.find("250000.0000"), std::string::npos) << page;
  DaemonConfig bare = centre();
  bare.centre.currency_symbol = "";  // no symbol: the code
  EXPECT_NE(statement_html(november(), bare).find("HKD 250,000.00"), std::string::npos);
}

TEST(StatementPage, NamesTheAwardAndTheRefundsJobAndReasonButNoInternalId) {
  const std::string page = statement_html(november(), centre());
  EXPECT_NE(page.find("<td class=\"d\">1 (ai-subsidy)</td>"), std::string::npos) << page;
  EXPECT_NE(
      page.find("<td>Refund</td><td class=\"d\">job 12</td><td>refund of job 12: node fault</td>"),
      std::string::npos)
      << page;
  EXPECT_FALSE(std::regex_search(page, std::regex("[0-9]{12,}"))) << page;
}

TEST(StatementPage, DatesDoNotWrapAndTheClosingRowIsTheLastDay) {
  const std::string page = statement_html(november(), centre());
  EXPECT_NE(page.find("td.d{white-space:nowrap}"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"d\">2026-11-02 09:00</td>"), std::string::npos) << page;
  const size_t closing = page.find("<tr class=\"total\">");
  ASSERT_NE(closing, std::string::npos);
  EXPECT_EQ(page.find("<tr class=\"total\"><td class=\"d\">2026-11-30</td>", closing), closing)
      << page.substr(closing);
  EXPECT_EQ(page.find("2026-12-01"), std::string::npos) << page;
}

TEST(StatementCsv, ARefundsReferenceIsItsJobAndItsDescriptionTheReason) {
  const std::string csv = statement_csv(november());
  EXPECT_NE(csv.find("\r\nrefund,2026-11-12T08:00:00Z,job 12,refund of job 12: node fault,"),
            std::string::npos)
      << csv;
  EXPECT_EQ(csv.find("4611686018427387917"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",43.2000,"), std::string::npos) << csv;  // exact, as before
  // The header is unchanged: the award's scheme is the page's, not a new column.
  EXPECT_EQ(csv.rfind("type,time,reference,description,user,state,gpus,start,end,gpu_hours,gpu_ms,"
                      "gross,subsidy,"
                      "copay,held,wallet,balance,award_id\r\n",
                      0),
            0u);
}

TEST(StatementJson, CarriesTheNumberAwardSchemeAndRefundReason) {
  const nlohmann::json j = statement_json(november());
  EXPECT_EQ(j["number"], "ST-0003-2026-11");
  EXPECT_EQ(j["jobs"][0]["award_scheme"], "ai-subsidy");
  EXPECT_EQ(j["other"][0]["job_id"], 12);
  EXPECT_EQ(j["other"][0]["reason"], "node fault");
  EXPECT_EQ(j["other"][0]["description"], "refund of job 12: node fault");
  EXPECT_EQ(j["other"][0]["amount"], "43.2000");
}

}  // namespace
}  // namespace berth::server
