#include "agent/agent_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <toml.hpp>

namespace berth::agent {
namespace {

Status bad(const std::string& origin, const std::string& what) {
  return Status::Invalid("agent configuration " + origin + ": " + what);
}

// host:port with a port from 1 to 65535, or unix:/absolute/path (berthd's local agents).
bool is_host_port(const std::string& s) {
  if (s.rfind("unix:/", 0) == 0) return true;
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= s.size()) return false;
  const std::string port = s.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int p = std::stoi(port);
  return p >= 1 && p <= 65535;
}

// Sets *out from `key` when present; a value of the wrong type throws (toml::type_error).
template <typename T>
void read(const toml::value& root, const char* key, T* out) {
  if (root.contains(key)) *out = toml::find<T>(root, key);
}

}  // namespace

Result<AgentConfig> parse_agent_config(const std::string& toml_text, const std::string& origin) {
  AgentConfig c;
  try {
    std::istringstream in(toml_text);
    const toml::value root = toml::parse(in, origin);
    for (const auto& [key, value] : root.as_table()) {
      static const char* const kKnown[] = {"node",      "servers",   "address",   "domain",
                                           "gpus",      "gpu_model", "cpus",      "memory_mb",
                                           "state_dir", "ca_file",   "cert_file", "key_file"};
      if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
        return bad(origin, "unknown setting '" + key + "'");
    }
    read(root, "node", &c.node);
    read(root, "servers", &c.servers);
    read(root, "address", &c.address);
    read(root, "domain", &c.domain);
    read(root, "gpus", &c.gpus);
    read(root, "gpu_model", &c.gpu_model);
    read(root, "cpus", &c.cpus);
    read(root, "memory_mb", &c.memory_mb);
    read(root, "state_dir", &c.state_dir);
    read(root, "ca_file", &c.ca_file);
    read(root, "cert_file", &c.cert_file);
    read(root, "key_file", &c.key_file);
  } catch (const std::exception& e) {
    return bad(origin, e.what());
  }
  return c;
}

Result<AgentConfig> load_agent_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read the agent configuration " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_agent_config(text.str(), path);
}

Status validate(const AgentConfig& c) {
  const std::string origin = "(with flags)";
  if (c.node.empty())
    return bad(origin, "node must name this node, as berthd's configuration does");
  if (c.node.size() > 64) return bad(origin, "node is longer than 64 characters");
  if (c.servers.empty()) return bad(origin, "servers must list at least one berthd, host:port");
  for (const std::string& s : c.servers)
    if (!is_host_port(s))
      return bad(origin, "servers: '" + s + "' is not host:port (or unix:/path)");
  if (c.gpus < 0 || c.gpus > 64) return bad(origin, "gpus must be 0 to 64");
  if (c.cpus < 0) return bad(origin, "cpus must be 0 (this machine's) or more");
  if (c.memory_mb < 0) return bad(origin, "memory_mb must be 0 (this machine's) or more");
  if (c.state_dir.empty()) return bad(origin, "state_dir must name a directory");
  const size_t tls_files = !c.ca_file.empty() + !c.cert_file.empty() + !c.key_file.empty();
  if (tls_files != 0 && tls_files != 3)
    return bad(origin, "ca_file, cert_file and key_file go together: give all three, or none");
  return Status::Ok();
}

}  // namespace berth::agent
