// `berth admin node-cert NAME --out DIR`: a node agent's key and certificate from berthd's CA
// ([agents] tls = "berth-ca"; src/agent/README.md §2).
//
// The key is made here and never leaves this machine: only a certificate request (CSR) for the
// node goes to berthd (POST /v1/admin/node-certs), which signs it. DIR gets node.key (0600),
// node.crt and ca.crt, and the command prints the agent's configuration lines for them.
#pragma once

#include <string>

#include "common/status.h"

namespace CLI {
class App;
}

namespace berth::cli {

class Context;

// A fresh EC P-256 key and a CSR signed by it whose common name is `node`, both PEM.
struct NodeKeyRequest {
  std::string key_pem;
  std::string csr_pem;
};
Result<NodeKeyRequest> make_node_key_request(const std::string& node);

// Adds `node-cert` under `admin`.
void add_node_cert_command(CLI::App& admin, Context& ctx);

}  // namespace berth::cli
