// Who may call what: every route of a real berthd, called with no token, an unknown token, an
// admin's, a member's of the organisation that owns the objects (A), a member's of another
// organisation (B) and a reviewer's, against docs/api.md's rules:
// - no token or an unknown one: 401 (except GET /v1/health and the probes, /livez and /readyz);
// - admin: everything, except the applicant's steps of an application (draft, update, submit,
//   withdraw): an admin acts as a scheme officer, and officers apply for nothing (403);
// - a member: their own organisation only; another organisation's objects are 404 as if they
//   did not exist, except jobs by id, which are 403;
// - a reviewer: reads every organisation's funding records (schemes, awards, applications, the
//   audit record), sets criteria, reviews, approves, rejects, supplements and closes awards;
//   submits and prices no job and moves no wallet money (403); sees no organisation's projects,
//   wallets or jobs (404, jobs by id 403).
// The table has one entry per route of berthd's route table (server/routes.h), walked
// in-process, and the test fails when a route is added there without one; each route's declared
// access must agree with the entry. Requests that should succeed carry valid bodies, and each
// state-changing call that needs one gets a fresh object, so that what is checked is who may
// call, not what the body says or what an earlier call left.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "harness.h"
#include "server/routes.h"

namespace berth::testing {
namespace {

enum class Want { k2xx, k401, k403, k404, k409 };

const char* want_name(Want w) {
  switch (w) {
    case Want::k2xx:
      return "2xx";
    case Want::k401:
      return "401";
    case Want::k403:
      return "403";
    case Want::k404:
      return "404";
    case Want::k409:
      return "409";
  }
  return "?";
}

bool matches(Want w, int status) {
  return w == Want::k2xx ? status >= 200 && status < 300 : status == std::atoi(want_name(w));
}

class AuthzTest;

struct Route {
  const char* method;
  const char* pattern;  // exactly as declared in the route table (server/routes_*.cc)
  std::function<std::string(AuthzTest&)> path;  // a concrete path; may make a fresh object
  std::function<std::string(AuthzTest&)> body;  // the body of a POST (valid for a caller who may)
  Want admin, member_a, member_b, reviewer;
};

// The routes berthd serves: its route table (server/routes.h), walked in-process.
std::set<std::string> registered_routes() {
  std::set<std::string> out;
  for (const server::Route& r : server::api_routes())
    out.insert(std::string(server::method_name(r.method)) + " " + r.path);
  return out;
}

class AuthzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    work = dir + "/work";
    make_work_dir(work);
    daemon = std::make_unique<Berthd>(dir + "/state");
    daemon->start();
    must("POST", "/v1/orgs", R"({"name":"hku","kind":"university"})");
    must("POST", "/v1/orgs", R"({"name":"acme","kind":"startup"})");
    must("POST", "/v1/projects", R"({"name":"vision","org":"hku"})");
    must("POST", "/v1/projects", R"({"name":"llm","org":"acme"})");
    must(
        "POST", "/v1/schemes",
        R"({"name":"ai","rate_bps":7000,"exceptional_rate_bps":9000,"eligible_kinds":["university"],"fund":"1000000"})");
    award = std::to_string(fresh_award_id());
    must("POST", "/v1/projects/vision/topups", R"({"amount":"5000","reference":"INV-1"})");
    alice = make_token(*daemon, "alice", "member", "hku");
    bob = make_token(*daemon, "bob", "member", "acme");
    rita = make_token(*daemon, "rita", "reviewer");
    victor = make_token(*daemon, "victor", "reviewer");
    must("POST", "/v1/schemes/ai/criteria", R"({"criteria":[{"name":"merit","weight_bps":10000}]})",
         victor);
    job = fresh_job();
    application = fresh_draft();
    open_applications.clear();  // the shared draft stays a draft
    node = must("GET", "/v1/nodes")["nodes"][0].value("name", "");
  }
  void TearDown() override {
    daemon.reset();
    if (!HasFailure()) fs::remove_all(dir);
  }

 public:
  std::pair<int, json> call(const std::string& method, const std::string& path,
                            const std::string& body, const std::string& tok) {
    return daemon->api(method, path, method == "GET" ? "" : body, tok);
  }
  json must(const std::string& method, const std::string& path, const std::string& body = "{}",
            const std::string& tok = "<admin>") {
    return must_succeed(*daemon, method, path, body, tok);
  }
  std::string unique(const std::string& prefix) { return prefix + std::to_string(++counter); }

  // A second token of alice's (member of hku): its id.
  std::string fresh_token_of_alice() {
    return must("POST", "/v1/tokens", R"({"user":"alice","org":"hku","role":"member"})")
        .value("id", "");
  }
  // Fresh objects owned by organisation A (hku, project vision).
  std::string fresh_job() {
    const json b = {
        {"project", "vision"},           {"gpus", 1},      {"time_limit_s", 60}, {"hold", true},
        {"script", "#!/bin/sh\ntrue\n"}, {"workdir", work}};
    return std::to_string(must("POST", "/v1/jobs", b.dump()).value("id", 0));
  }
  uint64_t fresh_award_id() {
    return must(
               "POST", "/v1/awards",
               R"({"scheme":"ai","project":"vision","amount":"1000","gpu_level":8,"start":"2020-01-01","end":"2100-01-01"})")
        .value("id", 0);
  }
  std::string draft_body() const {
    return R"({"scheme":"ai","project":"vision","amount":"1000","gpu_level":2,"duration_days":30,"justification":"a model"})";
  }
  std::string fresh_draft() {
    const std::string id =
        std::to_string(must("POST", "/v1/applications", draft_body(), alice).value("id", 0));
    open_applications.insert(id);
    return id;
  }
  std::string fresh_submitted() {
    const std::string id = fresh_draft();
    must("POST", "/v1/applications/" + id + "/submit", "{}", alice);
    return id;
  }
  std::string fresh_reviewed() {
    const std::string id = fresh_submitted();
    must("POST", "/v1/applications/" + id + "/reviews", R"({"scores":{"merit":80}})", victor);
    return id;
  }
  // A job of vision's that ran for a second and was charged for it, made once (for refunds).
  std::string charged_job() {
    if (!charged.empty()) return charged;
    const json b = {{"project", "vision"},
                    {"gpus", 1},
                    {"time_limit_s", 60},
                    {"script", "#!/bin/sh\nsleep 1\n"},
                    {"workdir", work}};
    charged = std::to_string(must("POST", "/v1/jobs", b.dump()).value("id", 0));
    EXPECT_TRUE(eventually(
        [&] { return must("GET", "/v1/jobs/" + charged).value("state", "") == "COMPLETED"; }));
    return charged;
  }
  // An award of vision's that asks for a report every 120 months from 2020: period 1 has begun.
  std::string reporting_award() {
    return std::to_string(
        must(
            "POST", "/v1/awards",
            R"({"scheme":"ai","project":"vision","amount":"10","gpu_level":8,"start":"2020-01-01","end":"2100-01-01","report_every_months":120})")
            .value("id", 0));
  }
  // One with period 1's report submitted by alice, awaiting review.
  std::string reported_award() {
    const std::string id = reporting_award();
    must("POST", "/v1/awards/" + id + "/reports", R"({"period":1,"text":"what we did"})", alice);
    return id;
  }
  std::string fresh_scheme() {
    const json b = {{"name", unique("scheme")},
                    {"rate_bps", 5000},
                    {"eligible_kinds", {"university"}},
                    {"fund", "1000"}};
    return std::to_string(must("POST", "/v1/schemes", b.dump()).value("id", 0));
  }
  // Withdraws the applications a route left open (a project may have 32 open at once).
  void tidy() {
    for (const std::string& id : open_applications) {
      const json a = must("GET", "/v1/applications/" + id);
      if (a["state"] == "draft" || a["state"] == "submitted")
        must("POST", "/v1/applications/" + id + "/withdraw", R"({"note":"tidy"})", alice);
    }
    open_applications.clear();
  }

  std::string dir, work, alice, bob, rita, victor, job, application, award, node, charged;
  std::set<std::string> open_applications;
  int counter = 0;
  std::unique_ptr<Berthd> daemon;
};

using A = AuthzTest;

// What needs no token: health, and the probes of load balancers.
bool open_to_anyone(const std::string& path) {
  return path == "/v1/health" || path == "/livez" || path == "/readyz";
}
constexpr Want ok = Want::k2xx, denied = Want::k403, hidden = Want::k404;

std::string none(A&) { return "{}"; }
template <size_t N>
std::function<std::string(A&)> fixed(const char (&text)[N]) {
  return [s = std::string(text)](A&) { return s; };
}

// Every route, with who may call it. Columns: admin, member of A, member of B, reviewer.
const std::vector<Route>& routes() {
  static const std::vector<Route> table = {
      {"GET", "/v1/health", fixed("/v1/health"), none, ok, ok, ok, ok},
      {"GET", "/livez", fixed("/livez"), none, ok, ok, ok, ok},
      {"GET", "/readyz", fixed("/readyz"), none, ok, ok, ok, ok},
      {"GET", "/v1/admin/leader", fixed("/v1/admin/leader"), none, ok, denied, denied, denied},
      {"GET", "/v1/whoami", fixed("/v1/whoami"), none, ok, ok, ok, ok},
      // A copy of the whole database: the admin's alone.
      {"GET", "/v1/admin/backup", fixed("/v1/admin/backup"), none, ok, denied, denied, denied},
      {"POST", "/v1/tokens", fixed("/v1/tokens"),
       [](A& t) {
         return json{{"user", t.unique("u")}, {"org", "hku"}, {"role", "member"}}.dump();
       },
       ok, denied, denied, denied},
      // Everyone lists tokens: an admin all, anyone else their own. A member revokes their own
      // (another's is 404, as if it did not exist); only an admin rotates the admin token.
      {"GET", "/v1/tokens", fixed("/v1/tokens"), none, ok, ok, ok, ok},
      {"POST", "/v1/tokens/([^/]+)/revoke",
       [](A& t) { return "/v1/tokens/" + t.fresh_token_of_alice() + "/revoke"; }, none, ok, ok,
       hidden, hidden},
      {"POST", "/v1/tokens/rotate-admin", fixed("/v1/tokens/rotate-admin"), none, ok, denied,
       denied, denied},
      {"POST", "/v1/orgs", fixed("/v1/orgs"),
       [](A& t) {
         return json{{"name", t.unique("org")}, {"kind", "other"}}.dump();
       },
       ok, denied, denied, denied},
      {"GET", "/v1/orgs", fixed("/v1/orgs"), none, ok, ok, ok, ok},
      // A member reads their own organisation's record; a reviewer belongs to none (404).
      {"GET", "/v1/orgs/([^/]+)", fixed("/v1/orgs/hku"), none, ok, ok, hidden, hidden},
      // Only the admin amends a registration record.
      {"POST", "/v1/orgs/([^/]+)/update", fixed("/v1/orgs/hku/update"),
       [](A& t) {
         return json{{"contact_name", t.unique("Contact ")}}.dump();
       },
       ok, denied, denied, denied},
      {"POST", "/v1/projects", fixed("/v1/projects"),
       [](A& t) {
         return json{{"name", t.unique("project")}, {"org", "hku"}}.dump();
       },
       ok, denied, denied, denied},
      {"GET", "/v1/projects", fixed("/v1/projects"), none, ok, ok, ok, ok},
      {"POST", "/v1/projects/([^/]+)/topups", fixed("/v1/projects/vision/topups"),
       [](A& t) {
         return json{{"amount", "10"}, {"reference", t.unique("ref")}}.dump();
       },
       ok, ok, hidden, denied},
      {"GET", "/v1/projects/([^/]+)/balance", fixed("/v1/projects/vision/balance"), none, ok, ok,
       hidden, hidden},
      // A member states how their own project's awards pay; a reviewer does not.
      {"POST", "/v1/projects/([^/]+)/funding-order", fixed("/v1/projects/vision/funding-order"),
       [](A& t) {
         return json{{"awards", {std::stoull(t.award)}}}.dump();
       },
       ok, ok, hidden, denied},
      // Wallet credit, refunds and adjustments are the centre admin's alone.
      {"POST", "/v1/projects/([^/]+)/credit-limit", fixed("/v1/projects/vision/credit-limit"),
       fixed(R"({"limit":"100"})"), ok, denied, denied, denied},
      {"POST", "/v1/projects/([^/]+)/adjustments", fixed("/v1/projects/vision/adjustments"),
       fixed(R"({"amount":"-1","reason":"correction"})"), ok, denied, denied, denied},
      {"POST", "/v1/jobs/([^/]+)/refund",
       [](A& t) { return "/v1/jobs/" + t.charged_job() + "/refund"; },
       fixed(R"({"amount":"0.0001","reason":"goodwill"})"), ok, denied, denied, denied},
      {"GET", "/v1/projects/([^/]+)/statement", fixed("/v1/projects/vision/statement"), none, ok,
       ok, hidden, hidden},
      {"POST", "/v1/schemes", fixed("/v1/schemes"),
       [](A& t) {
         return json{
             {"name", t.unique("scheme")}, {"rate_bps", 5000}, {"eligible_kinds", {"university"}}}
             .dump();
       },
       ok, denied, denied, denied},
      {"POST", "/v1/schemes/([^/]+)/fund", fixed("/v1/schemes/ai/fund"),
       fixed(R"({"amount":"100"})"), ok, denied, denied, denied},
      {"GET", "/v1/schemes", fixed("/v1/schemes"), none, ok, ok, ok, ok},
      {"GET", "/v1/schemes/([^/]+)/report", fixed("/v1/schemes/ai/report"), none, ok, ok, ok, ok},
      {"POST", "/v1/awards", fixed("/v1/awards"),
       fixed(
           R"({"scheme":"ai","project":"vision","amount":"100","gpu_level":2,"start":"2020-01-01","end":"2100-01-01"})"),
       ok, denied, denied, denied},
      {"GET", "/v1/awards", fixed("/v1/awards"), none, ok, ok, ok, ok},
      {"POST", "/v1/awards/([^/]+)/supplement",
       [](A& t) { return "/v1/awards/" + t.award + "/supplement"; },
       fixed(R"({"amount":"10","note":"more work"})"), ok, denied, denied, ok},
      {"POST", "/v1/awards/([^/]+)/close",
       [](A& t) { return "/v1/awards/" + std::to_string(t.fresh_award_id()) + "/close"; },
       fixed(R"({"reason":"ended early"})"), ok, denied, denied, ok},
      {"GET", "/v1/audit", fixed("/v1/audit"), none, ok, denied, denied, ok},
      // Progress reports: the project's members submit, reviewers (and the admin) decide.
      {"GET", "/v1/awards/([^/]+)/reports",
       [](A& t) { return "/v1/awards/" + t.award + "/reports"; }, none, ok, ok, hidden, ok},
      {"POST", "/v1/awards/([^/]+)/reports",
       [](A& t) { return "/v1/awards/" + t.reporting_award() + "/reports"; },
       fixed(R"({"period":1,"text":"progress so far"})"), denied, ok, hidden, denied},
      {"POST", "/v1/awards/([^/]+)/reports/([0-9]+)/(accept|return)",
       [](A& t) { return "/v1/awards/" + t.reported_award() + "/reports/1/accept"; }, none, ok,
       denied, hidden, ok},
      {"POST", "/v1/schemes/([^/]+)/criteria",
       [](A& t) { return "/v1/schemes/" + t.fresh_scheme() + "/criteria"; },
       fixed(R"({"criteria":[{"name":"merit","weight_bps":10000}]})"), ok, denied, denied, ok},
      {"GET", "/v1/schemes/([^/]+)/criteria", fixed("/v1/schemes/ai/criteria"), none, ok, ok, ok,
       ok},
      // A reviewer is in no organisation, so vision does not exist for one (404).
      {"POST", "/v1/applications", fixed("/v1/applications"), [](A& t) { return t.draft_body(); },
       denied, ok, hidden, hidden},
      {"GET", "/v1/applications", fixed("/v1/applications"), none, ok, ok, ok, ok},
      {"GET", "/v1/applications/([^/]+)", [](A& t) { return "/v1/applications/" + t.application; },
       none, ok, ok, hidden, ok},
      {"POST", "/v1/applications/([^/]+)/update",
       [](A& t) { return "/v1/applications/" + t.application + "/update"; },
       fixed(R"({"amount":"900"})"), denied, ok, hidden, denied},
      {"POST", "/v1/applications/([^/]+)/submit",
       [](A& t) { return "/v1/applications/" + t.fresh_draft() + "/submit"; }, none, denied, ok,
       hidden, denied},
      {"POST", "/v1/applications/([^/]+)/withdraw",
       [](A& t) { return "/v1/applications/" + t.fresh_draft() + "/withdraw"; },
       fixed(R"({"note":"not now"})"), denied, ok, hidden, denied},
      {"POST", "/v1/applications/([^/]+)/reviews",
       [](A& t) { return "/v1/applications/" + t.fresh_submitted() + "/reviews"; },
       fixed(R"({"scores":{"merit":70},"comment":"fine"})"), ok, denied, hidden, ok},
      {"POST", "/v1/applications/([^/]+)/approve",
       [](A& t) { return "/v1/applications/" + t.fresh_reviewed() + "/approve"; },
       fixed(R"({"amount":"500"})"), ok, denied, hidden, ok},
      {"POST", "/v1/applications/([^/]+)/reject",
       [](A& t) { return "/v1/applications/" + t.fresh_submitted() + "/reject"; },
       fixed(R"({"reason":"out of scope"})"), ok, denied, hidden, ok},
      {"POST", "/v1/quote", fixed("/v1/quote"),
       fixed(R"({"project":"vision","gpus":1,"time_limit_s":60})"), ok, ok, hidden, denied},
      {"POST", "/v1/jobs", fixed("/v1/jobs"),
       [](A& t) {
         return json{{"project", "vision"},
                     {"gpus", 1},
                     {"time_limit_s", 60},
                     {"hold", true},
                     {"script", "#!/bin/sh\ntrue\n"},
                     {"workdir", t.work}}
             .dump();
       },
       ok, ok, hidden, denied},
      {"GET", "/v1/jobs", fixed("/v1/jobs"), none, ok, ok, ok, ok},
      {"GET", "/v1/jobs/([^/]+)", [](A& t) { return "/v1/jobs/" + t.job; }, none, ok, ok, denied,
       denied},
      {"POST", "/v1/jobs/([^/]+)/cancel",
       [](A& t) { return "/v1/jobs/" + t.fresh_job() + "/cancel"; }, none, ok, ok, denied, denied},
      {"POST", "/v1/jobs/([^/]+)/hold", [](A& t) { return "/v1/jobs/" + t.job + "/hold"; }, none,
       ok, ok, denied, denied},
      {"POST", "/v1/jobs/([^/]+)/release",
       [](A& t) { return "/v1/jobs/" + t.fresh_job() + "/release"; }, none, ok, ok, denied, denied},
      {"GET", "/v1/accounts", fixed("/v1/accounts"), none, ok, ok, ok, ok},
      // Members list the transfers of one of their jobs at a time (?job=); reviewers see no job's.
      {"GET", "/v1/transfers", [](A& t) { return "/v1/transfers?job=" + t.job; }, none, ok, ok,
       denied, denied},
      {"GET", "/v1/nodes", fixed("/v1/nodes"), none, ok, ok, ok, ok},
      {"POST", "/v1/nodes/([^/]+)/state", [](A& t) { return "/v1/nodes/" + t.node + "/state"; },
       fixed(R"({"state":"up"})"), ok, denied, denied, denied},
      {"GET", "/v1/reconcile", fixed("/v1/reconcile"), none, ok, denied, denied, denied},
      // This berthd has no agents, so no CA: the admin is told so (agents_tls_test signs).
      {"POST", "/v1/admin/node-certs", fixed("/v1/admin/node-certs"),
       fixed(R"({"node":"local","csr":"-"})"), Want::k409, denied, denied, denied},
      {"POST", "/v1/admin/node-certs/revoke", fixed("/v1/admin/node-certs/revoke"),
       fixed(R"({"node":"local"})"), Want::k409, denied, denied, denied},
      {"GET", "/v1/partitions", fixed("/v1/partitions"), none, ok, ok, ok, ok},
  };
  return table;
}

TEST(AuthzTableTest, EveryRegisteredRouteHasAnEntry) {
  std::set<std::string> in_table;
  for (const Route& r : routes())
    EXPECT_TRUE(in_table.insert(std::string(r.method) + " " + r.pattern).second)
        << "listed twice: " << r.pattern;
  const std::set<std::string> registered = registered_routes();
  for (const std::string& r : registered)
    EXPECT_TRUE(in_table.count(r)) << "no authorization entry for " << r;
  for (const std::string& r : in_table)
    EXPECT_TRUE(registered.count(r)) << "not a route of berthd: " << r;
  EXPECT_EQ(in_table.size(), registered.size());
}

// What a route declares it lets in agrees with who the table says may call it: those its
// access keeps out are refused (403) whatever they name, before the handler looks anything up.
TEST(AuthzTableTest, EachRoutesDeclaredAccessAgreesWithItsEntry) {
  for (const server::Route& declared : server::api_routes()) {
    const std::string name =
        std::string(server::method_name(declared.method)) + " " + declared.path;
    const Route* entry = nullptr;
    for (const Route& r : routes())
      if (name == std::string(r.method) + " " + r.pattern) entry = &r;
    if (entry == nullptr) continue;  // EveryRegisteredRouteHasAnEntry says so
    switch (declared.access) {
      case server::Access::kAnyone:
      case server::Access::kAuthenticated:
        break;
      case server::Access::kMember:
        EXPECT_EQ(entry->reviewer, Want::k403) << name;
        break;
      case server::Access::kFundingReader:
        EXPECT_EQ(entry->member_a, Want::k403) << name;
        EXPECT_EQ(entry->member_b, Want::k403) << name;
        break;
      case server::Access::kAdmin:
        EXPECT_EQ(entry->member_a, Want::k403) << name;
        EXPECT_EQ(entry->member_b, Want::k403) << name;
        EXPECT_EQ(entry->reviewer, Want::k403) << name;
        break;
    }
    // Only health and the probes are open to anyone.
    EXPECT_EQ(declared.access == server::Access::kAnyone, open_to_anyone(declared.path)) << name;
  }
}

TEST_F(AuthzTest, EveryRouteAnswersEachRoleAsDocumented) {
  struct Caller {
    const char* name;
    std::string token;
    Want Route::*want;  // nullptr: 401, except for health
  };
  // Those who may not call go first, so that a permitted call does not change what they meet.
  const std::vector<Caller> callers = {{"no token", "", nullptr},
                                       {"unknown token", std::string(64, 'f'), nullptr},
                                       {"member of B", bob, &Route::member_b},
                                       {"reviewer", rita, &Route::reviewer},
                                       {"member of A", alice, &Route::member_a},
                                       {"admin", "<admin>", &Route::admin}};  // as rotated
  for (const Route& r : routes()) {
    for (const Caller& c : callers) {
      const bool open = open_to_anyone(r.pattern);
      const Want want = c.want ? r.*c.want : open ? Want::k2xx : Want::k401;
      const std::string path = r.path(*this);
      const std::string body = r.body(*this);
      auto [status, reply] = call(r.method, path, body, c.token);
      EXPECT_TRUE(matches(want, status))
          << r.method << " " << path << " as " << c.name << ": want " << want_name(want) << ", got "
          << status << " " << reply.dump();
      if (!matches(Want::k2xx, status) && status != 0) {
        EXPECT_TRUE(reply.contains("error"))
            << r.method << " " << path << " as " << c.name << ": " << reply.dump();
      }
    }
    tidy();
  }
  // Whatever was refused, the books still reconcile.
  EXPECT_TRUE(must("GET", "/v1/reconcile").value("ok", false));
}

TEST_F(AuthzTest, ListsShowEachRoleOnlyWhatItMaySee) {
  auto ids = [&](const std::string& path, const std::string& key, const std::string& tok) {
    std::set<uint64_t> out;
    const json list =
        must("GET", path, "", tok);  // kept: a loop over a temporary's member would dangle
    for (const json& o : list[key]) out.insert(o.value("id", uint64_t{0}));
    return out;
  };
  const uint64_t job_id = std::stoull(job), app_id = std::stoull(application),
                 award_id = std::stoull(award);
  EXPECT_TRUE(ids("/v1/jobs", "jobs", alice).count(job_id));
  EXPECT_FALSE(ids("/v1/jobs", "jobs", bob).count(job_id));
  EXPECT_FALSE(ids("/v1/jobs", "jobs", rita).count(job_id));
  EXPECT_TRUE(ids("/v1/applications", "applications", alice).count(app_id));
  EXPECT_FALSE(ids("/v1/applications", "applications", bob).count(app_id));
  EXPECT_TRUE(ids("/v1/applications", "applications", rita).count(app_id));
  EXPECT_TRUE(ids("/v1/awards", "awards", alice).count(award_id));
  EXPECT_FALSE(ids("/v1/awards", "awards", bob).count(award_id));
  EXPECT_TRUE(ids("/v1/awards", "awards", rita).count(award_id));
  EXPECT_EQ(ids("/v1/projects", "projects", bob).size(), 1u);  // llm only
  EXPECT_EQ(ids("/v1/orgs", "orgs", bob).size(), 1u);          // acme only
  EXPECT_EQ(ids("/v1/accounts", "accounts", bob).size(), 1u);  // llm's wallet only
  EXPECT_TRUE(ids("/v1/accounts", "accounts", rita).empty());
}

}  // namespace
}  // namespace berth::testing
