// berth-agent's configuration: a TOML file (--config), with command-line flags over it.
//
//   node = "gpu-node-01"                 # as berthd's configuration names it (required)
//   servers = ["ctl1:8766", "ctl2:8766"] # berthd's agent addresses, tried in turn
//   address = "10.0.0.11"                # where other nodes reach this one ("" = as berthd sees
//   it) domain = "rack-a"                    # its rack or NVLink domain gpus = 8 # when NVML is
//   absent: how many GPUs, and their model gpu_model = "H100" cpus = 0 # 0: what this machine has
//   memory_mb = 0                        # 0: what this machine has
//   state_dir = "/var/lib/berth-agent"   # its book of launches (agent.db), 0700
//   ca_file = "/etc/berth/ca.crt"        # mutual TLS with berthd: all three, or none
//   cert_file = "/etc/berth/node.crt"    # (plaintext: for a laptop or a test only)
//   key_file = "/etc/berth/node.key"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth::agent {

struct AgentConfig {
  std::string node;
  std::vector<std::string> servers = {"127.0.0.1:8766"};
  std::string address;
  std::string domain;
  int gpus = 0;
  std::string gpu_model;
  int cpus = 0;
  int64_t memory_mb = 0;
  std::string state_dir = "/var/lib/berth-agent";
  // PEM files for mutual TLS (`berth admin node-cert`): the CA that signed berthd's certificate,
  // this node's certificate and its key. All empty: plaintext.
  std::string ca_file, cert_file, key_file;
  bool tls() const { return !ca_file.empty(); }
};

// Parses configuration text; `origin` names it in error messages. Does not check that `node`
// is set (a flag may set it): validate() does, once the flags are applied.
Result<AgentConfig> parse_agent_config(const std::string& toml_text, const std::string& origin);
Result<AgentConfig> load_agent_config(const std::string& path);
// Whether the configuration can run: a node name, at least one server as host:port, counts in
// range, the TLS files all three or none. The error names the setting.
Status validate(const AgentConfig& config);

}  // namespace berth::agent
