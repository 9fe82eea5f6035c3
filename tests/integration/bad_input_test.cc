// Bad input against a real berthd: one table of requests over every route (server/routes.h),
// each wrong in one way (types, missing fields, huge numbers, negative amounts, bad ids, unknown
// names, malformed JSON, other organisations' ids with a member's token, control characters,
// overflow). Each must get its 4xx with an error body {"error":{"code","message"}} whose message
// names the problem; after the whole table the state is what it was (the listings and the
// reconciliation), and berthd is still up.
//
// Rows that belong to other parts of berth are left out here: the HTTP front end's own answers
// (405, ?limit= parsing), tokens, and the executor's checks of a job's workdir.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "harness.h"

namespace berth::testing {
namespace {

enum class Who { kAdmin, kMemberA, kMemberB, kReviewer };

struct BadRequest {
  const char* method;
  std::string path;
  Who who;
  std::string body;
  int status;
  const char* word;  // the message must contain it (case-sensitive)
};

const std::string kEsc = "\\u001b[2J";  // ESC [ 2 J, as JSON writes it
const std::string kTooBig = "9223372036854775807";
const std::string kWayTooBig = "99999999999999999999999999";

// The state a bad request must leave alone, with the fields that move with the clock taken out.
json snapshot(const Berthd& d) {
  json out;
  for (const char* path : {"/v1/accounts", "/v1/jobs", "/v1/orgs", "/v1/projects", "/v1/schemes",
                           "/v1/awards", "/v1/applications", "/v1/transfers", "/v1/audit",
                           "/v1/nodes", "/v1/schemes/s/criteria", "/v1/awards/1/reports"}) {
    auto [status, body] = d.api("GET", path);
    EXPECT_EQ(status, 200) << path << " " << body.dump();
    out[path] = body;
  }
  for (json& j : out["/v1/jobs"]["jobs"]) {
    j.erase("priority");
    j.erase("expected_start");
  }
  return out;
}

// A job body of organisation a's with `extra` fields added.
std::string job_with(const std::string& extra) {
  return R"({"project":"pa","gpus":1,"workdir":"/tmp","script":"#!/bin/sh\ntrue\n")" +
         (extra.empty() ? "" : "," + extra) + "}";
}

std::string scheme_with(const std::string& extra) {
  return R"({"name":"s2","rate_bps":7000,"eligible_kinds":["university"])" +
         (extra.empty() ? "" : "," + extra) + "}";
}

std::string award_with(const std::string& extra) {
  return R"({"scheme":"s","project":"pa","amount":"10","gpu_level":1,"start":"2020-01-01","end":"2099-01-01")" +
         (extra.empty() ? "" : "," + extra) + "}";
}

std::string application_with(const std::string& extra) {
  return R"({"scheme":"s","project":"pa","amount":"100","gpu_level":2,"duration_days":30,"justification":"j")" +
         (extra.empty() ? "" : "," + extra) + "}";
}

class BadInputTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    make_two_orgs();
    must_succeed(*daemon, "POST", "/v1/projects/pa/topups", R"({"amount":"5000"})");
    must_succeed(*daemon, "POST", "/v1/projects/pb/topups", R"({"amount":"5000"})");
    must_succeed(*daemon, "POST", "/v1/schemes",
                 R"({"name":"s","rate_bps":7000,"eligible_kinds":["university"],"fund":"100000"})");
    must_succeed(*daemon, "POST", "/v1/awards", award_with(R"("amount":"1000","gpu_level":4)"));
    token[Who::kAdmin] = daemon->admin_token();
    token[Who::kMemberA] = make_token(*daemon, "alice", "member", "a");
    token[Who::kMemberB] = make_token(*daemon, "bob", "member", "b");
    token[Who::kReviewer] = make_token(*daemon, "rita", "reviewer");
    must_succeed(*daemon, "POST", "/v1/schemes/s/criteria",
                 R"({"criteria":[{"name":"merit","weight_bps":10000}]})", token[Who::kReviewer]);
    // Application 1, a draft of organisation a; job 1, organisation b's, held so that it stays.
    must_succeed(*daemon, "POST", "/v1/applications", application_with(""), token[Who::kMemberA]);
    const json job = {{"project", "pb"},
                      {"gpus", 1},
                      {"hold", true},
                      {"workdir", work},
                      {"script", "#!/bin/sh\ntrue\n"},
                      {"name", "theirs"}};
    must_succeed(*daemon, "POST", "/v1/jobs", job.dump(), token[Who::kMemberB]);
  }

  std::vector<BadRequest> table() const;

  std::map<Who, std::string> token;
};

std::vector<BadRequest> BadInputTest::table() const {
  using W = Who;
  const std::string long_ref(129, 'r');
  const std::string long_name(300, 'n');
  return {
      // ---- tokens (the names only; tokens themselves are another part's) ----
      {"POST", "/v1/tokens", W::kAdmin, R"({"user":"x)" + kEsc + R"(","role":"member","org":"a"})",
       400, "control characters"},
      {"POST", "/v1/tokens", W::kAdmin, R"({"user":"u","role":"god"})", 400, "role"},
      {"POST", "/v1/tokens", W::kAdmin, R"({"user":"u","role":"member","org":"nope"})", 404,
       "organisation"},
      {"POST", "/v1/tokens", W::kAdmin, R"({"user":"u","role":"member"})", 400, "'org'"},
      {"POST", "/v1/tokens", W::kAdmin, R"({"user":5})", 400, "'user'"},
      // ---- organisations ----
      {"POST", "/v1/orgs", W::kAdmin, "{}", 400, "'name' is required"},
      {"POST", "/v1/orgs", W::kAdmin, R"({"name":7})", 400, "'name' must be a string"},
      {"POST", "/v1/orgs", W::kAdmin, R"({"name":"a\u0007b"})", 400, "control characters"},
      {"POST", "/v1/orgs", W::kAdmin, R"({"name":"x\nHTTP/1.1 200 OK"})", 400,
       "control characters"},
      {"POST", "/v1/orgs", W::kAdmin, R"({"name":"new","kind":"pirate"})", 400, "kind"},
      {"POST", "/v1/orgs", W::kAdmin, R"({"name":"a"})", 409, "a"},
      {"POST", "/v1/orgs", W::kAdmin, R"({"name":"n","address":5})", 400, "'address'"},
      {"POST", "/v1/orgs", W::kMemberA, R"({"name":"x"})", 403, "admin"},
      {"POST", "/v1/orgs", W::kAdmin, "[1,2]", 400, "JSON object"},
      {"POST", "/v1/orgs", W::kAdmin, R"({"name":)", 400, "not valid JSON"},
      {"POST", "/v1/orgs", W::kAdmin, "", 400, "not valid JSON"},
      {"POST", "/v1/orgs", W::kAdmin, "name=x", 400, "not valid JSON"},
      {"POST", "/v1/orgs", W::kAdmin, "\"just a string\"", 400, "JSON object"},
      {"GET", "/v1/orgs/999", W::kAdmin, "", 404, "organisation"},
      {"GET", "/v1/orgs/b", W::kMemberA, "", 404, "organisation"},
      {"GET", "/v1/orgs/2", W::kMemberA, "", 404, "organisation"},
      {"GET", "/v1/orgs/99999999999999999999999", W::kAdmin, "", 404, "organisation"},
      {"POST", "/v1/orgs/a/update", W::kAdmin, R"({"address":[1]})", 400, "'address'"},
      {"POST", "/v1/orgs/a/update", W::kMemberA, "{}", 403, "admin"},
      {"POST", "/v1/orgs/nope/update", W::kAdmin, "{}", 404, "organisation"},
      {"POST", "/v1/orgs/a/update", W::kAdmin, R"({"note":5})", 400, "'note'"},
      // ---- projects ----
      {"POST", "/v1/projects", W::kAdmin, R"({"name":"x"})", 400, "'org'"},
      {"POST", "/v1/projects", W::kAdmin, R"({"org":"a"})", 400, "'name'"},
      {"POST", "/v1/projects", W::kAdmin, R"({"name":"x\u001b]0;title\u0007","org":"a"})", 400,
       "control characters"},
      {"POST", "/v1/projects", W::kAdmin, R"({"name":"x\u009b31m","org":"a"})", 400,
       "control characters"},
      {"POST", "/v1/projects", W::kAdmin, R"({"name":"x","org":"zz"})", 404, "organisation"},
      {"POST", "/v1/projects", W::kAdmin, R"({"name":"x","org":-1})", 404, "organisation"},
      {"POST", "/v1/projects", W::kAdmin, R"({"name":"x","org":1.5})", 404, "organisation"},
      {"POST", "/v1/projects", W::kAdmin, R"({"name":"x","org":"123456789012345678901234567890"})",
       404, "organisation"},
      {"POST", "/v1/projects", W::kAdmin, R"({"name":"pa","org":"a"})", 409, "pa"},
      {"POST", "/v1/projects", W::kMemberA, R"({"name":"x","org":"a"})", 403, "admin"},
      // ---- top-ups ----
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":"-5"})", 400, "negative"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":-5})", 400, "negative"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":"abc"})", 400, "'amount'"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":)" + kTooBig + "}", 400,
       "too large"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":"18446744073709551615"})", 400,
       "too large"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":18446744073709551615})", 400,
       "too large"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":")" + kWayTooBig + R"("})", 400,
       "too large"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":"1000000000000.0001"})", 400,
       "too large"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, "{}", 400, "'amount' is required"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":1.5})", 400, "'amount'"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":"0"})", 400, "positive"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":"0.00001"})", 400, "minor unit"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":"1e5"})", 400, "'amount'"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":true})", 400, "'amount'"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":"--5"})", 400, "'amount'"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":" 5"})", 400, "'amount'"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":"12.","reference":"r"})", 400,
       "decimal point"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA, R"({"amount":"12","reference":5})", 400,
       "'reference'"},
      {"POST", "/v1/projects/pa/topups", W::kMemberA,
       R"({"amount":"12","reference":")" + long_ref + R"("})", 400, "reference"},
      {"POST", "/v1/projects/pb/topups", W::kMemberA, R"({"amount":"1"})", 404, "project"},
      {"POST", "/v1/projects/2/topups", W::kMemberA, R"({"amount":"1"})", 404, "project"},
      {"POST", "/v1/projects/nope/topups", W::kAdmin, R"({"amount":"1"})", 404, "project"},
      {"POST", "/v1/projects/pa/topups", W::kReviewer, R"({"amount":"1"})", 403, "reviewer"},
      // ---- funding order, balance, statement ----
      {"POST", "/v1/projects/pa/funding-order", W::kMemberA, "{}", 400, "'awards'"},
      {"POST", "/v1/projects/pa/funding-order", W::kMemberA, R"({"awards":[-1]})", 400, "'awards'"},
      {"POST", "/v1/projects/pa/funding-order", W::kMemberA, R"({"awards":["1"]})", 400,
       "'awards'"},
      {"POST", "/v1/projects/pa/funding-order", W::kMemberA, R"({"awards":[999]})", 400,
       "award 999 is not an award of project pa"},
      {"POST", "/v1/projects/pa/funding-order", W::kReviewer, R"({"awards":[1]})", 403, "reviewer"},
      {"POST", "/v1/projects/pb/funding-order", W::kMemberA, R"({"awards":[1]})", 404, "project"},
      {"GET", "/v1/projects/pb/balance", W::kMemberA, "", 404, "project"},
      {"GET", "/v1/projects/999/balance", W::kAdmin, "", 404, "project"},
      {"GET", "/v1/projects/pa/statement?month=2026-13", W::kAdmin, "", 400, "month"},
      {"GET", "/v1/projects/pa/statement?month=abc", W::kAdmin, "", 400, "month"},
      {"GET", "/v1/projects/pa/statement?format=xls", W::kAdmin, "", 400, "format"},
      {"GET", "/v1/projects/pb/statement", W::kMemberA, "", 404, "project"},
      // ---- schemes ----
      {"POST", "/v1/schemes", W::kAdmin, "{}", 400, "'name'"},
      {"POST", "/v1/schemes", W::kAdmin, R"({"name":"x"})", 400, "'rate_bps'"},
      {"POST", "/v1/schemes", W::kAdmin, R"({"name":"x","rate_bps":"70"})", 400, "'rate_bps'"},
      {"POST", "/v1/schemes", W::kAdmin, R"({"name":"x","rate_bps":7000})", 400,
       "'eligible_kinds'"},
      {"POST", "/v1/schemes", W::kAdmin,
       R"({"name":"x","rate_bps":7000,"eligible_kinds":["pirates"]})", 400, "pirates"},
      {"POST", "/v1/schemes", W::kAdmin, R"({"name":"x","rate_bps":7000,"eligible_kinds":[1]})",
       400, "eligible_kinds"},
      {"POST", "/v1/schemes", W::kAdmin, scheme_with(R"("shortfall":"maybe")"), 400, "shortfall"},
      {"POST", "/v1/schemes", W::kAdmin, scheme_with(R"("fund":"-1")"), 400, "negative"},
      {"POST", "/v1/schemes", W::kAdmin, scheme_with(R"("fund":)" + kTooBig), 400, "too large"},
      {"POST", "/v1/schemes", W::kAdmin,
       R"({"name":"x","rate_bps":20000,"eligible_kinds":["university"]})", 400, "rate"},
      {"POST", "/v1/schemes", W::kAdmin,
       R"({"name":"x","rate_bps":-1,"eligible_kinds":["university"]})", 400, "rate"},
      {"POST", "/v1/schemes", W::kAdmin,
       R"({"name":"x","rate_bps":9223372036854775808,"eligible_kinds":[]})", 400, "too large"},
      {"POST", "/v1/schemes", W::kAdmin,
       R"({"name":"x)" + kEsc + R"(","rate_bps":7000,"eligible_kinds":["university"]})", 400,
       "control characters"},
      {"POST", "/v1/schemes", W::kAdmin, scheme_with(R"("window_open":"yesterday")"), 400,
       "'window_open'"},
      {"POST", "/v1/schemes", W::kAdmin, scheme_with(R"("window_close":5)"), 400, "'window_close'"},
      {"POST", "/v1/schemes", W::kAdmin, scheme_with(R"("award_validity_days":99999)"), 400,
       "award_validity_days"},
      {"POST", "/v1/schemes", W::kAdmin, scheme_with(R"("cap_per_project":"-1")"), 400, "negative"},
      {"POST", "/v1/schemes", W::kAdmin, scheme_with(R"("exceptional_rate_bps":"high")"), 400,
       "exceptional_rate_bps"},
      {"POST", "/v1/schemes", W::kAdmin,
       R"({"name":"s","rate_bps":7000,"eligible_kinds":["university"]})", 409, "s"},
      {"POST", "/v1/schemes", W::kMemberA, scheme_with(""), 403, "admin"},
      {"POST", "/v1/schemes/s/fund", W::kAdmin, R"({"amount":"-1"})", 400, "negative"},
      {"POST", "/v1/schemes/s/fund", W::kAdmin, R"({"amount":)" + kTooBig + "}", 400, "too large"},
      {"POST", "/v1/schemes/s/fund", W::kAdmin, "{}", 400, "'amount'"},
      {"POST", "/v1/schemes/nope/fund", W::kAdmin, R"({"amount":"1"})", 404, "scheme"},
      {"POST", "/v1/schemes/s/fund", W::kMemberA, R"({"amount":"1"})", 403, "admin"},
      {"GET", "/v1/schemes/nope/report", W::kMemberA, "", 404, "scheme"},
      {"GET", "/v1/schemes/s/report?from=xyz", W::kMemberA, "", 400, "'from'"},
      // ---- awards ----
      {"POST", "/v1/awards", W::kAdmin, "{}", 400, "'scheme'"},
      {"POST", "/v1/awards", W::kAdmin, R"({"scheme":"s","project":"pa"})", 400, "'amount'"},
      {"POST", "/v1/awards", W::kAdmin, R"({"scheme":"s","project":"pa","amount":"10"})", 400,
       "'gpu_level'"},
      {"POST", "/v1/awards", W::kAdmin,
       R"({"scheme":"s","project":"pa","amount":"10","gpu_level":0})", 400, "'gpu_level'"},
      {"POST", "/v1/awards", W::kAdmin,
       R"({"scheme":"s","project":"pa","amount":"10","gpu_level":1})", 400, "'start'"},
      {"POST", "/v1/awards", W::kAdmin, award_with(R"("start":"2026-02-30")"), 400, "'start'"},
      {"POST", "/v1/awards", W::kAdmin, award_with(R"("amount":"-10")"), 400, "negative"},
      {"POST", "/v1/awards", W::kAdmin, award_with(R"("amount":)" + kTooBig), 400, "too large"},
      {"POST", "/v1/awards", W::kAdmin, award_with(R"("gpu_level":9223372036854775808)"), 400,
       "too large"},
      {"POST", "/v1/awards", W::kAdmin, award_with(R"("report_every_months":-5)"), 400, "report"},
      {"POST", "/v1/awards", W::kAdmin,
       R"({"scheme":"nope","project":"pa","amount":"1","gpu_level":1})", 404, "scheme"},
      {"POST", "/v1/awards", W::kAdmin,
       R"({"scheme":"s","project":"nope","amount":"1","gpu_level":1})", 404, "project"},
      {"POST", "/v1/awards", W::kMemberA, award_with(""), 403, "admin"},
      {"POST", "/v1/awards/1/supplement", W::kMemberA, R"({"amount":"1"})", 403, "reviewer"},
      {"POST", "/v1/awards/999/supplement", W::kAdmin, R"({"amount":"1"})", 404, "award"},
      {"POST", "/v1/awards/abc/supplement", W::kAdmin, R"({"amount":"1"})", 400, "award id"},
      {"POST", "/v1/awards/1/supplement", W::kAdmin, R"({"amount":"-1"})", 400, "negative"},
      {"POST", "/v1/awards/1/supplement", W::kAdmin, R"({"end":"never"})", 400, "'end'"},
      {"POST", "/v1/awards/1/supplement", W::kAdmin, R"({"amount":)" + kTooBig + "}", 400,
       "too large"},
      {"POST", "/v1/awards/1/close", W::kAdmin, "{}", 400, "'reason'"},
      {"POST", "/v1/awards/999/close", W::kAdmin, R"({"reason":"x"})", 404, "award"},
      {"POST", "/v1/awards/1/close", W::kMemberB, R"({"reason":"x"})", 403, "reviewer"},
      // ---- progress reports ----
      {"GET", "/v1/awards/1/reports", W::kMemberB, "", 404, "award"},
      {"GET", "/v1/awards/1234567890123456789/reports", W::kAdmin, "", 400, "award id"},
      {"POST", "/v1/awards/1/reports", W::kMemberA, "{}", 400, "'period'"},
      {"POST", "/v1/awards/1/reports", W::kMemberA, R"({"period":0,"text":"x"})", 400, "'period'"},
      {"POST", "/v1/awards/1/reports", W::kMemberA, R"({"period":9223372036854775808,"text":"x"})",
       400, "too large"},
      {"POST", "/v1/awards/1/reports", W::kMemberA, R"({"period":1})", 400, "'text'"},
      {"POST", "/v1/awards/1/reports", W::kMemberB, R"({"period":1,"text":"x"})", 404, "award"},
      {"POST", "/v1/awards/1/reports/9999999/accept", W::kAdmin, "{}", 400, "period"},
      {"POST", "/v1/awards/1/reports/1/return", W::kAdmin, "{}", 400, "'reason'"},
      {"POST", "/v1/awards/1/reports/1/accept", W::kMemberB, "{}", 404, "award"},
      // ---- the audit record ----
      {"GET", "/v1/audit", W::kMemberA, "", 403, "audit"},
      {"GET", "/v1/audit?after=-1", W::kAdmin, "", 400, "'after'"},
      {"GET", "/v1/audit?after=abc", W::kAdmin, "", 400, "'after'"},
      {"GET", "/v1/audit?after=99999999999999999999", W::kAdmin, "", 400, "'after'"},
      // ---- criteria and applications ----
      {"POST", "/v1/schemes/s/criteria", W::kReviewer, "{}", 400, "'criteria'"},
      {"POST", "/v1/schemes/s/criteria", W::kReviewer, R"({"criteria":[1]})", 400, "criterion"},
      {"POST", "/v1/schemes/s/criteria", W::kReviewer,
       R"({"criteria":[{"name":"x)" + kEsc + R"(","weight_bps":10000}]})", 400,
       "control characters"},
      {"POST", "/v1/schemes/s/criteria", W::kReviewer,
       R"({"criteria":[{"name":"x","weight_bps":"1"}]})", 400, "'weight_bps'"},
      {"POST", "/v1/schemes/s/criteria", W::kReviewer,
       R"({"criteria":[{"name":"x","weight_bps":18446744073709551615}]})", 400, "too large"},
      {"POST", "/v1/schemes/nope/criteria", W::kReviewer, R"({"criteria":[]})", 404, "scheme"},
      {"GET", "/v1/schemes/nope/criteria", W::kMemberA, "", 404, "scheme"},
      {"POST", "/v1/applications", W::kMemberA, "{}", 400, "'scheme'"},
      {"POST", "/v1/applications", W::kMemberA, R"({"scheme":"s","project":"pb"})", 404, "project"},
      {"POST", "/v1/applications", W::kMemberA, R"({"scheme":"s","project":"pa"})", 400,
       "'amount'"},
      {"POST", "/v1/applications", W::kMemberA, application_with(R"("amount":"-1")"), 400,
       "negative"},
      {"POST", "/v1/applications", W::kMemberA, application_with(R"("amount":)" + kTooBig), 400,
       "too large"},
      {"POST", "/v1/applications", W::kMemberA, application_with(R"("gpu_level":-1)"), 400,
       "'gpu_level'"},
      {"POST", "/v1/applications", W::kMemberA, application_with(R"("duration_days":99999999)"),
       400, "'duration_days'"},
      {"POST", "/v1/applications", W::kMemberA, application_with(R"("justification":5)"), 400,
       "'justification'"},
      {"POST", "/v1/applications", W::kMemberA, R"({"scheme":"nope","project":"pa"})", 404,
       "scheme"},
      {"GET", "/v1/applications?state=bogus", W::kMemberA, "", 400, "state"},
      {"GET", "/v1/applications?scheme=nope", W::kMemberA, "", 404, "scheme"},
      {"GET", "/v1/applications/999", W::kMemberA, "", 404, "application"},
      {"GET", "/v1/applications/1", W::kMemberB, "", 404, "application"},
      {"GET", "/v1/applications/x", W::kMemberA, "", 400, "application id"},
      {"POST", "/v1/applications/1/update", W::kMemberA, R"({"gpu_level":"x"})", 400,
       "'gpu_level'"},
      {"POST", "/v1/applications/1/update", W::kMemberA, R"({"amount":"0.000001"})", 400,
       "minor unit"},
      {"POST", "/v1/applications/1/update", W::kMemberB, "{}", 404, "application"},
      {"POST", "/v1/applications/1/submit", W::kMemberB, "{}", 404, "application"},
      {"POST", "/v1/applications/1/withdraw", W::kMemberA, R"({"note":5})", 400, "'note'"},
      {"POST", "/v1/applications/1/reviews", W::kReviewer, "{}", 400, "'scores'"},
      {"POST", "/v1/applications/1/reviews", W::kReviewer, R"({"scores":{"merit":"x"}})", 400,
       "merit"},
      {"POST", "/v1/applications/1/approve", W::kReviewer, R"({"amount":"-1"})", 400, "negative"},
      {"POST", "/v1/applications/1/approve", W::kReviewer, R"({"gpu_level":-5})", 400,
       "'gpu_level'"},
      {"POST", "/v1/applications/1/approve", W::kReviewer, R"({"exceptional_rate":"yes"})", 400,
       "'exceptional_rate'"},
      {"POST", "/v1/applications/1/approve", W::kReviewer,
       R"({"report_every_months":9223372036854775808})", 400, "too large"},
      {"POST", "/v1/applications/1/reject", W::kReviewer, "{}", 400, "'reason'"},
      // ---- quotes and jobs ----
      {"POST", "/v1/quote", W::kMemberA, "{}", 400, "'project'"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa"})", 400, "'gpus'"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa","gpus":0})", 400, "'gpus'"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa","gpus":-1})", 400, "'gpus'"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa","gpus":9223372036854775808})", 400,
       "too large"},
      {"POST", "/v1/quote", W::kMemberA,
       R"({"project":"pa","gpus":1,"nodes":18446744073709551615})", 400, "too large"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa","gpus":"2"})", 400, "'gpus'"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa","gpus":1,"nodes":0})", 400, "'nodes'"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa","gpus":1,"tier":"vip"})", 400, "tier"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa","gpus":1,"time_limit_s":-1})", 400,
       "'time_limit_s'"},
      {"POST", "/v1/quote", W::kMemberA,
       R"({"project":"pa","gpus":1,"time_limit_s":)" + kTooBig + "}", 400, "time limit"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa","gpus":1,"gpu_model":"Z80"})", 400,
       "Z80"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa","gpus":1,"partition":"nope"})", 400,
       "partition"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pb","gpus":1})", 404, "project"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":-7,"gpus":1})", 404, "project"},
      {"POST", "/v1/quote", W::kReviewer, R"({"project":"pa","gpus":1})", 403, "reviewer"},
      {"POST", "/v1/quote", W::kMemberA, R"({"project":"pa","gpus":1000000})", 400,
       "GPUs per node"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("name":"x)" + kEsc + R"(")"), 400,
       "'name' must not hold control characters"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("name":"tab\there")"), 400,
       "control characters"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("name":")" + long_name + R"(")"), 400, "name"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("dependency":"afterok:1")"), 404,
       "job 1 not found"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("dependency":"afterany:1")"), 404,
       "job 1 not found"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("dependency":"afterok:999")"), 404,
       "job 999 not found"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("dependency":"afterok:x")"), 400,
       "'dependency'"},
      {"POST", "/v1/jobs", W::kMemberA,
       job_with(R"("dependency":"afterok:99999999999999999999999")"), 400, "'dependency'"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("script":"")"), 400, "'script'"},
      {"POST", "/v1/jobs", W::kMemberA, R"({"project":"pa","gpus":1,"workdir":"/tmp"})", 400,
       "'script'"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("hold":"yes")"), 400, "'hold'"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("requeue":1)"), 400, "'requeue'"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("array":"9-0")"), 400, "'array'"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("args":"x")"), 400, "'args'"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("env":{"A=B":"x"})"), 400, "'env'"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("env":{"A":1})"), 400, "'env'"},
      {"POST", "/v1/jobs", W::kMemberA, job_with(R"("project":"pb")"), 404, "project"},
      {"GET", "/v1/jobs?state=BOGUS", W::kMemberA, "", 400, "BOGUS"},
      {"GET", "/v1/jobs?project=pb", W::kMemberA, "", 404, "project"},
      {"GET", "/v1/jobs/1", W::kMemberA, "", 403, "another organisation"},
      {"GET", "/v1/jobs/abc", W::kMemberA, "", 400, "job id"},
      {"GET", "/v1/jobs/-1", W::kAdmin, "", 400, "job id"},
      {"GET", "/v1/jobs/99999", W::kAdmin, "", 404, "job 99999"},
      {"GET", "/v1/jobs/1234567890123456789012", W::kAdmin, "", 400, "job id"},
      {"POST", "/v1/jobs/1/cancel", W::kMemberA, "{}", 403, "another organisation"},
      {"POST", "/v1/jobs/999/cancel", W::kAdmin, "{}", 404, "job 999"},
      {"POST", "/v1/jobs/1/hold", W::kMemberA, "{}", 403, "another organisation"},
      {"POST", "/v1/jobs/1/release", W::kMemberA, "{}", 403, "another organisation"},
      {"POST", "/v1/jobs/999/release", W::kAdmin, "{}", 404, "job 999"},
      // ---- wallets (admin) ----
      {"POST", "/v1/projects/pa/credit-limit", W::kMemberA, R"({"limit":"1"})", 403, "admin"},
      {"POST", "/v1/projects/pa/credit-limit", W::kAdmin, R"({"limit":"-1"})", 400, "negative"},
      {"POST", "/v1/projects/pa/credit-limit", W::kAdmin, R"({"limit":)" + kTooBig + "}", 400,
       "too large"},
      {"POST", "/v1/projects/pa/credit-limit", W::kAdmin, "{}", 400, "'limit'"},
      {"POST", "/v1/projects/nope/credit-limit", W::kAdmin, R"({"limit":"1"})", 404, "project"},
      {"POST", "/v1/jobs/1/refund", W::kAdmin, "{}", 400, "'reason'"},
      {"POST", "/v1/jobs/1/refund", W::kAdmin, R"({"reason":"x","amount":"-1"})", 400, "negative"},
      {"POST", "/v1/jobs/1/refund", W::kAdmin, R"({"reason":"x","amount":)" + kTooBig + "}", 400,
       "too large"},
      {"POST", "/v1/jobs/1/refund", W::kMemberB, R"({"reason":"x"})", 403, "admin"},
      {"POST", "/v1/jobs/abc/refund", W::kAdmin, R"({"reason":"x"})", 400, "job id"},
      {"POST", "/v1/projects/pa/adjustments", W::kAdmin, R"({"amount":"5"})", 400, "'reason'"},
      {"POST", "/v1/projects/pa/adjustments", W::kAdmin, R"({"amount":"0","reason":"x"})", 400,
       "zero"},
      {"POST", "/v1/projects/pa/adjustments", W::kAdmin,
       R"({"amount":"-922337203685477.5808","reason":"x"})", 400, "too large"},
      {"POST", "/v1/projects/pa/adjustments", W::kAdmin,
       R"({"amount":)" + kTooBig + R"(,"reason":"x"})", 400, "too large"},
      {"POST", "/v1/projects/pa/adjustments", W::kAdmin,
       R"({"amount":-9223372036854775808,"reason":"x"})", 400, "too large"},
      {"POST", "/v1/projects/pa/adjustments", W::kMemberA, R"({"amount":"5","reason":"x"})", 403,
       "admin"},
      // ---- transfers, nodes, reconciliation ----
      {"GET", "/v1/transfers?account=-1", W::kAdmin, "", 400, "'account'"},
      {"GET", "/v1/transfers?job=abc", W::kAdmin, "", 400, "'job'"},
      {"GET", "/v1/transfers?job=99999999999999999999", W::kAdmin, "", 400, "'job'"},
      {"GET", "/v1/transfers", W::kMemberA, "", 403, "?job="},
      {"GET", "/v1/transfers?job=1", W::kMemberA, "", 403, "another organisation"},
      {"POST", "/v1/nodes/nope/state", W::kAdmin, R"({"state":"down"})", 404, "nope"},
      {"POST", "/v1/nodes/local/state", W::kAdmin, R"({"state":"exploded"})", 400, "exploded"},
      {"POST", "/v1/nodes/local/state", W::kAdmin, "{}", 400, "'state'"},
      {"POST", "/v1/nodes/local/state", W::kAdmin, R"({"state":"drain","reason":7})", 400,
       "'reason'"},
      {"POST", "/v1/nodes/local/state", W::kAdmin,
       R"({"state":"drain","reason":")" + std::string(2001, 'x') + R"("})", 400,
       "reason is 2001 bytes"},
      {"POST", "/v1/nodes/local/state", W::kMemberA, R"({"state":"down"})", 403, "admin"},
      {"GET", "/v1/reconcile", W::kMemberA, "", 403, "admin"},
  };
}

TEST_F(BadInputTest, EveryBadRequestIsRefusedByNameAndChangesNothing) {
  const json before = snapshot(*daemon);
  const std::vector<BadRequest> rows = table();
  EXPECT_GE(rows.size(), 150u);
  for (const BadRequest& r : rows) {
    const std::string what = std::string(r.method) + " " + r.path + " " + r.body;
    auto [status, body] = daemon->api(r.method, r.path, r.body, token.at(r.who));
    EXPECT_EQ(status, r.status) << what << " -> " << body.dump();
    ASSERT_TRUE(body.is_object() && body.contains("error")) << what << " -> " << body.dump();
    const json& error = body["error"];
    EXPECT_TRUE(error.contains("code") && error["code"].is_string())
        << what << " -> " << body.dump();
    const std::string message = error.value("message", "");
    EXPECT_NE(message.find(r.word), std::string::npos)
        << what << " -> " << body.dump() << " lacks '" << r.word << "'";
    EXPECT_EQ(message.find("bad request"), std::string::npos) << what << " -> " << body.dump();
  }
  EXPECT_EQ(snapshot(*daemon), before);
  auto [status, reconcile] = daemon->api("GET", "/v1/reconcile");
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(reconcile.value("ok", false)) << reconcile.dump();
  EXPECT_TRUE(daemon->up());
  const CliResult r = cli("reconcile");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace berth::testing
