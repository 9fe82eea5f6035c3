// berthd's CA for its agents (server/agents/ca.h): made once with its files' modes, reused, and
// signing a node's certificate only for the node its request names.
#include "server/agents/ca.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "server/core_loop_fakes.h"
#include "server/test_csr.h"

namespace berth::server {
namespace {

using testing::certificate_request_for;
constexpr int64_t kNowS = 1'800'000'000;
constexpr int64_t kDayS = 86'400;

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr), X509_free);
  BIO_free(bio);
  return cert;
}

std::string subject_cn(X509* cert) {
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  return cn;
}

// Whether `cert` verifies against `ca` alone at kNowS, for `purpose` (X509_PURPOSE_*).
bool verifies(X509* cert, X509* ca, int purpose) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  X509_STORE_CTX_set_time(ctx, 0, static_cast<time_t>(kNowS + kDayS));
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

int mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

class NodeCaTest : public ::testing::Test {
 protected:
  std::unique_ptr<NodeCa> open(const std::string& host = "10.0.0.5") {
    auto ca = NodeCa::Open(dir(), "Test Centre", host, kNowS);
    EXPECT_TRUE(ca.ok()) << ca.status().ToString();
    return ca.ok() ? std::move(*ca) : nullptr;
  }
  std::string dir() const { return scratch_.path() + "/ca"; }

  ScratchDir scratch_;
};

TEST_F(NodeCaTest, AFreshCaKeepsItsKeysPrivateAndCertifiesTheListener) {
  const auto ca = open();
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(mode_of(dir()), 0700);
  EXPECT_EQ(mode_of(dir() + "/ca.key"), 0600);
  EXPECT_EQ(mode_of(dir() + "/server.key"), 0600);
  const X509Ptr root = parse(ca->ca_pem());
  const X509Ptr server = parse(ca->server().cert_pem);
  ASSERT_TRUE(root && server);
  EXPECT_EQ(subject_cn(root.get()), "berth CA Test Centre");
  EXPECT_EQ(subject_cn(server.get()), "berthd");
  EXPECT_TRUE(verifies(server.get(), root.get(), X509_PURPOSE_SSL_SERVER));
  EXPECT_EQ(X509_check_ip_asc(server.get(), "10.0.0.5", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ip_asc(server.get(), "10.0.0.6", 0), 1);
  // Ten years for the CA, two for the listener.
  int days = 0, secs = 0;
  ASSERT_EQ(
      ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(root.get()), X509_get0_notAfter(root.get())),
      1);
  EXPECT_EQ(days, NodeCa::kCaDays);
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(server.get()), X509_get0_notAfter(server.get()));
  EXPECT_EQ(days, NodeCa::kServerDays);
}

TEST_F(NodeCaTest, ASecondOpenReusesTheCaAndTheListenersCertificate) {
  const auto first = open();
  const auto second = open("10.9.9.9");  // the files win over a new listen host
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->ca_pem(), second->ca_pem());
  EXPECT_EQ(first->server().cert_pem, second->server().cert_pem);
  EXPECT_EQ(first->server().key_pem, second->server().key_pem);
  // A node certificate from the reopened CA verifies against the first one's certificate.
  auto cert = second->sign_node("n1", certificate_request_for("n1"), kNowS);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_TRUE(verifies(parse(*cert).get(), parse(first->ca_pem()).get(), X509_PURPOSE_SSL_CLIENT));
}

TEST_F(NodeCaTest, AKeyThatIsNotTheCertificatesIsRefusedNamingBoth) {
  ASSERT_NE(open(), nullptr);
  std::filesystem::copy_file(dir() + "/server.key", dir() + "/ca.key",
                             std::filesystem::copy_options::overwrite_existing);
  auto reopened = NodeCa::Open(dir(), "Test Centre", "10.0.0.5", kNowS);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().message(), dir() + "/ca.key is not the key of " + dir() + "/ca.crt");
}

TEST_F(NodeCaTest, ANodesCertificateNamesItForClientAuthForAYear) {
  const auto ca = open();
  ASSERT_NE(ca, nullptr);
  auto pem = ca->sign_node("gpu-node-01", certificate_request_for("gpu-node-01"), kNowS);
  ASSERT_TRUE(pem.ok()) << pem.status().ToString();
  const X509Ptr cert = parse(*pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(subject_cn(cert.get()), "gpu-node-01");
  EXPECT_TRUE(verifies(cert.get(), parse(ca->ca_pem()).get(), X509_PURPOSE_SSL_CLIENT));
  EXPECT_NE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER, 0u);
  EXPECT_EQ(X509_check_ca(cert.get()), 0) << "a node's certificate signs nothing";
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get()));
  EXPECT_EQ(days, NodeCa::kNodeDays);
}

TEST_F(NodeCaTest, ARequestForAnotherNodeOrNotARequestIsRefused) {
  const auto ca = open();
  ASSERT_NE(ca, nullptr);
  auto other = ca->sign_node("gpu-node-01", certificate_request_for("gpu-node-02"), kNowS);
  ASSERT_EQ(other.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(other.status().message(), "the csr is for 'gpu-node-02', not for node 'gpu-node-01'");
  EXPECT_EQ(ca->sign_node("n1", "not a request", kNowS).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ca->sign_node("n1", std::string(20'000, 'x'), kNowS).status().code(),
            Code::kInvalidArgument);
}

TEST_F(NodeCaTest, TheListenerGetsTheCaTheConfiguredFilesOrNothing) {
  const auto ca = open();
  ASSERT_NE(ca, nullptr);
  AgentsConfig config;
  config.listen = "127.0.0.1:0";
  auto own = listener_tls(config, ca.get());
  ASSERT_TRUE(own.ok() && own->has_value()) << own.status().ToString();
  EXPECT_EQ((*own)->ca_pem, ca->ca_pem());
  EXPECT_EQ((*own)->key_pem, ca->server().key_pem);

  config.tls = AgentsTls::kFiles;
  config.ca_file = dir() + "/ca.crt";
  config.cert_file = dir() + "/server.crt";
  config.key_file = dir() + "/server.key";
  auto files = listener_tls(config, nullptr);
  ASSERT_TRUE(files.ok() && files->has_value()) << files.status().ToString();
  EXPECT_EQ((*files)->cert_pem, ca->server().cert_pem);
  config.key_file = dir() + "/missing.key";
  EXPECT_EQ(listener_tls(config, nullptr).status().message(),
            "cannot read " + dir() + "/missing.key");

  config.tls = AgentsTls::kNone;
  auto none = listener_tls(config, nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value()) << "plaintext";
}

TEST(ListenerNamesTest, TheListenHostThenLoopbackEachOnce) {
  using V = std::vector<std::string>;
  EXPECT_EQ(listener_names("10.0.0.5", "ctl1"),
            (V{"IP:10.0.0.5", "IP:127.0.0.1", "DNS:localhost"}));
  EXPECT_EQ(listener_names("ctl1.example", "x"),
            (V{"DNS:ctl1.example", "IP:127.0.0.1", "DNS:localhost"}));
  EXPECT_EQ(listener_names("0.0.0.0", "ctl1"), (V{"DNS:ctl1", "IP:127.0.0.1", "DNS:localhost"}));
  EXPECT_EQ(listener_names("[::1]", "ctl1"), (V{"IP:::1", "IP:127.0.0.1", "DNS:localhost"}));
  EXPECT_EQ(listener_names("127.0.0.1", "ctl1"), (V{"IP:127.0.0.1", "DNS:localhost"}));
  EXPECT_EQ(listen_host("[::1]:8766"), "::1");
  EXPECT_EQ(listen_host("10.0.0.5:0"), "10.0.0.5");
}

}  // namespace
}  // namespace berth::server
