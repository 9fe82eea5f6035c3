// The funding programme's story over a real berthd and the real CLI: a scheme with its rules, a
// reviewer's criteria, a member's application, review, approval into an award, and the refusals
// of each role; everything survives a SIGKILL.
#include <gtest/gtest.h>

#include <fstream>
#include <ctime>
#include <future>

#include "common/money.h"
#include "harness.h"

namespace berth::testing {
namespace {

class FundingTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    must("org create hku --kind university");
    must("project create vision --org hku");
    must("org create acme --kind startup");
    must("project create llm --org acme");
    must(
        "scheme create ai-subsidy --rate 70% --exceptional-rate 90% --fund 1000000 --eligible "
        "university,institute"
        " --cap 600000 --window-open 2020-01-01 --window-close 2100-01-01 --award-validity 365");
    must(
        "scheme create closed --rate 50% --fund 1000 --eligible university --window-open 2020-01-01"
        " --window-close 2021-01-01");
    alice = token("alice", "member", "hku");
    bob = token("bob", "member", "acme");
    rita = token("rita", "reviewer", "");
    victor = token("victor", "reviewer", "");
  }

  std::string token(const std::string& user, const std::string& role, const std::string& org) {
    const CliResult r = cli("token create --user " + user + " --role " + role +
                            (org.empty() ? "" : " --org " + org));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::string t = r.out;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  }
  json app(int id, const std::string& tok = "<admin>") {
    return daemon->api("GET", "/v1/applications/" + std::to_string(id), "", tok).second;
  }
  json scheme(const std::string& name) {
    const json schemes = daemon->api("GET", "/v1/schemes").second["schemes"];
    for (const json& s : schemes)
      if (s["name"] == name) return s;
    return json();
  }
  // Drafts and submits an application of vision's to ai-subsidy as alice; returns its id.
  int apply(const std::string& amount) {
    const CliResult r =
        cli("--json apply draft --scheme ai-subsidy --project vision --amount " + amount +
                " --gpus 8 --days 180 --justification 'harbour vision model'",
            alice);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const int id = json::parse(r.out, nullptr, false).value("id", 0);
    EXPECT_EQ(cli("apply submit " + std::to_string(id), alice).exit_code, 0);
    return id;
  }

  std::string alice, bob, rita, victor;
};

TEST_F(FundingTest, ApplyReviewApproveGrantsAnAwardAndEveryStepIsRecorded) {
  must("review criteria ai-subsidy impact=60% plan=40%", rita);
  const int id = apply("500000");
  ASSERT_GT(id, 0);
  // A member cannot score or approve; a reviewer scores.
  EXPECT_NE(cli("review score " + std::to_string(id) + " impact=80 plan=70", alice).exit_code, 0);
  must("review score " + std::to_string(id) + " impact=80 plan=70 --comment 'strong team'", rita);
  EXPECT_EQ(app(id)["score"], "76.0000");
  const CliResult denied = cli("review approve " + std::to_string(id), alice);
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.out.find("reviewer"), std::string::npos) << denied.out;
  // Approve less than asked, at the exceptional rate.
  const CliResult ok = cli("review approve " + std::to_string(id) +
                               " --amount 400000 --exceptional-rate --note 'trimmed'",
                           rita);
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("award 1 of HK$ 400,000.00 for 8 GPUs at 90%"), std::string::npos)
      << ok.out;
  const json a = app(id, alice);
  EXPECT_EQ(a["state"], "approved");
  EXPECT_EQ(a["award_id"], 1);
  EXPECT_EQ(a["approved_rate_bps"], 9000);
  std::vector<std::string> actions;
  for (const json& h : a["history"]) actions.push_back(h["action"]);
  EXPECT_EQ(actions,
            (std::vector<std::string>{"drafted", "submitted", "reviewed", "approved", "awarded"}));
  EXPECT_EQ(a["history"][3]["user"], "rita");
  EXPECT_EQ(scheme("ai-subsidy")["fund_balance"], "600000.0000");
  const json awards = daemon->api("GET", "/v1/awards", "", alice).second["awards"];
  ASSERT_EQ(awards.size(), 1u);
  EXPECT_EQ(awards[0]["rate_bps"], 9000);
  EXPECT_EQ(awards[0]["granted"], "400000.0000");
  // The CLI shows it, and the listing has it.
  const CliResult show = cli("apply show " + std::to_string(id), alice);
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_NE(show.out.find("strong team"), std::string::npos) << show.out;
  EXPECT_NE(cli("apply list --state approved", rita).out.find("vision"), std::string::npos);

  // Everything survives a crash.
  daemon->kill_hard();
  daemon->start();
  const json again = app(id);
  EXPECT_EQ(again["state"], "approved");
  EXPECT_EQ(again["history"].size(), 5u);
  EXPECT_EQ(again["reviews"][0]["comment"], "strong team");
  EXPECT_EQ(scheme("ai-subsidy")["fund_balance"], "600000.0000");
  EXPECT_EQ(scheme("ai-subsidy")["exceptional_rate_bps"], 9000);
  // The cap (600,000 per project) counts the 400,000 already awarded.
  const CliResult over =
      cli("--json apply draft --scheme ai-subsidy --project vision --amount 300000 --gpus 8"
          " --days 30 --justification more",
          alice);
  ASSERT_EQ(over.exit_code, 0) << over.out;
  const int second = json::parse(over.out)["id"];
  const CliResult capped = cli("apply submit " + std::to_string(second), alice);
  EXPECT_NE(capped.exit_code, 0);
  EXPECT_NE(capped.out.find("caps a project"), std::string::npos) << capped.out;
}

TEST_F(FundingTest, TwoReviewersApprovingAtOnceGrantOneAward) {
  must("review criteria ai-subsidy merit=100%", rita);
  const int id = apply("100000");
  must("review score " + std::to_string(id) + " merit=90", rita);
  const std::string path = "/v1/applications/" + std::to_string(id) + "/approve";
  auto first =
      std::async(std::launch::async, [&] { return daemon->api("POST", path, "{}", rita).first; });
  auto second =
      std::async(std::launch::async, [&] { return daemon->api("POST", path, "{}", victor).first; });
  std::vector<int> codes = {first.get(), second.get()};
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (std::vector<int>{201, 409}));
  EXPECT_EQ(daemon->api("GET", "/v1/awards").second["awards"].size(), 1u);
  EXPECT_EQ(scheme("ai-subsidy")["fund_balance"], "900000.0000");
}

TEST_F(FundingTest, BadInputAndWrongRolesAreRefusedAndChangeNothing) {
  must("review criteria ai-subsidy merit=100%", rita);
  auto post = [&](const std::string& path, const std::string& body, const std::string& tok) {
    return daemon->api("POST", path, body, tok);
  };
  const std::string draft =
      R"({"scheme":"ai-subsidy","project":"vision","amount":"1000","gpu_level":4,"duration_days":30,"justification":"why"})";
  // A reviewer drafts nothing and spends nothing; a member sets no criteria.
  EXPECT_EQ(post("/v1/applications", draft, rita).first, 404);  // a reviewer is in no organisation
  EXPECT_EQ(post("/v1/projects/vision/topups", R"({"amount":"10"})", rita).first, 403);
  EXPECT_EQ(post("/v1/jobs", R"({"project":"vision","gpus":1,"script":"x"})", rita).first, 403);
  EXPECT_EQ(post("/v1/schemes/ai-subsidy/criteria",
                 R"({"criteria":[{"name":"x","weight_bps":10000}]})", alice)
                .first,
            403);
  // Another organisation cannot apply for vision, nor see its applications.
  EXPECT_EQ(post("/v1/applications", draft, bob).first, 404);
  // An ineligible organisation; a closed window; a fraction below the minor unit; bad fields.
  auto [st_inel, inel] = post(
      "/v1/applications",
      R"({"scheme":"ai-subsidy","project":"llm","amount":"10","gpu_level":1,"duration_days":1,"justification":"x"})",
      bob);
  EXPECT_EQ(st_inel, 403) << inel.dump();
  auto [st_closed, closed] = post(
      "/v1/applications",
      R"({"scheme":"closed","project":"vision","amount":"10","gpu_level":1,"duration_days":1,"justification":"x"})",
      alice);
  EXPECT_EQ(st_closed, 409) << closed.dump();
  EXPECT_NE(closed["error"]["message"].get<std::string>().find("closed"), std::string::npos)
      << closed.dump();
  EXPECT_EQ(
      post(
          "/v1/applications",
          R"({"scheme":"ai-subsidy","project":"vision","amount":"1.00001","gpu_level":1,"duration_days":1,"justification":"x"})",
          alice)
          .first,
      400);
  EXPECT_EQ(
      post(
          "/v1/applications",
          R"({"scheme":"ai-subsidy","project":"vision","amount":"10","gpu_level":1,"duration_days":1})",
          alice)
          .first,
      400);
  EXPECT_EQ(
      post(
          "/v1/applications",
          R"({"scheme":"ai-subsidy","project":"vision","amount":"10","gpu_level":"8","duration_days":1,"justification":"x"})",
          alice)
          .first,
      400);
  EXPECT_EQ(daemon->api("GET", "/v1/applications", "", rita).second["applications"].size(), 0u);

  const int id = apply("1000");
  EXPECT_EQ(daemon->api("GET", "/v1/applications/" + std::to_string(id), "", bob).first, 404);
  EXPECT_EQ(daemon->api("GET", "/v1/applications", "", bob).second["applications"].size(), 0u);
  EXPECT_EQ(daemon->api("GET", "/v1/applications/abc").first, 400);
  EXPECT_EQ(daemon->api("GET", "/v1/applications?state=pending").first, 400);
  // The admin reviews as a reviewer does, but is refused a member's step as what it is.
  const CliResult by_admin = cli("apply withdraw " + std::to_string(id));
  EXPECT_NE(by_admin.exit_code, 0);
  EXPECT_NE(
      by_admin.out.find("admin is the centre's administrator, not a member of an organisation"),
      std::string::npos)
      << by_admin.out;
  // Approving before any review, more than asked, or a score out of range.
  const std::string path = "/v1/applications/" + std::to_string(id);
  EXPECT_EQ(post(path + "/approve", "{}", rita).first, 409);
  EXPECT_EQ(post(path + "/reviews", R"({"scores":{"merit":101}})", rita).first, 400);
  EXPECT_EQ(post(path + "/reviews", R"({"scores":{"luck":50}})", rita).first, 400);
  must("review score " + std::to_string(id) + " merit=50", rita);
  EXPECT_EQ(post(path + "/approve", R"({"amount":"1000.0001"})", rita).first, 400);
  EXPECT_EQ(post(path + "/reject", "{}", rita).first, 400);  // a reason is required
  // Rejected with a reason: final; a withdrawal afterwards is a conflict.
  EXPECT_EQ(post(path + "/reject", R"({"reason":"out of scope"})", rita).first, 200);
  EXPECT_EQ(post(path + "/withdraw", "{}", alice).first, 409);
  EXPECT_EQ(app(id, alice)["rejection_reason"], "out of scope");
  EXPECT_EQ(scheme("ai-subsidy")["fund_balance"], "1000000.0000");
  EXPECT_EQ(daemon->api("GET", "/v1/awards").second["awards"].size(), 0u);
  // The CLI says what is wrong and exits non-zero.
  const CliResult bad =
      cli("apply draft --scheme ai-subsidy --project vision --amount 1.00001 --gpus 1 --days 1"
          " --justification x",
          alice);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("--amount"), std::string::npos) << bad.out;
  EXPECT_TRUE(daemon->up());
}

TEST_F(FundingTest, AwardsAreSupplementedOrderedAndClosedAndTheAuditRecordSaysWhoAndWhy) {
  must(
      "award create --scheme ai-subsidy --project vision --amount 1000 --gpus 8 --start 2020-01-01 "
      "--end 2099-01-01");
  must("scheme create partner --rate 100% --fund 500 --eligible university");
  must(
      "award create --scheme partner --project vision --amount 200 --gpus 8 --start 2020-01-01 "
      "--end 2099-01-01");
  // Only a reviewer or the admin supplements or closes; a member states the funding order.
  EXPECT_NE(cli("award supplement 1 --amount 10", alice).exit_code, 0);
  must("award supplement 1 --amount 500 --note 'second phase'", rita);
  EXPECT_EQ(scheme("ai-subsidy")["fund_balance"], "998500.0000");
  EXPECT_NE(cli("funding-order vision 2 1", rita).exit_code, 0);
  must("funding-order vision 2 1", alice);
  const json balance = daemon->api("GET", "/v1/projects/vision/balance", "", alice).second;
  ASSERT_EQ(balance["awards"].size(), 2u);
  EXPECT_EQ(balance["awards"][0]["id"], 2);
  EXPECT_EQ(balance["awards"][0]["funding_order"], 1);
  EXPECT_NE(cli("funding-order vision 2 7", alice).exit_code, 0);  // not one of vision's awards
  // Closing returns what is left at once when no job holds on it.
  const CliResult closed = cli("award close 2 --reason 'partner left'", rita);
  ASSERT_EQ(closed.exit_code, 0) << closed.out;
  EXPECT_NE(closed.out.find("HK$ 200.00 returned to the fund"), std::string::npos) << closed.out;
  EXPECT_EQ(scheme("partner")["fund_balance"], "500.0000");
  EXPECT_NE(cli("award close 2 --reason again", rita).exit_code, 0);  // it has ended
  // The audit record names who did what and why, and survives a crash.
  daemon->kill_hard();
  daemon->start();
  const CliResult audit = cli("audit", rita);
  ASSERT_EQ(audit.exit_code, 0) << audit.out;
  for (const char* expected : {"award.supplement", "second phase", "project.funding_order", "alice",
                               "award.close", "partner left", "award.return"})
    EXPECT_NE(audit.out.find(expected), std::string::npos) << expected << "\n" << audit.out;
  EXPECT_EQ(daemon->api("GET", "/v1/audit", "", alice).first, 403);
  EXPECT_EQ(cli("reconcile").exit_code, 0) << cli("reconcile").out;
}

// The first day of the month `months_from_now` months from the current UTC month, as
// "YYYY-MM-01" (berthd runs on the wall clock, so the award's dates are set around it).
std::string first_of_month(int months_from_now) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  int month = utc.tm_year * 12 + utc.tm_mon + months_from_now;  // months since 1900-01
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02d-01", 1900 + month / 12, month % 12 + 1);
  return text;
}

// An award's GPU level caps only what the award pays for: a job larger than it is accepted
// (it used to be refused with 400) and quoted as paid by the wallet alone.
TEST_F(FundingTest, AJobLargerThanItsAwardsGpuLevelIsAcceptedAndPaidByTheWallet) {
  const json grant = {{"scheme", "ai-subsidy"}, {"project", "vision"},   {"amount", "1000"},
                      {"gpu_level", 2},         {"start", "2020-01-01"}, {"end", "2100-01-01"}};
  const auto [status, award] = daemon->api("POST", "/v1/awards", grant.dump());
  ASSERT_EQ(status, 201) << award.dump();
  const json within = {{"project", "vision"}, {"gpus", 2}, {"time_limit_s", 3600}};
  EXPECT_NE(daemon->api("POST", "/v1/quote", within.dump(), alice).second["subsidy"], "0.0000");
  const json larger = {{"project", "vision"}, {"gpus", 4}, {"time_limit_s", 3600}};
  const json quote = daemon->api("POST", "/v1/quote", larger.dump(), alice).second;
  EXPECT_EQ(quote["subsidy"], "0.0000") << quote.dump();
  json job = larger;
  job["hold"] = true;
  job["script"] = "#!/bin/sh\ntrue\n";
  job["workdir"] = work;
  const auto [submitted, body] = daemon->api("POST", "/v1/jobs", job.dump(), alice);
  EXPECT_EQ(submitted, 201) << body.dump();
  EXPECT_EQ(body["gpus"], 4) << body.dump();
}

// Progress reports over berthd and the CLI. The award starts on the first of the month three
// months ago and asks for a report every 2 months: period 1 was due on the first of last month
// (overdue by 28 days or more), period 2 is due on the first of next month, whatever the day
// the test runs.
TEST_F(FundingTest, AnOverdueProgressReportStopsTheSubsidyUntilAReviewerAcceptsIt) {
  const json grant = {
      {"scheme", "ai-subsidy"},  {"project", "vision"},         {"amount", "1000"},
      {"gpu_level", 8},          {"start", first_of_month(-3)}, {"end", "2100-01-01"},
      {"report_every_months", 2}};
  const std::string period1_due = first_of_month(-1) + "T00:00:00Z";
  const std::string period2_due = first_of_month(1) + "T00:00:00Z";
  const auto [status, award] = daemon->api("POST", "/v1/awards", grant.dump());
  ASSERT_EQ(status, 201) << award.dump();
  EXPECT_EQ(award["report_every_months"], 2);
  EXPECT_EQ(award["reports_overdue"], true);
  EXPECT_EQ(award["overdue_report_period"], 1);
  EXPECT_EQ(award["next_report_due"], period1_due);
  const json request = {{"project", "vision"}, {"gpus", 1}, {"time_limit_s", 3600}};
  const json quote = daemon->api("POST", "/v1/quote", request.dump(), alice).second;
  EXPECT_EQ(quote["subsidy"], "0.0000") << quote.dump();
  EXPECT_EQ(quote["report_overdue_award_id"], 1) << quote.dump();

  // Only a member of hku submits; only a reviewer decides.
  EXPECT_NE(cli("report submit 1 --period 1 --text done", bob).exit_code, 0);
  EXPECT_NE(cli("report submit 1 --period 1 --text done", rita).exit_code, 0);
  must("report submit 1 --period 1 --text 'first draft'", alice);
  EXPECT_NE(cli("report accept 1 1", alice).exit_code, 0);
  must("report return 1 1 --reason 'give the GPU-hours used'", rita);
  {
    std::ofstream f(work + "/report.txt");
    f << "Trained the harbour model on 4 GPUs.\nGPU-hours used: 12,000.\n";
  }
  must("report submit 1 --period 1 --file report.txt", alice);
  const CliResult accepted = cli("report accept 1 1", rita);
  ASSERT_EQ(accepted.exit_code, 0) << accepted.out;
  EXPECT_NE(accepted.out.find("period 1 of award 1: accepted"), std::string::npos) << accepted.out;

  const CliResult list = cli("report list 1", alice);
  ASSERT_EQ(list.exit_code, 0) << list.out;
  EXPECT_NE(list.out.find("accepted"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(first_of_month(1)), std::string::npos) << list.out;
  EXPECT_EQ(daemon->api("GET", "/v1/awards/1/reports", "", bob).first, 404);
  EXPECT_EQ(
      daemon->api("POST", "/v1/quote", request.dump(), alice).second["report_overdue_award_id"],
      json());

  // It survives a crash: the report, its history and the award's rule.
  daemon->kill_hard();
  daemon->start();
  const json reports = daemon->api("GET", "/v1/awards/1/reports", "", rita).second;
  EXPECT_EQ(reports["award"]["reports_overdue"], false) << reports.dump();
  EXPECT_EQ(reports["award"]["next_report_due"], period2_due);
  ASSERT_EQ(reports["reports"].size(), 1u);
  EXPECT_EQ(reports["reports"][0]["state"], "accepted");
  EXPECT_EQ(reports["reports"][0]["submissions"], 2);
  EXPECT_NE(reports["reports"][0]["text"].get<std::string>().find("12,000"), std::string::npos);
  std::vector<std::string> actions;
  for (const json& h : reports["history"]) actions.push_back(h["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"submitted", "returned", "submitted", "accepted"}));

  // A reviewer may require reports when approving an application.
  must("review criteria ai-subsidy impact=60% plan=40%", rita);
  const int id = apply("1000");
  must("review score " + std::to_string(id) + " impact=80 plan=70", rita);
  const CliResult approved =
      cli("--json review approve " + std::to_string(id) + " --report-every 3", rita);
  ASSERT_EQ(approved.exit_code, 0) << approved.out;
  EXPECT_EQ(json::parse(approved.out)["award"]["report_every_months"], 3);
}

}  // namespace
}  // namespace berth::testing
