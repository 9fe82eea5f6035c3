// Organisations' registration records over a real berthd and the real CLI: registered with the
// record, read by the admin and the organisation's own members only, amended by the admin with
// the change in the audit record; bad input refused naming the field with nothing changed; and
// all of it still there after a SIGKILL and restart.
#include <gtest/gtest.h>

#include "harness.h"

namespace berth::testing {
namespace {

class OrgTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    must(
        "org create acme --kind startup --reg-number ' 71234567 ' --address '1 Science Park West "
        "Ave, Hong Kong'"
        " --contact-name 'Ann Lee' --contact-email ann@acme.hk --jurisdiction 'Hong Kong'");
    must("org create hku --kind university");
    alice = make_token(*daemon, "alice", "member", "acme");
  }
  json org(const std::string& ref) { return daemon->api("GET", "/v1/orgs/" + ref).second; }
  // A refused call: the status, and an error naming `field`.
  void expect_refused(const std::string& method, const std::string& path, const json& body,
                      int status, const std::string& field) {
    auto [st, reply] = daemon->api(method, path, body.dump());
    EXPECT_EQ(st, status) << path << " " << body.dump() << " -> " << reply.dump();
    ASSERT_TRUE(reply.contains("error")) << reply.dump();
    EXPECT_NE(reply["error"]["message"].get<std::string>().find(field), std::string::npos)
        << reply.dump();
  }

  std::string alice;
};

TEST_F(OrgTest, TheRegistrationRecordIsKeptShownAndAmendedByTheAdmin) {
  const json acme = org("acme");
  EXPECT_EQ(acme["registration_number"], "71234567");  // trimmed
  EXPECT_EQ(acme["address"], "1 Science Park West Ave, Hong Kong");
  EXPECT_EQ(acme["contact_name"], "Ann Lee");
  EXPECT_EQ(acme["contact_email"], "ann@acme.hk");
  EXPECT_EQ(acme["jurisdiction"], "Hong Kong");
  EXPECT_TRUE(acme["updated"].is_null());
  EXPECT_EQ(org("hku")["registration_number"], "");  // none recorded

  const CliResult list = cli("org list");
  ASSERT_EQ(list.exit_code, 0) << list.out;
  EXPECT_NE(list.out.find("REG_NUMBER"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("71234567"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("Ann Lee <ann@acme.hk>"), std::string::npos) << list.out;
  const CliResult show = cli("org show acme");
  ASSERT_EQ(show.exit_code, 0) << show.out;
  EXPECT_NE(show.out.find("address:             1 Science Park West Ave, Hong Kong"),
            std::string::npos)
      << show.out;

  const CliResult updated =
      cli("org update acme --contact-name 'Bo Chan' --contact-email ops@acme.hk --note 'shared "
          "mailbox'");
  ASSERT_EQ(updated.exit_code, 0) << updated.out;
  const json now = org("acme");
  EXPECT_EQ(now["contact_email"], "ops@acme.hk");
  EXPECT_EQ(now["contact_name"], "Bo Chan");
  EXPECT_EQ(now["registration_number"], "71234567");  // not given: kept
  EXPECT_FALSE(now["updated"].is_null());
  bool audited = false;
  const json audit = daemon->api("GET", "/v1/audit").second;
  for (const json& r : audit["audit"])
    if (r["action"] == "org.update") {
      audited = true;
      EXPECT_EQ(r["subject"], "org 1");
      EXPECT_NE(r["note"].get<std::string>().find("contact_email 'ann@acme.hk' -> 'ops@acme.hk'"),
                std::string::npos)
          << r.dump();
      EXPECT_NE(r["note"].get<std::string>().find("shared mailbox"), std::string::npos) << r.dump();
    }
  EXPECT_TRUE(audited) << audit.dump();
}

TEST_F(OrgTest, AMemberSeesOnlyTheirOwnOrganisationAndAmendsNothing) {
  auto [own_st, own] = daemon->api("GET", "/v1/orgs/acme", "", alice);
  EXPECT_EQ(own_st, 200);
  EXPECT_EQ(own["contact_email"], "ann@acme.hk");
  auto [other_st, other] = daemon->api("GET", "/v1/orgs/hku", "", alice);
  EXPECT_EQ(other_st, 404) << other.dump();
  const json list = daemon->api("GET", "/v1/orgs", "", alice).second;
  ASSERT_EQ(list["orgs"].size(), 1u) << list.dump();
  EXPECT_EQ(list["orgs"][0]["name"], "acme");

  auto [st, denied] =
      daemon->api("POST", "/v1/orgs/acme/update", R"({"contact_email":"me@acme.hk"})", alice);
  EXPECT_EQ(st, 403) << denied.dump();
  EXPECT_EQ(denied["error"]["code"], "permission_denied");
  const CliResult cli_denied = cli("org update acme --contact-email me@acme.hk", alice);
  EXPECT_NE(cli_denied.exit_code, 0) << cli_denied.out;
  EXPECT_NE(cli("org show hku", alice).exit_code, 0);
  EXPECT_EQ(org("acme")["contact_email"], "ann@acme.hk");
  EXPECT_EQ(daemon->api("POST", "/v1/orgs", R"({"name":"mine","kind":"startup"})", alice).first,
            403);
}

TEST_F(OrgTest, BadInputIsRefusedNamingTheFieldAndChangesNothing) {
  const json before = org("acme");
  const size_t audit_before = daemon->api("GET", "/v1/audit").second["audit"].size();
  expect_refused("POST", "/v1/orgs",
                 {{"name", "newco"}, {"kind", "startup"}, {"contact_email", "newco.hk"}}, 400,
                 "contact_email");
  expect_refused("POST", "/v1/orgs",
                 {{"name", "newco"}, {"kind", "startup"}, {"registration_number", "  "}}, 400,
                 "registration_number");
  expect_refused("POST", "/v1/orgs",
                 {{"name", "newco"}, {"kind", "startup"}, {"jurisdiction", 852}}, 400,
                 "jurisdiction");
  EXPECT_EQ(daemon->api("GET", "/v1/orgs/newco").first, 404);  // none was created
  expect_refused("POST", "/v1/orgs/acme/update", {{"address", std::string(513, 'a')}}, 400,
                 "address");
  expect_refused("POST", "/v1/orgs/acme/update",
                 {{"contact_name", "Bo"}, {"contact_email", "bo @acme.hk"}}, 400, "contact_email");
  expect_refused("POST", "/v1/orgs/acme/update", json::object(), 400, "at least one field");
  expect_refused("POST", "/v1/orgs/nosuch/update", {{"contact_name", "Bo"}}, 404, "nosuch");
  const CliResult bad_email = cli("org update acme --contact-email 'not an email'");
  EXPECT_NE(bad_email.exit_code, 0) << bad_email.out;
  EXPECT_NE(bad_email.out.find("contact_email"), std::string::npos) << bad_email.out;
  const CliResult bad_create = cli("org create newco --kind startup --contact-email nobody");
  EXPECT_NE(bad_create.exit_code, 0) << bad_create.out;
  EXPECT_EQ(org("acme"), before);
  EXPECT_EQ(daemon->api("GET", "/v1/orgs/newco").first, 404);
  EXPECT_EQ(daemon->api("GET", "/v1/audit").second["audit"].size(), audit_before);
}

TEST_F(OrgTest, TheRecordAndItsAmendmentSurviveARestart) {
  must("org update acme --address '2 Harbour Rd, Wan Chai, Hong Kong' --note moved");
  const json acme = org("acme"), hku = org("hku");
  daemon->kill_hard();
  daemon->start();
  EXPECT_EQ(org("acme"), acme);
  EXPECT_EQ(org("hku"), hku);
  EXPECT_EQ(org("acme")["address"], "2 Harbour Rd, Wan Chai, Hong Kong");
  // It goes on being amended after the restart, and the record of both amendments is kept.
  must("org update acme --jurisdiction 'Hong Kong SAR'");
  daemon->stop();
  daemon->start();
  EXPECT_EQ(org("acme")["jurisdiction"], "Hong Kong SAR");
  EXPECT_EQ(org("acme")["address"], "2 Harbour Rd, Wan Chai, Hong Kong");
  int updates = 0;
  const json audit = daemon->api("GET", "/v1/audit").second;
  for (const json& r : audit["audit"]) updates += r["action"] == "org.update" ? 1 : 0;
  EXPECT_EQ(updates, 2) << audit.dump();
  const CliResult clean = cli("reconcile");
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
}

}  // namespace
}  // namespace berth::testing
