// The certificates of berthd's agent listener (mutual TLS; src/agent/README.md §2).
//
// NodeCa is the small CA berthd makes for a test or small centre ([agents] tls = "berth-ca"):
// at first start <state_dir>/ca/ (0700) gets ca.key (0600, EC P-256) and ca.crt (self-signed,
// "berth CA <centre>", 10 years), and server.key (0600) / server.crt for the listener ("berthd",
// 2 years, its subjectAltName naming the listen host, 127.0.0.1 and localhost); later starts
// reuse them. It signs a node's CSR (CN = the node, clientAuth, 1 year); the node's key never
// comes here. With tls = "files", load_tls_files reads any CA's PEM files instead.
//
// Times are given (now_unix_s), never read here. Errors name the file or what is wrong with
// the request, and change nothing on disk. Thread-safety: a NodeCa is immutable once open, so
// sign_node may run on any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"

namespace berth::server {

// PEM text for a TLS endpoint: the CA its peers must be signed by, its own certificate and key.
struct TlsFiles {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

class NodeCa {
 public:
  static constexpr int64_t kCaDays = 3650;
  static constexpr int64_t kServerDays = 730;
  static constexpr int64_t kNodeDays = 365;

  // Opens the CA in `dir`, making what is missing: the CA itself (named for `centre`), and the
  // listener's key and certificate for `listen_host` ("" or a wildcard address: this machine's
  // host name instead). Refuses a directory whose files cannot be read or written.
  static Result<std::unique_ptr<NodeCa>> Open(const std::string& dir, const std::string& centre,
                                              const std::string& listen_host, int64_t now_unix_s);
  ~NodeCa();
  NodeCa(const NodeCa&) = delete;
  NodeCa& operator=(const NodeCa&) = delete;

  // The listener's credentials: this CA, server.crt and server.key.
  const TlsFiles& server() const { return server_; }
  const std::string& ca_pem() const { return server_.ca_pem; }

  // A certificate for `node` from its CSR (PEM): CN = node, clientAuth, kNodeDays from now.
  // Invalid when the CSR does not parse, is not signed by its own key, or names another CN.
  Result<std::string> sign_node(const std::string& node, const std::string& csr_pem,
                                int64_t now_unix_s) const;

 private:
  struct Keys;
  NodeCa();
  std::unique_ptr<Keys> keys_;  // the CA's key and certificate, parsed
  TlsFiles server_;
};

// tls = "files": the three PEM files as they are (NotFound naming one that cannot be read).
Result<TlsFiles> load_tls_files(const std::string& ca_file, const std::string& cert_file,
                                const std::string& key_file);

// The listener's TLS as config.tls says: `ca`'s files (berth-ca; ca must be given), the
// configured files, or none (plaintext, with a warning in the log unless it listens on a
// loopback address).
Result<std::optional<TlsFiles>> listener_tls(const AgentsConfig& config, const NodeCa* ca);

// The host of a "host:port" listen address, without an IPv6 address's brackets.
std::string listen_host(const std::string& listen);

// The subjectAltName entries of a listener on `host`: it (as IP or DNS, unless a wildcard
// address or ""), `fallback_host` when host is a wildcard, 127.0.0.1 and localhost. Each entry
// is "IP:..." or "DNS:...", once.
std::vector<std::string> listener_names(const std::string& host, const std::string& fallback_host);

}  // namespace berth::server
