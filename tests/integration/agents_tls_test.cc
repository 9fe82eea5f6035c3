// Mutual TLS between berthd and its agents, both real processes: berthd's own CA signs a node's
// certificate (`berth admin node-cert`), an agent with it registers, and agents without one or
// with another node's are refused; the signing route is the admin's, for configured nodes.
#include <sys/stat.h>

#include <ctime>
#include <fstream>

#include "common/version.h"
#include "integration/agent_cluster.h"
#include "server/agents/ca.h"
#include "server/test_csr.h"

namespace berth::testing {
namespace {

class AgentsTlsTest : public AgentsTest {
 protected:
  std::string tls() const override { return R"(tls = "berth-ca")"; }

  // `berth admin node-cert NODE --out DIR`, which must succeed; DIR.
  std::string node_cert(const std::string& node) {
    const std::string out = dir + "/certs-" + node;
    const CliResult r = cli("admin node-cert " + node + " --out " + out);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return out;
  }
  // berth-agent's flags for the files node_cert wrote to `certs`.
  static std::vector<std::string> tls_flags(const std::string& certs) {
    return {"--ca", certs + "/ca.crt", "--cert", certs + "/node.crt", "--key", certs + "/node.key"};
  }
  // Whether berth-agent's log for `node` says `text`, within the usual wait.
  bool agent_says(const std::string& node, const std::string& text) {
    return eventually([&] { return agent(node).log().find(text) != std::string::npos; });
  }
};

TEST_F(AgentsTlsTest, AnAgentWithTheCertificateBerthdsCaSignedRegisters) {
  const CliResult made = cli("admin node-cert n1 --out " + dir + "/n1");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  EXPECT_NE(made.out.find("key_file = \"" + dir + "/n1/node.key\""), std::string::npos) << made.out;
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/n1/node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(::stat((daemon->state_dir() + "/ca/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  agent("n1").start(tls_flags(dir + "/n1"));
  ASSERT_TRUE(eventually([&] { return heard("n1"); })) << agent("n1").log();
  EXPECT_EQ(node("n1")["agent_version"], kBerthVersion);
  EXPECT_EQ(node("n1")["state"], "up");

  const json audit = every_page(*daemon, "/v1/audit", "audit");
  bool audited = false;
  for (const json& r : audit["audit"])
    audited |= r.value("action", "") == "node.cert" && r.value("subject", "") == "node n1";
  EXPECT_TRUE(audited) << "the signing is in the audit record: " << audit.dump();
  // A second node-cert into the same folder keeps the key there.
  EXPECT_NE(cli("admin node-cert n1 --out " + dir + "/n1").exit_code, 0);
}

TEST_F(AgentsTlsTest, AnAgentWithoutACertificateIsNeverHeard) {
  agent("n1").start();
  ASSERT_TRUE(agent_says("n1", "if berthd requires TLS")) << agent("n1").log();
  EXPECT_NE(agent("n1").log().find("plaintext"), std::string::npos) << agent("n1").log();
  EXPECT_TRUE(agent("n1").running());
  EXPECT_FALSE(heard("n1")) << node("n1").dump();
}

TEST_F(AgentsTlsTest, AnAgentWithAnotherNodesCertificateIsRefusedSayingSo) {
  const std::string certs = node_cert("n1");
  agent("n2").start(tls_flags(certs));
  ASSERT_TRUE(agent_says("n2", "the certificate is for n1, not n2")) << agent("n2").log();
  EXPECT_FALSE(heard("n2")) << node("n2").dump();
  EXPECT_FALSE(heard("n1")) << "n1's certificate does not make its holder n1 under another name";
}

TEST_F(AgentsTlsTest, OnlyAnAdminHasACertificateSignedAndOnlyForTheNodeItNames) {
  make_two_orgs();
  const std::string member = make_token(*daemon, "alice", "member", "a");
  const auto body = [](const std::string& node, const std::string& cn) {
    return json{{"node", node}, {"csr", certificate_request_for(cn)}}.dump();
  };
  EXPECT_EQ(daemon->api("POST", "/v1/admin/node-certs", body("n1", "n1"), member).first, 403);

  auto [status, reply] = daemon->api("POST", "/v1/admin/node-certs", body("n1", "n2"));
  EXPECT_EQ(status, 400);
  EXPECT_EQ(reply["error"].value("message", ""), "the csr is for 'n2', not for node 'n1'");
  std::tie(status, reply) = daemon->api("POST", "/v1/admin/node-certs", body("n9", "n9"));
  EXPECT_EQ(status, 400);
  EXPECT_EQ(reply["error"].value("message", ""), "node 'n9' is not in berthd's configuration");

  std::tie(status, reply) = daemon->api("POST", "/v1/admin/node-certs", body("n1", "n1"));
  EXPECT_EQ(status, 201) << reply.dump();
  EXPECT_NE(reply.value("certificate", "").find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(reply.value("ca", ""), read_file(daemon->state_dir() + "/ca/ca.crt"));
}

// tls = "files": another CA's files (made here by a NodeCa of the test's own, standing for a
// centre's CA) serve berthd and its agents; berthd makes and signs nothing.
class AgentsTlsFilesTest : public AgentsTest {
 protected:
  std::string config() override {
    certs = dir + "/centre-ca";
    auto ca = server::NodeCa::Open(certs, "elsewhere", "127.0.0.1", ::time(nullptr));
    if (!ca.ok()) throw std::runtime_error(ca.status().ToString());
    const TestKeyRequest n1 = key_and_request_for("n1");
    auto cert = (*ca)->sign_node("n1", n1.csr_pem, ::time(nullptr));
    if (!cert.ok()) throw std::runtime_error(cert.status().ToString());
    std::ofstream(certs + "/n1.key") << n1.key_pem;
    std::ofstream(certs + "/n1.crt") << *cert;
    return AgentsTest::config();
  }
  std::string tls() const override {
    return "tls = \"files\"\nca_file = \"" + certs + "/ca.crt\"\ncert_file = \"" + certs +
           "/server.crt\"\nkey_file = \"" + certs + "/server.key\"";
  }
  std::string certs;
};

TEST_F(AgentsTlsFilesTest, AnyCasFilesServeBerthdAndItsAgents) {
  agent("n1").start(
      {"--ca", certs + "/ca.crt", "--cert", certs + "/n1.crt", "--key", certs + "/n1.key"});
  ASSERT_TRUE(eventually([&] { return heard("n1"); })) << agent("n1").log();
  EXPECT_FALSE(fs::exists(daemon->state_dir() + "/ca"));
  const CliResult made = cli("admin node-cert n2 --out " + dir + "/n2");
  EXPECT_NE(made.exit_code, 0);
  EXPECT_NE(made.out.find("the centre's own CA signs them"), std::string::npos) << made.out;
}

// Where berthd does not keep the CA (here tls = "none"), it signs nothing.
TEST_F(AgentsTest, BerthdSignsNoCertificateWithoutItsOwnCa) {
  auto [status, reply] =
      daemon->api("POST", "/v1/admin/node-certs",
                  json{{"node", "n1"}, {"csr", certificate_request_for("n1")}}.dump());
  EXPECT_EQ(status, 409) << reply.dump();
  EXPECT_FALSE(fs::exists(daemon->state_dir() + "/ca"));
}

// A node's key is stolen, or the node leaves: its certificates are revoked, its agent's stream
// ends and it is refused from then on, even after a berthd restart; a new certificate works.
TEST_F(AgentsTlsTest, ARevokedCertificateIsRefusedAndANewOneWorks) {
  const std::string certs = node_cert("n1");
  agent("n1").start(tls_flags(certs));
  ASSERT_TRUE(eventually([&] { return heard("n1"); })) << agent("n1").log();
  const CliResult revoked = cli("admin node-cert n1 --revoke");
  ASSERT_EQ(revoked.exit_code, 0) << revoked.out;
  EXPECT_NE(revoked.out.find("Revoked 1 certificate(s) of n1"), std::string::npos) << revoked.out;
  // Its stream ends, and its registrations are refused from then on.
  ASSERT_TRUE(agent_says("n1", "the certificate of n1 was revoked")) << agent("n1").log();
  ASSERT_TRUE(agent_says("n1", ") was revoked: berth admin node-cert n1")) << agent("n1").log();
  auto refusals = [&] {
    size_t n = 0;
    const std::string log = agent("n1").log();
    for (size_t at = log.find(") was revoked"); at != std::string::npos;
         at = log.find(") was revoked", at + 1))
      ++n;
    return n;
  };
  const size_t before = refusals();
  daemon->stop();
  daemon->start();
  agent("n1").kill_hard();  // a refused agent waits a minute: this one dials at once
  agent("n1").start(tls_flags(certs));
  EXPECT_TRUE(eventually([&] { return refusals() > before; })) << "refused after a restart too";
  EXPECT_TRUE(eventually([&] { return node("n1").value("state", "") == "down"; }))
      << node("n1").dump();
  agent("n1").kill_hard();
  agents.erase("n1");
  const std::string fresh = dir + "/certs-n1-again";
  const CliResult made = cli("admin node-cert n1 --out " + fresh);
  ASSERT_EQ(made.exit_code, 0) << made.out;
  agent("n1").start(tls_flags(fresh));
  ASSERT_TRUE(eventually([&] { return heard("n1"); })) << agent("n1").log();
  EXPECT_NE(cli("admin node-cert n9 --revoke").exit_code, 0) << "not a configured node";
  EXPECT_NE(cli("admin node-cert n1 --revoke --out x").exit_code, 0);
  const json audit = every_page(*daemon, "/v1/audit", "audit");
  bool audited = false;
  for (const json& r : audit["audit"])
    audited |= r.value("subject", "") == "node n1" &&
               r.dump().find("1 certificate(s) revoked") != std::string::npos;
  EXPECT_TRUE(audited) << audit.dump();
}

}  // namespace
}  // namespace berth::testing
