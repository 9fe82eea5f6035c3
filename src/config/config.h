// berthd's configuration: one TOML file describing the centre, or the embedded default
// (this machine as one node of 8 logical GPUs, state in ./berth-state, 127.0.0.1:8765).
#pragma once

#include <cstdint>
#include <string>

#include "common/enum_names.h"
#include "common/status.h"
#include "core/cluster.h"
#include "core/priority.h"

namespace berth {

// The front end's limits ([http] in the configuration). Each deadline is a total for its phase,
// not per read: a client sending one header line every 2 s is still cut off.
struct HttpLimits {
  int workers = 64;                     // threads answering whole requests (they wait on the core)
  int64_t header_timeout_ms = 10'000;   // first byte of a request to the end of its headers
  int64_t body_timeout_ms = 10'000;     // end of the headers to the last byte of the body
  int64_t idle_timeout_ms = 30'000;     // a kept-alive connection with no request in progress
  int64_t write_timeout_ms = 10'000;    // to send a reply
  size_t max_header_bytes = 16 * 1024;  // request line and headers (beyond: 431)
  size_t max_body_bytes = 1 << 20;      // beyond: 413
  int max_requests_per_connection = 1000;  // then the reply says Connection: close
  int max_connections = 10'000;            // beyond: new connections are closed at once
  int max_connections_per_client = 256;    // per client address, likewise
};

// How berthd and its agents prove who they are ([agents] tls): mutual TLS with the CA berthd
// makes in <state_dir>/ca (berth-ca), with any CA's files (files), or plaintext (none: for a
// laptop or a test only).
enum class AgentsTls : uint8_t { kBerthCa, kFiles, kNone };
inline constexpr auto kAgentsTlsNames = enum_names<AgentsTls>(
    "agents tls",
    {{AgentsTls::kBerthCa, "berth-ca"}, {AgentsTls::kFiles, "files"}, {AgentsTls::kNone, "none"}});

// Node agents ([agents]): where berthd listens for berth-agent, and when a silent one's node
// goes down (src/agent/README.md).
struct AgentsConfig {
  std::string listen;                // host:port (port 0: any, written to berthd.agents-port);
                                     // "" = no agents: jobs run on berthd's own machine
  int64_t node_timeout_ms = 60'000;  // an agent silent this long puts its node down
  int64_t heartbeat_ms = 5'000;      // how often each agent says it is alive
  // A job's rank not started this long after its launch was sent ends the job's launch (all or
  // none: charged nothing, requeued with --requeue).
  int64_t launch_timeout_ms = 30'000;
  AgentsTls tls = AgentsTls::kBerthCa;
  std::string ca_file, cert_file, key_file;  // PEM files, with tls = "files" only (all three)
  // berthd starts a berth-agent for each node of its configuration on its own machine (a
  // process of its own, never a thread), reached through <state_dir>/agents.sock: one machine
  // works as a cluster does, and its jobs outlive berthd (the embedded default).
  bool local = false;
};
// Whether agents run the jobs: they listen on the network, or berthd starts its local ones.
inline bool agents_run_jobs(const AgentsConfig& a) { return !a.listen.empty() || a.local; }
// The port of a "host:port" listen address; -1 when it has none that parses.
int listen_port(const std::string& listen);

// Where berthd keeps its state ([store]): SQLite in state_dir (the default), or a PostgreSQL
// database shared by several berthds, of which the one holding the lease leads
// (docs/high-availability.md).
struct StoreConfig {
  std::string url;             // "": SQLite in state_dir; "postgresql://..." (or postgres://)
  std::string name;            // this berthd among those sharing the store; "": the host name
  int64_t lease_ms = 3'000;    // the leader's lease; a standby takes over once it runs out
  std::string advertise;       // "http://host:port" clients reach this berthd at; "": from listen
  std::string agents_advertise;  // "host:port" agents reach it at; "": from agents.listen
  bool shared() const { return !url.empty(); }
};

// Who the centre is, as its statements and tables name it ([centre] in the configuration).
struct CentreConfig {
  std::string name = "berth GPU centre";  // heads every statement
  std::string address;                    // under the name, line breaks kept ("" when not set)
  // What people read before an amount ("HK$"); the currency code (DaemonConfig::currency) when
  // not set. JSON and CSV carry exact amounts and the code, never this.
  std::string currency_symbol;
};

// How berthd writes its log ([log] format, or --log-format): one line per event either way.
enum class LogFormat : uint8_t { kText, kJson };
inline constexpr auto kLogFormatNames =
    enum_names<LogFormat>("log format", {{LogFormat::kText, "text"}, {LogFormat::kJson, "json"}});

struct DaemonConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8765;                 // 0: any free port (written to <state_dir>/berthd.port)
  std::string state_dir = "berth-state";  // database, admin token, job scripts
  std::string currency = "HKD";           // the ISO code JSON and CSV name
  CentreConfig centre;
  LogFormat log_format = LogFormat::kText;
  int64_t grace_ms = 10'000;  // between SIGTERM and SIGKILL
  // Who jobs run as when berthd runs as root: the "unix_user" a job's launch description names
  // (its token's Unix user), else job_user. Never uid 0 unless allow_root_jobs. When berthd is
  // not root, its jobs run as its own user.
  std::string job_user = "nobody";
  bool allow_root_jobs = false;
  // [jobs] min_uid: a token's Unix user must have at least this uid (system users have less).
  int64_t min_job_uid = 1000;
  HttpLimits http;
  AgentsConfig agents;
  StoreConfig store;
  core::ClusterConfig cluster;
  core::SchedulerConfig scheduling;
};

// The agents' fencing lease (src/agent/README.md §3): how long an agent keeps running a job
// berthd may requeue (--requeue, spot) after berthd last acknowledged it: the node's timeout
// less the stop's grace period and two heartbeats, so the job is gone before berthd can start
// it elsewhere. 0 (no lease) when the timeout leaves no room for one.
int64_t fence_ms(const DaemonConfig& config);

// What people read before an amount: the centre's currency symbol, else the currency code.
std::string currency_shown(const DaemonConfig& config);

// "text" or "json"; false for anything else.
bool parse_log_format(const std::string& name, LogFormat* out);

// The embedded default configuration, as TOML (also what `berthd --print-default-config` shows).
const char* default_config_toml();

// Parses configuration text; `origin` names it in error messages.
Result<DaemonConfig> parse_config(const std::string& toml_text, const std::string& origin);
Result<DaemonConfig> load_config_file(const std::string& path);

}  // namespace berth
