// Wallets over a real berthd and the real CLI: a credit limit, refunds of a job that ran, and
// adjustments, admin only; the books still reconcile, and everything survives a SIGKILL.
#include <gtest/gtest.h>

#include "common/money.h"
#include "harness.h"

namespace berth::testing {
namespace {

class WalletTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    must("org create hku --kind university");
    must("project create vision --org hku");
    must(
        "scheme create ai-subsidy --rate 70% --fund 100000 --eligible university --shortfall "
        "wallet");
    must(
        "award create --scheme ai-subsidy --project vision --amount 50000 --gpus 8 --start "
        "2020-01-01 --end 2100-01-01");
    must("topup vision 10 --reference INV-1");
    auto [st, tok] = daemon->api("POST", "/v1/tokens", R"({"user":"alice","org":"hku"})");
    ASSERT_EQ(st, 201);
    alice = tok["token"];
  }
  json job(uint64_t id) { return daemon->api("GET", "/v1/jobs/" + std::to_string(id)).second; }
  json wallet() { return daemon->api("GET", "/v1/projects/vision/balance").second["wallet"]; }
  json award() { return daemon->api("GET", "/v1/projects/vision/balance").second["awards"][0]; }
  static Minor amount(const json& v) {
    return v.is_string() ? *parse_amount(v.get<std::string>(), true) : -1;
  }

  std::string alice;
};

TEST_F(WalletTest, CreditLimitRefundAndAdjustmentEndToEnd) {
  const CliResult submitted =
      cli("submit --parsable -A vision --gpus 1 --time 30 --wrap 'sleep 1'");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.out;
  const uint64_t id = std::strtoull(submitted.out.c_str(), nullptr, 10);
  ASSERT_TRUE(eventually([&] { return job(id).value("state", "") == "COMPLETED"; }))
      << job(id).dump();
  const Minor cost = amount(job(id)["cost"]), subsidy = amount(job(id)["subsidy"]);
  ASSERT_GT(subsidy, 0) << job(id).dump();
  EXPECT_EQ(job(id)["refunded"], "0.0000");
  const std::string jid = std::to_string(id);

  // A member may do none of it: 403 with a JSON error, and the CLI exits 1.
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/projects/vision/credit-limit", R"({"limit":"5000"})"},
           {"/v1/jobs/" + jid + "/refund", R"({"reason":"please"})"},
           {"/v1/projects/vision/adjustments", R"({"amount":"5","reason":"please"})"}}) {
    auto [st, err] = daemon->api("POST", path, body, alice);
    EXPECT_EQ(st, 403) << path;
    EXPECT_EQ(err["error"]["code"], "permission_denied") << err.dump();
  }
  EXPECT_EQ(cli("credit-limit vision 5000", alice).exit_code, 1);
  EXPECT_EQ(cli("refund " + jid + " --reason please", alice).exit_code, 1);
  EXPECT_EQ(cli("adjust vision 5 --reason please", alice).exit_code, 1);
  EXPECT_EQ(wallet()["credit_limit"], "0.0000");

  // Credit limit.
  must("credit-limit vision 5000 --note 'trusted tenant'");
  EXPECT_EQ(wallet()["credit_limit"], "5000.0000");
  EXPECT_EQ(amount(wallet()["spendable"]), amount(wallet()["available"]) + 5000 * kMinorPerUnit);
  EXPECT_EQ(daemon->api("POST", "/v1/projects/vision/credit-limit", R"({"limit":"-1"})").first,
            400);
  // The balance table shows the limit and what can be spent with it.
  const CliResult balance = cli("balance vision");
  ASSERT_EQ(balance.exit_code, 0) << balance.out;
  EXPECT_NE(balance.out.find("CREDIT_LIMIT"), std::string::npos) << balance.out;
  EXPECT_NE(balance.out.find("SPENDABLE"), std::string::npos) << balance.out;
  EXPECT_NE(balance.out.find(" HK$ 5,000.00 "), std::string::npos) << balance.out;
  const Minor spendable = *parse_amount(wallet()["spendable"].get<std::string>());
  EXPECT_NE(balance.out.find(" " + format_money(spendable, "HK$") + "\n"), std::string::npos)
      << balance.out;

  // Refunds: half, then bad ones refused with nothing changed, then the rest.
  const Minor half = cost / 2;
  const Minor wallet_before = amount(wallet()["balance"]), award_before = amount(award()["left"]);
  const CliResult refunded =
      cli("refund " + jid + " --amount " + format_amount(half) + " --reason 'slow node'");
  ASSERT_EQ(refunded.exit_code, 0) << refunded.out;
  EXPECT_NE(refunded.out.find("Refunded " + format_money_exact(half, "HK$") + " of job"),
            std::string::npos)
      << refunded.out;
  const Minor subsidy_part = mul_div_floor(half, subsidy, cost);
  EXPECT_EQ(amount(job(id)["refunded"]), half);
  EXPECT_EQ(amount(award()["left"]) - award_before, subsidy_part);
  EXPECT_EQ(amount(wallet()["balance"]) - wallet_before, half - subsidy_part);
  // The award's spent is net of the subsidy refunded, and its figures still add up to the grant.
  auto adds_up = [&](const json& a) {
    EXPECT_EQ(amount(a["granted"]), amount(a["held"]) + amount(a["spent"]) + amount(a["left"]) +
                                        amount(a["returned_amount"]))
        << a.dump();
  };
  EXPECT_EQ(amount(award()["spent"]), subsidy - subsidy_part);
  EXPECT_EQ(amount(award()["refunded"]), subsidy_part);
  adds_up(award());
  const std::string refund_path = "/v1/jobs/" + jid + "/refund";
  auto [st_over, over] = daemon->api("POST", refund_path,
                                     json{{"amount", format_amount(cost)}, {"reason", "x"}}.dump());
  EXPECT_EQ(st_over, 409) << over.dump();
  EXPECT_NE(
      over["error"]["message"].get<std::string>().find("at most " + format_amount(cost - half)),
      std::string::npos)
      << over.dump();
  EXPECT_EQ(daemon->api("POST", refund_path, R"({"amount":"0.00001","reason":"x"})").first, 400);
  EXPECT_EQ(daemon->api("POST", refund_path, R"({"amount":"1"})").first, 400);  // no reason
  EXPECT_EQ(amount(job(id)["refunded"]), half);
  must("refund " + jid + " --reason 'the rest'");
  EXPECT_EQ(amount(job(id)["refunded"]), cost);
  EXPECT_EQ(amount(award()["left"]) - award_before, subsidy);
  EXPECT_EQ(amount(award()["spent"]), 0);
  EXPECT_EQ(amount(award()["refunded"]), subsidy);
  adds_up(award());
  const json report = daemon->api("GET", "/v1/schemes/ai-subsidy/report").second;
  EXPECT_EQ(amount(report["spent"]), 0) << report.dump();
  EXPECT_EQ(amount(report["refunded"]), subsidy) << report.dump();
  const CliResult awards = cli("balance vision");
  EXPECT_NE(awards.out.find("REFUNDED"), std::string::npos) << awards.out;
  const CliResult nothing = cli("refund " + jid + " --reason again");
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_NE(nothing.out.find("nothing left to refund"), std::string::npos) << nothing.out;

  // Adjustments: negative as typed and after --, then a goodwill credit from what revenue holds.
  const Minor before_adjust = amount(wallet()["balance"]);
  must("adjust vision -3.5 --reason 'double-counted top-up'");
  must("adjust vision --reason 'second correction' -- -3.5");
  EXPECT_EQ(amount(wallet()["balance"]) - before_adjust, -7 * kMinorPerUnit);
  must("adjust vision 2 --reason goodwill");
  EXPECT_EQ(amount(wallet()["balance"]) - before_adjust, -5 * kMinorPerUnit);
  auto [st_floor, floor] = daemon->api("POST", "/v1/projects/vision/adjustments",
                                       R"({"amount":"-100000","reason":"too much"})");
  EXPECT_EQ(st_floor, 409) << floor.dump();
  EXPECT_EQ(floor["error"]["code"], "insufficient_funds") << floor.dump();
  EXPECT_EQ(amount(wallet()["balance"]) - before_adjust, -5 * kMinorPerUnit);
  // With a reference, a retried adjustment is applied once; the reference used otherwise is 409.
  const std::string adjust_path = "/v1/projects/vision/adjustments";
  must("adjust vision 1 --reason goodwill --reference ADJ-9");
  auto [st_replay, replay] =
      daemon->api("POST", adjust_path, R"({"amount":"1","reason":"goodwill","reference":"ADJ-9"})");
  EXPECT_EQ(st_replay, 200) << replay.dump();
  EXPECT_EQ(replay["replayed"], true) << replay.dump();
  EXPECT_EQ(
      daemon->api("POST", adjust_path, R"({"amount":"2","reason":"goodwill","reference":"ADJ-9"})")
          .first,
      409);
  EXPECT_EQ(amount(wallet()["balance"]) - before_adjust, -4 * kMinorPerUnit);

  // Every step is in the audit record under the admin's name, with its reason.
  std::vector<std::string> actions;
  const json audit = daemon->api("GET", "/v1/audit?limit=1000").second;
  for (const json& r : audit["audit"])
    if (r["action"].get<std::string>().rfind("wallet.", 0) == 0 && r["action"] != "wallet.topup")
      actions.push_back(r["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"wallet.credit_limit", "wallet.refund",
                                               "wallet.refund", "wallet.adjust", "wallet.adjust",
                                               "wallet.adjust", "wallet.adjust"}))
      << audit.dump();

  // The books reconcile, before and after a crash; the limit and the refunds persist.
  const CliResult clean = cli("reconcile");
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  const json wallet_then = wallet();
  daemon->kill_hard();
  daemon->start();
  EXPECT_EQ(wallet(), wallet_then);
  EXPECT_EQ(amount(job(id)["refunded"]), cost);
  const CliResult again = cli("reconcile");
  EXPECT_EQ(again.exit_code, 0) << again.out;
}

}  // namespace
}  // namespace berth::testing
