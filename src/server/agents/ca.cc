// The decisions ca.h leaves open:
// - Keys are EC P-256 and signatures SHA-256: small, fast, and what every TLS stack takes.
// - Serial numbers are 64 random bits (OpenSSL's RAND), so no counter has to be kept on disk.
// - A file is written whole (a temporary file, then rename) and keys are created 0600, so a
//   crash leaves either the old state or the new, and no key is ever readable by others.
// - Only what a node's CSR proves is taken from it: its public key, once its signature checks.
//   Its extensions are ignored; the certificate's are ours (clientAuth, not a CA).
#include "server/agents/ca.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/files.h"
#include "server/log.h"

namespace berth::server {

namespace {

constexpr int64_t kDayS = 86'400;
constexpr size_t kMaxCsrBytes = 16 * 1024;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using Request = std::unique_ptr<X509_REQ, Free>;
using Bio = std::unique_ptr<BIO, Free>;

Bio read_bio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string key_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return bio_text(bio.get());
}

std::string cert_pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bio_text(bio.get());
}

Key parse_key(const std::string& pem) {
  Bio bio = read_bio(pem);
  return Key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

Cert parse_cert(const std::string& pem) {
  Bio bio = read_bio(pem);
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Writes `text` to `path` through path.tmp, created with `mode`.
Status write_whole(const std::string& path, const std::string& text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::Internal("cannot write " + tmp);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced || ::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::Internal("cannot write " + path);
  return Status::Ok();
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// An IPv4 or IPv6 address, as opposed to a host name.
bool is_ip(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// The subject's common name; "" when it has none.
std::string common_name(X509_NAME* name) {
  const int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0) return "";
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
  if (n < 0) return "";
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return cn;
}

// What a new certificate is: its subject, key, lifetime and extensions (name, value as
// OpenSSL's configuration writes them).
struct CertSpec {
  std::string common_name;
  EVP_PKEY* public_key = nullptr;
  int64_t days = 0;
  std::vector<std::pair<int, std::string>> extensions;
};

// Makes and signs `spec` with the issuer's key; a self-signed one when `issuer` is null.
Result<Cert> issue(const CertSpec& spec, X509* issuer, EVP_PKEY* issuer_key, int64_t now_s) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);  // v3, for extensions
  uint64_t serial = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) != 1)
    return Status::Internal("no random serial number for a certificate");
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial >> 1);  // positive
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(now_s));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(now_s + spec.days * kDayS));
  X509_set_pubkey(cert.get(), spec.public_key);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : spec.extensions) {
    std::unique_ptr<X509_EXTENSION, Free> ext(
        X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
      return Status::Internal("cannot add the certificate extension " + value);
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0)
    return Status::Internal("cannot sign the certificate for " + spec.common_name);
  return cert;
}

Result<Key> new_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return Status::Internal("cannot make an EC P-256 key");
  return key;
}

// A key and certificate kept as name.key (0600) and name.crt in `dir`: loaded when both are
// there, else made with `make` and written.
struct KeyPair {
  Key key;
  Cert cert;
};
template <typename Make>
Result<KeyPair> load_or_make(const std::string& dir, const std::string& name, Make make) {
  const std::string key_path = dir + "/" + name + ".key", cert_path = dir + "/" + name + ".crt";
  if (exists(key_path) || exists(cert_path)) {
    BERTH_ASSIGN_OR_RETURN(std::string key_text, read_whole_file(key_path));
    BERTH_ASSIGN_OR_RETURN(std::string cert_text, read_whole_file(cert_path));
    KeyPair pair{parse_key(key_text), parse_cert(cert_text)};
    if (!pair.key) return Status::Invalid(key_path + " is not a PEM private key");
    if (!pair.cert) return Status::Invalid(cert_path + " is not a PEM certificate");
    if (X509_check_private_key(pair.cert.get(), pair.key.get()) != 1)
      return Status::Invalid(key_path + " is not the key of " + cert_path);
    return pair;
  }
  BERTH_ASSIGN_OR_RETURN(Key key, new_key());
  BERTH_ASSIGN_OR_RETURN(Cert cert, make(key.get()));
  BERTH_RETURN_IF_ERROR(write_whole(key_path, key_pem(key.get()), 0600));
  BERTH_RETURN_IF_ERROR(write_whole(cert_path, cert_pem(cert.get()), 0644));
  return KeyPair{std::move(key), std::move(cert)};
}

std::string joined(const std::vector<std::string>& parts) {
  std::string s;
  for (const std::string& p : parts) s += (s.empty() ? "" : ",") + p;
  return s;
}

}  // namespace

struct NodeCa::Keys {
  Key key;
  Cert cert;
};

NodeCa::NodeCa() = default;
NodeCa::~NodeCa() = default;

std::vector<std::string> listener_names(const std::string& host, const std::string& fallback_host) {
  const bool wildcard = host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
  const std::string named = wildcard ? fallback_host : host;
  std::vector<std::string> names;
  const auto add = [&names](const std::string& h) {
    if (h.empty()) return;
    std::string bare = h.size() >= 2 && h.front() == '[' ? h.substr(1, h.size() - 2) : h;
    const std::string entry = (is_ip(bare) ? "IP:" : "DNS:") + bare;
    if (std::find(names.begin(), names.end(), entry) == names.end()) names.push_back(entry);
  };
  add(named);
  add("127.0.0.1");
  add("localhost");
  return names;
}

Result<std::unique_ptr<NodeCa>> NodeCa::Open(const std::string& dir, const std::string& centre,
                                             const std::string& listen_host, int64_t now_unix_s) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::Internal("cannot make the CA's directory " + dir);
  ::chmod(dir.c_str(), 0700);
  const auto make_ca = [&](EVP_PKEY* key) {
    const CertSpec spec{"berth CA " + centre,
                        key,
                        kCaDays,
                        {{NID_basic_constraints, "critical,CA:TRUE"},
                         {NID_key_usage, "critical,keyCertSign,cRLSign"},
                         {NID_subject_key_identifier, "hash"}}};
    return issue(spec, nullptr, key, now_unix_s);
  };
  BERTH_ASSIGN_OR_RETURN(KeyPair ca, load_or_make(dir, "ca", make_ca));
  const std::string san = joined(listener_names(listen_host, host_name()));
  const auto make_server = [&](EVP_PKEY* key) {
    const CertSpec spec{"berthd",
                        key,
                        kServerDays,
                        {{NID_basic_constraints, "critical,CA:FALSE"},
                         {NID_key_usage, "critical,digitalSignature"},
                         {NID_ext_key_usage, "serverAuth"},
                         {NID_subject_alt_name, san},
                         {NID_authority_key_identifier, "keyid"}}};
    return issue(spec, ca.cert.get(), ca.key.get(), now_unix_s);
  };
  BERTH_ASSIGN_OR_RETURN(KeyPair server, load_or_make(dir, "server", make_server));
  std::unique_ptr<NodeCa> out(new NodeCa());
  out->server_ = {cert_pem(ca.cert.get()), cert_pem(server.cert.get()), key_pem(server.key.get())};
  out->keys_ = std::make_unique<Keys>(Keys{std::move(ca.key), std::move(ca.cert)});
  return out;
}

Result<std::string> NodeCa::sign_node(const std::string& node, const std::string& csr_pem,
                                      int64_t now_unix_s) const {
  if (csr_pem.size() > kMaxCsrBytes)
    return Status::Invalid("csr is longer than " + std::to_string(kMaxCsrBytes) + " bytes");
  Bio bio = read_bio(csr_pem);
  Request req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return Status::Invalid("csr is not a PEM certificate request");
  EVP_PKEY* public_key = X509_REQ_get0_pubkey(req.get());
  if (public_key == nullptr || X509_REQ_verify(req.get(), public_key) != 1)
    return Status::Invalid("csr is not signed by its own key");
  const std::string cn = common_name(X509_REQ_get_subject_name(req.get()));
  if (cn != node)
    return Status::Invalid("the csr is for '" + cn + "', not for node '" + node + "'");
  const CertSpec spec{node,
                      public_key,
                      kNodeDays,
                      {{NID_basic_constraints, "critical,CA:FALSE"},
                       {NID_key_usage, "critical,digitalSignature"},
                       {NID_ext_key_usage, "clientAuth"},
                       {NID_authority_key_identifier, "keyid"}}};
  BERTH_ASSIGN_OR_RETURN(Cert cert, issue(spec, keys_->cert.get(), keys_->key.get(), now_unix_s));
  return cert_pem(cert.get());
}

Result<TlsFiles> load_tls_files(const std::string& ca_file, const std::string& cert_file,
                                const std::string& key_file) {
  TlsFiles files;
  BERTH_ASSIGN_OR_RETURN(files.ca_pem, read_whole_file(ca_file));
  BERTH_ASSIGN_OR_RETURN(files.cert_pem, read_whole_file(cert_file));
  BERTH_ASSIGN_OR_RETURN(files.key_pem, read_whole_file(key_file));
  return files;
}

std::string listen_host(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

Result<std::optional<TlsFiles>> listener_tls(const AgentsConfig& config, const NodeCa* ca) {
  switch (config.tls) {
    case AgentsTls::kBerthCa:
      if (ca == nullptr) return Status::Internal("tls = \"berth-ca\" without berthd's CA");
      return std::optional<TlsFiles>(ca->server());
    case AgentsTls::kFiles: {
      BERTH_ASSIGN_OR_RETURN(TlsFiles files,
                             load_tls_files(config.ca_file, config.cert_file, config.key_file));
      return std::optional<TlsFiles>(std::move(files));
    }
    case AgentsTls::kNone:
      break;
  }
  const std::string host = listen_host(config.listen);
  if (host != "localhost" && host != "::1" && host.rfind("127.", 0) != 0)
    log_warning("agents connect in plaintext on " + config.listen +
                " ([agents] tls = \"none\"): anyone who reaches it can pose as a node; use "
                "tls = \"berth-ca\" or \"files\" beyond a laptop or a test");
  return std::optional<TlsFiles>();
}

}  // namespace berth::server
