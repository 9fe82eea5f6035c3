// Tokens against a real berthd: revoked and expired tokens are refused with 401 saying why, the
// admin token rotates and a lost admin.token is recovered without leaving the old one working,
// members see and revoke only their own tokens, a token's Unix user must exist; and submits with
// an Idempotency-Key are applied once, also across a restart.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <string>

#include "harness.h"

namespace berth::testing {
namespace {

class TokensTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    must_succeed(*daemon, "POST", "/v1/orgs", R"({"name":"hku","kind":"university"})");
    must_succeed(*daemon, "POST", "/v1/orgs", R"({"name":"acme","kind":"startup"})");
    must_succeed(*daemon, "POST", "/v1/projects", R"({"name":"vision","org":"hku"})");
  }
  // A new token: the reply of POST /v1/tokens (with "token" and "id").
  json token_for(const std::string& user, const std::string& org,
                 const json& more = json::object()) {
    json b = {{"user", user}, {"org", org}, {"role", "member"}};
    b.update(more);
    return must_succeed(*daemon, "POST", "/v1/tokens", b.dump());
  }
  std::pair<int, json> whoami(const std::string& token) {
    return daemon->api("GET", "/v1/whoami", "", token);
  }
  static std::string message(const json& reply) { return reply["error"].value("message", ""); }
  bool audited(const std::string& action, const std::string& subject) {
    const json audit = must_succeed(*daemon, "GET", "/v1/audit?limit=1000", "");
    for (const json& r : audit["audit"])
      if (r.value("action", "") == action && r.value("subject", "") == subject) return true;
    return false;
  }
  json job_body(const std::string& name = "held") const {
    return {{"project", "vision"}, {"name", name}, {"gpus", 1},
            {"time_limit_s", 60},  {"hold", true}, {"script", "#!/bin/sh\ntrue\n"},
            {"workdir", work}};
  }
  size_t job_count() { return must_succeed(*daemon, "GET", "/v1/jobs", "")["jobs"].size(); }
};

TEST_F(TokensTest, ARevokedTokenIsRefusedWith401SayingSo) {
  const json alice = token_for("alice", "hku");
  ASSERT_EQ(whoami(alice["token"]).first, 200);
  const json revoked =
      must_succeed(*daemon, "POST", "/v1/tokens/" + alice.value("id", "") + "/revoke", "{}");
  EXPECT_EQ(revoked.value("state", ""), "revoked");
  auto [status, reply] = whoami(alice["token"]);
  EXPECT_EQ(status, 401);
  EXPECT_NE(message(reply).find("token revoked"), std::string::npos) << reply.dump();
  EXPECT_TRUE(audited("token.revoke", "token " + alice.value("id", "")));
  // Revoking again changes nothing.
  const json again =
      must_succeed(*daemon, "POST", "/v1/tokens/" + alice.value("id", "") + "/revoke", "{}");
  EXPECT_TRUE(again.value("replayed", false));
  EXPECT_EQ(again["revoked"], revoked["revoked"]);
}

TEST_F(TokensTest, AnExpiredTokenIsRefusedWith401SayingWhen) {
  auto [past, past_reply] =
      daemon->api("POST", "/v1/tokens", R"({"user":"old","org":"hku","expires":"2020-01-01"})");
  EXPECT_EQ(past, 400) << past_reply.dump();
  EXPECT_NE(message(past_reply).find("expires"), std::string::npos) << past_reply.dump();
  auto [bad, bad_reply] =
      daemon->api("POST", "/v1/tokens", R"({"user":"old","org":"hku","expires":"soon"})");
  EXPECT_EQ(bad, 400) << bad_reply.dump();

  const json brief = token_for("brief", "hku", {{"expires", "1s"}});
  ASSERT_FALSE(brief["expires"].is_null());
  json refused;
  EXPECT_TRUE(eventually([&] {
    auto [status, reply] = whoami(brief["token"]);
    refused = reply;
    return status == 401;
  })) << refused.dump();
  EXPECT_NE(message(refused).find("token expired at " + brief.value("expires", "")),
            std::string::npos)
      << refused.dump();
  const json mine = must_succeed(*daemon, "GET", "/v1/tokens", "");
  bool listed_expired = false;
  for (const json& t : mine["tokens"])
    listed_expired |= t["id"] == brief["id"] && t["state"] == "expired";
  EXPECT_TRUE(listed_expired) << mine.dump();
}

TEST_F(TokensTest, RotatingTheAdminTokenRevokesTheOldOne) {
  const std::string old_token = daemon->admin_token();
  const CliResult r = berth_cli(*daemon, "admin rotate-token", old_token, work);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("written to " + daemon->state_dir()), std::string::npos) << r.out;
  const std::string new_token = daemon->admin_token();
  ASSERT_NE(new_token, old_token);
  EXPECT_EQ(r.out.find(new_token), std::string::npos) << "the secret is not printed";
  struct stat st;
  ASSERT_EQ(stat((daemon->state_dir() + "/admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto [status, reply] = whoami(old_token);
  EXPECT_EQ(status, 401);
  EXPECT_NE(message(reply).find("token revoked"), std::string::npos) << reply.dump();
  EXPECT_EQ(whoami(new_token).first, 200);
  const std::string new_id = whoami(new_token).second.value("token_id", "");
  EXPECT_TRUE(audited("token.rotate_admin", "token " + new_id));
  // A member may not rotate it.
  const json alice = token_for("alice", "hku");
  EXPECT_EQ(daemon->api("POST", "/v1/tokens/rotate-admin", "{}", alice["token"]).first, 403);
  EXPECT_EQ(daemon->admin_token(), new_token);
}

TEST_F(TokensTest, ALostAdminTokenIsReplacedAndTheOldOneRevoked) {
  const std::string old_token = daemon->admin_token();
  const json alice = token_for("alice", "hku");
  daemon->stop();
  daemon->start();  // admin.token still there: the same token goes on working, no new one
  EXPECT_EQ(daemon->admin_token(), old_token);
  EXPECT_EQ(must_succeed(*daemon, "GET", "/v1/tokens", "")["tokens"].size(), 2u);

  daemon->stop();
  fs::remove(daemon->state_dir() + "/admin.token");
  daemon->start();
  const std::string new_token = daemon->admin_token();
  ASSERT_FALSE(new_token.empty());
  ASSERT_NE(new_token, old_token);
  auto [status, reply] = whoami(old_token);
  EXPECT_EQ(status, 401) << "the lost token must not go on working";
  EXPECT_NE(message(reply).find("token revoked"), std::string::npos) << reply.dump();
  EXPECT_EQ(whoami(new_token).first, 200);
  EXPECT_EQ(whoami(alice["token"]).first, 200) << "members' tokens are not touched";
  const json tokens = must_succeed(*daemon, "GET", "/v1/tokens", "");
  int live_admin = 0;
  for (const json& t : tokens["tokens"])
    live_admin += t["role"] == "admin" && t["state"] == "active";
  EXPECT_EQ(live_admin, 1) << tokens.dump();
  EXPECT_TRUE(
      audited("token.recover_admin", "token " + whoami(new_token).second.value("token_id", "")));
  EXPECT_NE(read_file(daemon->state_dir() + ".log").find("revoked the old admin token"),
            std::string::npos);
}

TEST_F(TokensTest, AMemberListsAndRevokesOnlyTheirOwnTokens) {
  const json alice = token_for("alice", "hku");
  const json alice2 = token_for("alice", "hku");
  const json bob = token_for("bob", "acme");
  const json mine = must_succeed(*daemon, "GET", "/v1/tokens", "", alice["token"]);
  ASSERT_EQ(mine["tokens"].size(), 2u) << mine.dump();
  for (const json& t : mine["tokens"]) {
    EXPECT_EQ(t["user"], "alice");
    EXPECT_FALSE(t.contains("token")) << "a listing never shows a secret";
  }
  const json all = must_succeed(*daemon, "GET", "/v1/tokens", "");
  EXPECT_EQ(all["tokens"].size(), 4u);  // the admin's too
  for (const json& t : all["tokens"]) EXPECT_FALSE(t.contains("token"));

  auto [other, other_reply] =
      daemon->api("POST", "/v1/tokens/" + bob.value("id", "") + "/revoke", "{}", alice["token"]);
  EXPECT_EQ(other, 404) << other_reply.dump();
  EXPECT_EQ(whoami(bob["token"]).first, 200);
  const CliResult r =
      berth_cli(*daemon, "token revoke " + alice2.value("id", ""), alice["token"], work);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(whoami(alice2["token"]).first, 401);
  EXPECT_EQ(whoami(alice["token"]).first, 200);
}

TEST_F(TokensTest, ASystemUserIsRefusedSayingWhy) {
  const passwd* daemon_user = getpwnam("daemon");
  if (daemon_user == nullptr) GTEST_SKIP() << "no user 'daemon' on this machine";
  auto [status, reply] =
      daemon->api("POST", "/v1/tokens", R"({"user":"alice","org":"hku","unix_user":"daemon"})");
  EXPECT_EQ(status, 400) << reply.dump();
  EXPECT_EQ(message(reply), "unix_user 'daemon' is a system user (uid " +
                                std::to_string(daemon_user->pw_uid) + " < [jobs] min_uid 1000)")
      << reply.dump();
}

TEST_F(TokensTest, AUnixUserMustExistAndNotBeRoot) {
  auto [unknown, unknown_reply] = daemon->api(
      "POST", "/v1/tokens", R"({"user":"alice","org":"hku","unix_user":"no-such-user-berth"})");
  EXPECT_EQ(unknown, 400) << unknown_reply.dump();
  EXPECT_NE(message(unknown_reply).find("no-such-user-berth"), std::string::npos)
      << unknown_reply.dump();
  auto [root, root_reply] =
      daemon->api("POST", "/v1/tokens", R"({"user":"alice","org":"hku","unix_user":"root"})");
  EXPECT_EQ(root, 400) << root_reply.dump();
  EXPECT_EQ(must_succeed(*daemon, "GET", "/v1/tokens", "")["tokens"].size(), 1u)
      << "nothing was made";

  if (getpwnam("nobody") == nullptr) GTEST_SKIP() << "no user 'nobody' on this machine";
  const json alice = token_for("alice", "hku", {{"unix_user", "nobody"}});
  EXPECT_EQ(whoami(alice["token"]).second.value("unix_user", ""), "nobody");
  const json job = must_succeed(*daemon, "POST", "/v1/jobs", job_body().dump(), alice["token"]);
  // The job's launch record names the Unix user, for the executor; the body cannot choose it.
  json forged = job_body("forged");
  forged["unix_user"] = "root";
  const json second = must_succeed(*daemon, "POST", "/v1/jobs", forged.dump(), alice["token"]);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((daemon->state_dir() + "/berth.db").c_str(), &db, SQLITE_OPEN_READONLY,
                            nullptr),
            SQLITE_OK);
  for (const json& j : {job, second}) {
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT launch FROM jobs WHERE id = ?", -1, &s, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(s, 1, j.value("id", 0));
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    const json launch = json::parse(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    EXPECT_EQ(launch.value("unix_user", ""), "nobody") << launch.dump();
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
}

TEST_F(TokensTest, ASubmitRetriedWithItsKeyMakesOneJobAlsoAfterARestart) {
  const httplib::Headers key = {{"Idempotency-Key", "submit-1"}};
  auto [first, first_reply] = daemon->api("POST", "/v1/jobs", job_body().dump(), "<admin>", key);
  ASSERT_EQ(first, 201) << first_reply.dump();
  EXPECT_FALSE(first_reply.value("replayed", true));
  auto [again, again_reply] = daemon->api("POST", "/v1/jobs", job_body().dump(), "<admin>", key);
  EXPECT_EQ(again, 200) << again_reply.dump();
  EXPECT_TRUE(again_reply.value("replayed", false));
  EXPECT_EQ(again_reply["id"], first_reply["id"]);
  EXPECT_EQ(job_count(), 1u);

  auto [other, other_reply] =
      daemon->api("POST", "/v1/jobs", job_body("another").dump(), "<admin>", key);
  EXPECT_EQ(other, 409) << other_reply.dump();
  EXPECT_NE(message(other_reply).find("submit-1"), std::string::npos) << other_reply.dump();
  EXPECT_EQ(job_count(), 1u);

  daemon->kill_hard();  // the key was committed with its job: it outlives a crash
  daemon->start();
  auto [after, after_reply] = daemon->api("POST", "/v1/jobs", job_body().dump(), "<admin>", key);
  EXPECT_EQ(after, 200) << after_reply.dump();
  EXPECT_EQ(after_reply["id"], first_reply["id"]);
  EXPECT_EQ(job_count(), 1u);

  // Another user's same key is another submit.
  const json alice = token_for("alice", "hku");
  auto [hers, hers_reply] = daemon->api("POST", "/v1/jobs", job_body().dump(), alice["token"], key);
  EXPECT_EQ(hers, 201) << hers_reply.dump();
  EXPECT_NE(hers_reply["id"], first_reply["id"]);
}

TEST_F(TokensTest, ATopUpTakesItsReferenceFromTheIdempotencyKey) {
  const httplib::Headers key = {{"Idempotency-Key", "pay-77"}};
  auto [first, first_reply] =
      daemon->api("POST", "/v1/projects/vision/topups", R"({"amount":"10"})", "<admin>", key);
  ASSERT_EQ(first, 201) << first_reply.dump();
  auto [again, again_reply] =
      daemon->api("POST", "/v1/projects/vision/topups", R"({"amount":"10"})", "<admin>", key);
  EXPECT_EQ(again, 200) << again_reply.dump();
  EXPECT_TRUE(again_reply.value("replayed", false));
  EXPECT_EQ(again_reply["transfer_id"], first_reply["transfer_id"]);
  auto [differ, differ_reply] =
      daemon->api("POST", "/v1/projects/vision/topups", R"({"amount":"10","reference":"other"})",
                  "<admin>", key);
  EXPECT_EQ(differ, 400) << differ_reply.dump();
}

}  // namespace
}  // namespace berth::testing
