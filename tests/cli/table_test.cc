#include "cli/table.h"

#include <gtest/gtest.h>

#include "cli/views.h"
#include "common/timefmt.h"

namespace berth::cli {
namespace {

using nlohmann::json;

TEST(Table, AlignsColumnsAndTrimsTrailingBlanks) {
  Table table({"ID", "NAME", "KIND"});
  table.add_row({"1", "hku", "university"});
  table.add_row({"12", "a-much-longer-name", "x"});
  EXPECT_EQ(table.render(),
            "ID  NAME                KIND\n"
            "1   hku                 university\n"
            "12  a-much-longer-name  x\n");
}

TEST(Table, RightAlignedColumns) {
  Table table({"ID", "AMOUNT"});
  table.align_right(0).align_right(1);
  table.add_row({"1", "12.5000"});
  table.add_row({"100", "1000000.0000"});
  EXPECT_EQ(table.render(),
            " ID        AMOUNT\n"
            "  1       12.5000\n"
            "100  1000000.0000\n");
}

TEST(Table, ShortRowsArePadded) {
  Table table({"A", "B"});
  table.add_row({"x"});
  EXPECT_EQ(table.render(), "A  B\nx\n");
}

TEST(Table, CountsUtf8CharactersNotBytes) {
  Table table({"NAME", "X"});
  table.add_row({"école", "1"});
  table.add_row({"abcde", "2"});
  EXPECT_EQ(table.render(), "NAME   X\nécole  1\nabcde  2\n");
}

TEST(Table, ControlCharactersInCellsReachNoTerminal) {
  Table t({"NAME"});
  t.add_row({"\x1b[2Jevil"});
  t.add_row({cell(json{{"name", "x\x1b]0;pwned\x07"}}, "name")});
  const std::string out = t.render();
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find('\x07'), std::string::npos) << out;
  EXPECT_NE(out.find("\\x1B[2Jevil"), std::string::npos) << out;
}

TEST(Views, QueueShowsAStoredControlCharacterEscaped) {
  const json jobs = {{"jobs", json::array({{{"id", 1},
                                            {"project", "p\x1b[31m"},
                                            {"name", "\x1b[2J"},
                                            {"user", "u"},
                                            {"state", "PENDING"},
                                            {"gpus", 1}}})}};
  const std::string out = render_jobs(items(jobs, "jobs"), 0);
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_NE(out.find("\\x1B[2J"), std::string::npos) << out;
}

TEST(Views, NodesShowOthersJobsAsACount) {
  const json nodes = {{{"name", "n1"}, {"jobs", json::array({3})}, {"other_jobs", 2}},
                      {{"name", "n2"}, {"jobs", json::array()}, {"other_jobs", 1}},
                      {{"name", "n3"}, {"jobs", json::array({4})}}};
  const std::string out = render_nodes(nodes, 0);
  EXPECT_NE(out.find("3 +2 others"), std::string::npos) << out;
  EXPECT_NE(out.find("+1 other  "), std::string::npos) << out;
  EXPECT_NE(out.find("  4    "), std::string::npos) << out;
}

TEST(Views, NodesShowTheirAgentItsLastHeartbeatAndTheReasonLast) {
  const json nodes = {{{"name", "n1"},
                       {"state", "down"},
                       {"agent_version", "0.9.0"},
                       {"last_heartbeat", "2026-03-01T11:58:57Z"},
                       {"reason", "agent silent since 2026-03-01T11:58:57Z"}},
                      {{"name", "n2"},
                       {"state", "up"},
                       {"agent_version", ""},
                       {"last_heartbeat", nullptr},
                       {"reason", ""}}};
  const std::string out = render_nodes(nodes, *parse_time_ms("2026-03-01T12:00:00Z"));
  EXPECT_EQ(out,
            "NAME  STATE  MODEL  GPUS  FREE  CPUS  MEMORY_MB  JOBS  AGENT  HEARTBEAT  REASON\n"
            "n1    down   -         -     -     -          -  -     0.9.0  1m 3s ago  agent "
            "silent since 2026-03-01T11:58:57Z\n"
            "n2    up     -         -     -     -          -  -     -      -          -\n");
}

TEST(Cell, RendersJsonValues) {
  const json obj = {{"s", "text"},  {"n", 42},         {"b", true},         {"f", false},
                    {"z", nullptr}, {"a", {"x", "y"}}, {"e", json::array()}};
  EXPECT_EQ(cell(obj, "s"), "text");
  EXPECT_EQ(cell(obj, "n"), "42");
  EXPECT_EQ(cell(obj, "b"), "yes");
  EXPECT_EQ(cell(obj, "f"), "no");
  EXPECT_EQ(cell(obj, "z"), "-");
  EXPECT_EQ(cell(obj, "missing"), "-");
  EXPECT_EQ(cell(obj, "a"), "x,y");
  EXPECT_EQ(cell(obj, "e"), "-");
  EXPECT_EQ(cell(json("not an object"), "k"), "-");
}

TEST(FormatRate, PercentWithoutNeedlessDecimals) {
  EXPECT_EQ(format_rate(7000), "70%");
  EXPECT_EQ(format_rate(7050), "70.5%");
  EXPECT_EQ(format_rate(7055), "70.55%");
  EXPECT_EQ(format_rate(1), "0.01%");
  EXPECT_EQ(format_rate(0), "0%");
  EXPECT_EQ(format_rate(10000), "100%");
}

TEST(FormatElapsed, SqueueStyle) {
  EXPECT_EQ(format_elapsed(0), "0:00");
  EXPECT_EQ(format_elapsed(307), "5:07");
  EXPECT_EQ(format_elapsed(3723), "1:02:03");
  EXPECT_EQ(format_elapsed(2 * 86400 + 3723), "2-01:02:03");
  EXPECT_EQ(format_elapsed(-5), "0:00");
}

TEST(StateCodes, BothWays) {
  EXPECT_EQ(state_code("PENDING"), "PD");
  EXPECT_EQ(state_code("RUNNING"), "R");
  EXPECT_EQ(state_code("NODE_FAIL"), "NF");
  EXPECT_EQ(state_code("WEIRD"), "WEIRD");
  EXPECT_EQ(state_name("pd"), "PENDING");
  EXPECT_EQ(state_name("R"), "RUNNING");
  EXPECT_EQ(state_name("completed"), "COMPLETED");
  EXPECT_EQ(state_name("ca"), "CANCELLED");
  EXPECT_EQ(state_name("bogus"), "BOGUS");
}

TEST(RenderJobs, SqueueColumns) {
  const int64_t now = *parse_time_ms("2026-03-01T12:00:00Z");
  const json jobs = json::array({
      {{"id", 12},
       {"partition", "gpu"},
       {"project", "vision"},
       {"name", "train"},
       {"user", "alice"},
       {"state", "RUNNING"},
       {"gpus", 2},
       {"gpu_model", "H100"},
       {"node", "local"},
       {"nodes", 1},
       {"start_time", "2026-03-01T11:58:55Z"},
       {"runtime_s", nullptr},
       {"reason", nullptr}},
      {{"id", 13},
       {"partition", "long"},
       {"project", "vision"},
       {"name", "eval"},
       {"user", "bob"},
       {"state", "PENDING"},
       {"gpus", 8},
       {"nodes", 2},
       {"gpu_model", nullptr},
       {"node", nullptr},
       {"reason", "InsufficientFunds"}},
      {{"id", 9},
       {"partition", "gpu"},
       {"project", "nlp"},
       {"name", "done"},
       {"user", "carol"},
       {"state", "COMPLETED"},
       {"gpus", 16},
       {"nodes", 2},
       {"node", "n1"},
       {"node_list", {"n1", "n2"}},
       {"runtime_s", 3723.9}},
  });
  EXPECT_EQ(
      render_jobs(jobs, now),
      "JOBID  PARTITION  PROJECT  NAME   USER   ST     TIME  NODES    GPUS  NODELIST(REASON)\n"
      "   12  gpu        vision   train  alice  R      1:05      1  H100:2  local\n"
      "   13  long       vision   eval   bob    PD     0:00      2       8  (InsufficientFunds)\n"
      "    9  gpu        nlp      done   carol  CD  1:02:03      2      16  n1,n2\n");
}

TEST(RenderJobs, ArrayTasksShowAsArrayIdUnderscoreIndex) {
  const json jobs = json::array({
      {{"id", 20},
       {"project", "p"},
       {"name", "sweep"},
       {"user", "u"},
       {"state", "RUNNING"},
       {"gpus", 1},
       {"node", "local"},
       {"runtime_s", 5},
       {"array_id", 20},
       {"array_index", 0}},
      {{"id", 29},
       {"project", "p"},
       {"name", "sweep"},
       {"user", "u"},
       {"state", "PENDING"},
       {"gpus", 1},
       {"reason", "JobArrayTaskLimit"},
       {"array_id", 20},
       {"array_index", 90}},
      {{"id", 30},
       {"project", "p"},
       {"name", "solo"},
       {"user", "u"},
       {"state", "PENDING"},
       {"gpus", 1},
       {"reason", "DependencyNeverSatisfied"},
       {"array_id", nullptr},
       {"array_index", nullptr}},
      {{"id", 31},
       {"project", "p"},
       {"name", "old"},
       {"user", "u"},
       {"state", "PENDING"},
       {"gpus", 1},
       {"reason", "JobHeldUser"}},  // an older server: no array fields
  });
  EXPECT_EQ(
      render_jobs(jobs, 0),
      "JOBID  PARTITION  PROJECT  NAME   USER  ST  TIME  NODES  GPUS  NODELIST(REASON)\n"
      " 20_0  -          p        sweep  u     R   0:05      -     1  local\n"
      "20_90  -          p        sweep  u     PD  0:00      -     1  (JobArrayTaskLimit)\n"
      "   30  -          p        solo   u     PD  0:00      -     1  (DependencyNeverSatisfied)\n"
      "   31  -          p        old    u     PD  0:00      -     1  (JobHeldUser)\n");
}

TEST(RenderJobs, EmptyListIsJustTheHeader) {
  EXPECT_EQ(render_jobs(json::array(), 0),
            "JOBID  PARTITION  PROJECT  NAME  USER  ST  TIME  NODES  GPUS  NODELIST(REASON)\n");
}

TEST(RenderFields, NamedKeysFirstThenTheRest) {
  const json obj = {{"zeta", 1}, {"id", 5}, {"alpha", "a"}, {"name", "n"}};
  EXPECT_EQ(render_fields(obj, {"id", "name", "absent"}),
            "id:    5\n"
            "name:  n\n"
            "alpha: a\n"
            "zeta:  1\n");
}

TEST(RenderBalances, WalletAndAwardTables) {
  const json balance = {{"project_id", 1},
                        {"project", "vision"},
                        {"wallet",
                         {{"balance", "1000.0000"},
                          {"held", "30.0000"},
                          {"available", "970.0000"},
                          {"credit_limit", "500.0000"},
                          {"spendable", "1470.0000"}}},
                        {"awards",
                         {{{"id", 1},
                           {"scheme", "ai-subsidy"},
                           {"rate_bps", 7000},
                           {"gpu_level", 8},
                           {"start", "2026-01-01T00:00:00Z"},
                           {"end", "2027-01-01T00:00:00Z"},
                           {"granted", "200000.0000"},
                           {"held", "70.0000"},
                           {"spent", "7.0000"},
                           {"refunded", "3.0000"},
                           {"left", "199923.0000"},
                           {"spent_per_day", "12.5000"},
                           {"run_out", "runs_out"},
                           {"runs_out_at", "2026-08-09T10:11:12Z"}}}}};
  EXPECT_EQ(render_balances({balance}, "HK$"),
            "PROJECT       BALANCE       HELD   AVAILABLE  CREDIT_LIMIT     SPENDABLE\n"
            "vision   HK$ 1,000.00  HK$ 30.00  HK$ 970.00    HK$ 500.00  HK$ 1,470.00\n"
            "\n"
            "PROJECT  AWARD  SCHEME      RATE  GPUS  START       END                GRANTED       "
            "HELD     SPENT  REFUNDED"
            "            LEFT    PER_DAY  RUNS_OUT\n"
            "vision       1  ai-subsidy   70%     8  2026-01-01  2027-01-01  HK$ 200,000.00  HK$ "
            "70.00  HK$ 7.00  HK$ 3.00"
            "  HK$ 199,923.00  HK$ 12.50  2026-08-09\n");
}

TEST(RenderBalances, SaysWhyAnAwardHasNoRunOutDate) {
  auto with = [](const char* run_out) {
    return json{{"project", "p"}, {"awards", {{{"id", 1}, {"run_out", run_out}}}}};
  };
  EXPECT_NE(render_balances({with("ends_first")}, "").find("ends before running out"),
            std::string::npos);
  EXPECT_NE(render_balances({with("no_spending")}, "").find("no spending"), std::string::npos);
  EXPECT_NE(render_balances({with("exhausted")}, "").find("exhausted"), std::string::npos);
  // An older server sends no estimate: the column shows "-".
  const std::string old = render_balances({json{{"project", "p"}, {"awards", {{{"id", 1}}}}}}, "");
  EXPECT_NE(old.find("RUNS_OUT"), std::string::npos);
}

TEST(RenderStatement, BalancesJobsTopUpsAndHolds) {
  const json st = {
      {"number", "ST-0001-2026-11"},
      {"project", "vision"},
      {"org", "hku"},
      {"currency", "HKD"},
      {"from", "2026-11-01T00:00:00Z"},
      {"to", "2026-12-01T00:00:00Z"},
      {"opening_balance", "928.0000"},
      {"closing_balance", "1293.0000"},
      {"held_at_close", "180.0000"},
      {"totals",
       {{"jobs", 1},
        {"gpu_hours", "5.0000"},
        {"cost", "150.0000"},
        {"subsidy", "105.0000"},
        {"copay", "45.0000"},
        {"topups", "500.0000"},
        {"other_credits", "0.0000"},
        {"other_debits", "0.0000"}}},
      {"jobs",
       {{{"job_id", 2},
         {"run", 1},
         {"name", "B"},
         {"user", "alice"},
         {"state", "COMPLETED"},
         {"gpus", 1},
         {"start", "2026-10-31T22:00:00Z"},
         {"end", "2026-11-01T03:00:00Z"},
         {"gpu_hours", "5.0000"},
         {"cost", "150.0000"},
         {"subsidy", "105.0000"},
         {"copay", "45.0000"},
         {"award_id", 1},
         {"award_scheme", "ai-subsidy"}}}},
      {"topups",
       {{{"time", "2026-11-05T12:00:00Z"}, {"reference", "INV-2"}, {"amount", "500.0000"}}}},
      {"other", json::array()},
      {"held",
       {{{"job_id", 4},
         {"run", 0},
         {"name", "D"},
         {"gpus", 2},
         {"start", "2026-11-30T20:00:00Z"},
         {"copay_held", "180.0000"},
         {"subsidy_held", "420.0000"}}}}};
  const std::string text = render_statement(st, "HK$");
  // November's statement runs to its last day, not the first of December.
  EXPECT_EQ(
      text.rfind("Statement ST-0001-2026-11 of vision (hku) for 2026-11-01 to 2026-11-30, in HKD\n",
                 0),
      0u)
      << text;
  EXPECT_NE(text.find("opening balance    HK$ 928.00\n"), std::string::npos) << text;
  EXPECT_NE(text.find("closing balance  HK$ 1,293.00\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  2.1  B     alice  COMPLETED"), std::string::npos) << text;
  EXPECT_NE(text.find("HK$ 150.00  HK$ 105.00  HK$ 45.00  1 (ai-subsidy)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("INV-2"), std::string::npos) << text;
  EXPECT_EQ(text.find("Other movements"), std::string::npos) << text;
  EXPECT_NE(text.find("Running at the close"), std::string::npos) << text;
  EXPECT_NE(render_statement(json::object(), "").find("No jobs charged."), std::string::npos);
}

TEST(RenderSchemeReport, FiguresAndShare) {
  const json r = {{"scheme", "ai-subsidy"},
                  {"rate_bps", 7000},
                  {"as_of", "2026-12-01T02:00:00Z"},
                  {"currency", "HKD"},
                  {"funded", "1000000.0000"},
                  {"spent", "735.0000"},
                  {"refunded", "12.0000"},
                  {"awards", {{"total", 2}, {"active", 2}, {"expired", 0}, {"upcoming", 0}}},
                  {"organisations", {{"awarded", 1}, {"subsidised", 1}}},
                  {"capacity",
                   {{"share_bps", 29},
                    {"gpu_hours", "11728.0000"},
                    {"from", "2026-10-01T00:00:00Z"},
                    {"to", "2026-12-01T02:00:00Z"}}}};
  const std::string text = render_scheme_report(r, "HK$");
  EXPECT_EQ(text.rfind("Scheme ai-subsidy (70%), as of 2026-12-01T02:00:00Z, in HKD\n", 0), 0u)
      << text;
  EXPECT_NE(text.find("funded                                HK$ 1,000,000.00"), std::string::npos)
      << text;
  EXPECT_NE(text.find("spent (subsidy paid, net of refunds)  HK$ 735.00"), std::string::npos)
      << text;
  EXPECT_NE(text.find("subsidy refunded                      HK$ 12.00"), std::string::npos)
      << text;
  EXPECT_NE(text.find("2 (2 active, 0 expired, 0 upcoming)"), std::string::npos) << text;
  EXPECT_NE(text.find("0.29% of 11728.0000 GPU-hours from 2026-10-01 to 2026-12-01T02:00:00Z"),
            std::string::npos)
      << text;
  EXPECT_NE(render_scheme_report(json::object(), "").find("share of capacity"), std::string::npos);
}

TEST(RenderBalances, NoAwards) {
  const json balance = {
      {"project", "p"}, {"wallet", {{"balance", "0.0000"}}}, {"awards", json::array()}};
  const std::string text = render_balances({balance}, "HK$");
  EXPECT_NE(text.find("No awards."), std::string::npos);
  EXPECT_NE(text.find("p        HK$ 0.00     -          -"), std::string::npos) << text;
}

TEST(RenderQuote, ShowsAffordabilityAndReason) {
  const json quote = {{"max_cost", "200.0000"}, {"subsidy", "140.0000"},
                      {"copay", "60.0000"},     {"rate_bps", 7000},
                      {"award_id", 1},          {"price_per_gpu_hour", "100.0000"},
                      {"affordable", false},    {"reason", "InsufficientFunds"}};
  const std::string text = render_quote(quote, "HK$");
  EXPECT_NE(text.find("max cost            HK$ 200.00"), std::string::npos) << text;
  EXPECT_NE(text.find("price per GPU-hour  HK$ 100.00"), std::string::npos) << text;
  EXPECT_NE(text.find("rate                70%"), std::string::npos) << text;
  EXPECT_NE(text.find("affordable          no (InsufficientFunds)"), std::string::npos) << text;
  EXPECT_EQ(text.find("FIELD"), std::string::npos);
}

TEST(RenderListings, OrgsShowTheRegistrationNumberJurisdictionAndContact) {
  const json orgs = json::array({{{"id", 1},
                                  {"name", "hku"},
                                  {"kind", "university"},
                                  {"registration_number", "HKU-1911"},
                                  {"jurisdiction", "Hong Kong"},
                                  {"contact_name", "Ann Lee"},
                                  {"contact_email", "ann@hku.hk"}},
                                 {{"id", 2},
                                  {"name", "acme"},
                                  {"kind", "startup"},
                                  {"registration_number", ""},
                                  {"jurisdiction", ""},
                                  {"contact_name", ""},
                                  {"contact_email", "ops@acme.hk"}}});
  EXPECT_EQ(render_orgs(orgs),
            "ID  NAME  KIND        REG_NUMBER  JURISDICTION  CONTACT\n"
            " 1  hku   university  HKU-1911    Hong Kong     Ann Lee <ann@hku.hk>\n"
            " 2  acme  startup     -           -             ops@acme.hk\n");
}

TEST(RenderListings, ToleratesMissingFields) {
  EXPECT_EQ(render_orgs(json::array({{{"id", 1}, {"name", "hku"}}})),
            "ID  NAME  KIND  REG_NUMBER  JURISDICTION  CONTACT\n"
            " 1  hku   -     -           -             -\n");
  const std::string awards = render_awards(json::array({{{"id", 3}, {"amount", "5.0000"}}}), "HK$");
  EXPECT_NE(awards.find("HK$ 5.00"), std::string::npos) << awards;
  EXPECT_NE(
      render_schemes(
          json::array({{{"name", "s"}, {"rate_bps", 9000}, {"eligible_kinds", {"startup"}}}}), "")
          .find("90%  startup"),
      std::string::npos);
  EXPECT_NE(render_nodes(json::array({{{"name", "local"}, {"jobs", {12, 13}}}}), 0).find("12,13"),
            std::string::npos);
  EXPECT_NE(render_transfers(json::array({{{"id", 4}, {"debit", 6}, {"flags", {"pending"}}}}), "")
                .find("account 6"),
            std::string::npos);
}

TEST(Items, FindsTheArrayOrNothing) {
  EXPECT_EQ(items(json{{"jobs", {1, 2}}}, "jobs").size(), 2u);
  EXPECT_TRUE(items(json{{"jobs", nullptr}}, "jobs").empty());
  EXPECT_TRUE(items(json::array(), "jobs").empty());
}

}  // namespace
}  // namespace berth::cli

namespace berth::cli {
namespace {

TEST(RenderApplications, OneRowEachWithWhatWasGranted) {
  const json apps = json::array({{{"id", 1},
                                  {"scheme", "ai"},
                                  {"project", "vision"},
                                  {"state", "approved"},
                                  {"amount", "300.0000"},
                                  {"gpu_level", 8},
                                  {"duration_days", 180},
                                  {"score", "76.0000"},
                                  {"approved_amount", "250.0000"},
                                  {"award_id", 4}},
                                 {{"id", 2},
                                  {"scheme", "ai"},
                                  {"project", "nlp"},
                                  {"state", "draft"},
                                  {"amount", "10.0000"},
                                  {"gpu_level", 1},
                                  {"duration_days", 7},
                                  {"score", "0.0000"},
                                  {"award_id", nullptr}}});
  EXPECT_EQ(render_applications(apps, ""),
            "ID  SCHEME  PROJECT  STATE     AMOUNT  GPUS  DAYS    SCORE  GRANTED  AWARD\n"
            " 1  ai      vision   approved  300.00     8   180  76.0000   250.00      4\n"
            " 2  ai      nlp      draft      10.00     1     7   0.0000        -      -\n");
}

TEST(RenderApplication, FieldsThenReviewsThenHistory) {
  const json app = {{"id", 1},
                    {"state", "submitted"},
                    {"amount", "300.0000"},
                    {"reviews",
                     {{{"reviewer", "rita"},
                       {"score", "76.0000"},
                       {"scores", {{"impact", 80}, {"plan", 70}}},
                       {"comment", "strong"}}}},
                    {"history",
                     {{{"seq", 1},
                       {"at", "2026-01-01T00:00:00Z"},
                       {"user", "alice"},
                       {"action", "drafted"},
                       {"note", "asked 300.0000"}}}}};
  const std::string text = render_application(app);
  EXPECT_EQ(text.find("id:"), 0u) << text;
  const size_t reviews = text.find("Reviews\nREVIEWER");
  const size_t history = text.find("History\nSEQ");
  ASSERT_NE(reviews, std::string::npos) << text;
  ASSERT_NE(history, std::string::npos) << text;
  EXPECT_LT(reviews, history);
  EXPECT_NE(text.find("impact=80 plan=70"), std::string::npos) << text;
  EXPECT_NE(text.find("alice"), std::string::npos) << text;
}

TEST(MoneyCell, AmountsReadLikeAnInvoice) {
  const json t = {{"amount", "200000.0000"}, {"debit", "-3.5000"}, {"note", "n/a"}, {"count", 3}};
  EXPECT_EQ(money_cell(t, "amount", "HK$"), "HK$ 200,000.00");
  EXPECT_EQ(money_cell(t, "debit", "HK$"), "-HK$ 3.50");
  EXPECT_EQ(money_cell(t, "amount", ""), "200,000.00");
  EXPECT_EQ(money_cell(t, "note", "HK$"), "n/a");  // not an amount: shown as it is
  EXPECT_EQ(money_cell(t, "count", "HK$"), "3");
  EXPECT_EQ(money_cell(t, "absent", "HK$"), "-");
}

TEST(FormatDuration, SecondsForPeople) {
  EXPECT_EQ(format_human_duration(json(45)), "45s");
  EXPECT_EQ(format_human_duration(json(200)), "3m 20s");
  EXPECT_EQ(format_human_duration(json(12'000)), "3h 20m");
  EXPECT_EQ(format_human_duration(json(3600)), "1h");
  EXPECT_EQ(format_human_duration(json(187'200)), "2d 4h");
  EXPECT_EQ(format_human_duration(json(172'800)), "2d");
  EXPECT_EQ(format_human_duration(json(12.4)), "12s");
  EXPECT_EQ(format_human_duration(json(0)), "0s");
  EXPECT_EQ(format_human_duration(json("soon")), "-");
  EXPECT_EQ(format_human_duration(json(-5)), "-");
}

TEST(RenderTransfers, NamesAccountsAndGivesOneStatePerRow) {
  const json transfers = json::array({{{"id", 11},
                                       {"time", "2026-03-01T10:00:00Z"},
                                       {"debit", 4},
                                       {"debit_name", "wallet of vision"},
                                       {"credit", 3},
                                       {"credit_name", "centre revenue"},
                                       {"amount", "60.0000"},
                                       {"code", "job_copay"},
                                       {"ref", 7},
                                       {"flags", {"pending"}},
                                       {"state", "posted"}},
                                      {{"id", 12},
                                       {"time", "2026-03-01T11:00:00Z"},
                                       {"debit", 4},
                                       {"debit_name", "wallet of vision"},
                                       {"credit", 3},
                                       {"credit_name", "centre revenue"},
                                       {"amount", "45.0000"},
                                       {"code", "job_copay"},
                                       {"ref", 7},
                                       {"flags", {"post_pending"}},
                                       {"pending_id", 11}},
                                      {{"id", 13},
                                       {"time", "2026-03-01T12:00:00Z"},
                                       {"debit", 2},
                                       {"debit_name", "external payments"},
                                       {"credit", 4},
                                       {"credit_name", "wallet of vision"},
                                       {"amount", "200000.0000"},
                                       {"code", "topup"},
                                       {"ref", 1},
                                       {"flags", json::array()}}});
  EXPECT_EQ(render_transfers(transfers, "HK$"),
            "ID  TIME                  FROM               TO                        AMOUNT  CODE   "
            "    REF  STATE\n"
            "11  2026-03-01T10:00:00Z  wallet of vision   centre revenue         HK$ 60.00  "
            "job_copay  7    settled\n"
            "12  2026-03-01T11:00:00Z  wallet of vision   centre revenue         HK$ 45.00  "
            "job_copay  7    settles 11\n"
            "13  2026-03-01T12:00:00Z  external payments  wallet of vision  HK$ 200,000.00  topup  "
            "    1    posted\n");
}

TEST(TransferState, HeldSettledVoidedExpired) {
  auto hold = [](const char* state) { return json{{"flags", {"pending"}}, {"state", state}}; };
  EXPECT_EQ(transfer_state(hold("pending")), "held");
  EXPECT_EQ(transfer_state(hold("posted")), "settled");
  EXPECT_EQ(transfer_state(hold("voided")), "voided");
  EXPECT_EQ(transfer_state(hold("expired")), "expired");
  EXPECT_EQ(transfer_state(json{{"flags", {"linked", "void_pending"}}, {"pending_id", 9}}),
            "voids 9");
  EXPECT_EQ(transfer_state(json{{"flags", {"linked"}}}), "posted");
  EXPECT_EQ(transfer_state(json::object()), "posted");
}

TEST(RenderStatement, RefundsNameTheirJobAndReasonNotATransferId) {
  const json st = {{"other",
                    {{{"time", "2026-11-07T09:00:00Z"},
                      {"code", "refund"},
                      {"transfer_id", 4611686018427387917ULL},
                      {"job_id", 2},
                      {"reason", "GPU fault"},
                      {"description", "refund of job 2: GPU fault"},
                      {"amount", "12.5000"}}}}};
  const std::string text = render_statement(st, "HK$");
  EXPECT_NE(text.find("refund of job 2: GPU fault  HK$ 12.50"), std::string::npos) << text;
  EXPECT_EQ(text.find("4611686018427387917"), std::string::npos) << text;
}

TEST(RenderBalances, AwardDatesAreDaysEvenWhenAnAwardStartedMidDay) {
  const json balance = {
      {"project", "p"},
      {"awards",
       {{{"id", 1}, {"start", "2026-03-05T08:13:22Z"}, {"end", "2027-03-05T08:13:22Z"}},
        {{"id", 2}, {"start", "2026-01-01T00:00:00Z"}, {"end", "2027-01-01T00:00:00Z"}}}}};
  const std::string text = render_balances({balance}, "");
  EXPECT_NE(text.find("2026-03-05  2027-03-05"), std::string::npos) << text;
  EXPECT_EQ(text.find("T08:13"), std::string::npos) << text;
}

}  // namespace
}  // namespace berth::cli
