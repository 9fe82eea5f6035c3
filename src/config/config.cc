#include "config/config.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <toml.hpp>

#include "common/civil.h"
#include "common/money.h"
#include "common/timefmt.h"

namespace berth {

const char* default_config_toml() {
  return R"(# berthd configuration (the embedded default).
# Money is in the centre's currency, with up to 4 decimals.
listen = "127.0.0.1:8765"
state_dir = "berth-state"
currency = "HKD"

# Who the centre is: the name and address head every statement; tables and statements show
# money as "HK$ 1,234.50" (JSON and CSV keep the exact amount, to 4 decimals).
[centre]
name = "berth GPU centre"
# address = "1 Science Park Road\nHong Kong"   # lines separated by \n
currency_symbol = "HK$"

# berthd's log on stderr: one line per event with its time and level; "json" writes JSON lines.
[log]
format = "text"

[executor]
grace_s = 10            # seconds between SIGTERM and SIGKILL when a job is stopped

# Who jobs run as when berthd runs as root: the Unix user of the submitting token when it has
# one, else this user. A job is never run as root (uid 0) unless allow_root = true. When berthd
# is not root, every job runs as berthd's own user. A token's Unix user below min_uid is a
# system user (daemon, www-data): refused when the token is made and at each submit.
[jobs]
user = "nobody"
allow_root = false
min_uid = 1000

# The HTTP front end. A slow or idle client costs memory, not a thread: each deadline is a total
# for its phase, and a connection that misses one is closed.
[http]
workers = 64                      # threads answering whole requests (each may wait on a batch)
header_timeout_s = 10             # first byte of a request to the end of its headers
body_timeout_s = 10               # end of the headers to the end of the body
idle_timeout_s = 30               # a kept-alive connection between requests
write_timeout_s = 10              # to send a reply
max_header_bytes = 16384          # request line and headers (beyond: 431)
max_body_bytes = 1048576          # beyond: 413
max_requests_per_connection = 1000
max_connections = 10000           # beyond: new connections are closed at once
max_connections_per_client = 256  # per client address, likewise

# Where berthd keeps its state: SQLite in state_dir when url is empty. With a PostgreSQL url
# (postgresql://user@host:port/database), any number of berthds share it: the one holding the
# lease leads, the others stand by and take over within seconds when it stops
# (docs/high-availability.md). That needs agents on a listener of their own ([agents]).
[store]
url = ""
# name = "ctl1"                        # this berthd among its peers (default: the host name)
lease_s = 3                            # the leader's lease
# advertise = "http://ctl1:8765"       # where clients reach this berthd (default: from listen)
# agents_advertise = "ctl1:8766"       # where agents reach it (default: from agents.listen)

# Node agents: berth-agent on each GPU node dials berthd here (gRPC). Empty, with local = false:
# no agents, and berthd runs the jobs itself. An agent silent for node_timeout_s puts its node down.
# Agents and berthd prove who they are by mutual TLS. tls = "berth-ca": berthd makes a small CA
# in <state_dir>/ca at first start and signs each node's certificate (`berth admin node-cert
# NAME --out DIR`); "files": ca_file, cert_file and key_file name any CA's PEM files; "none":
# plaintext, for a laptop or a test only.
# local = true: berthd starts one berth-agent per node here, on this machine, as processes of
# their own (jobs outlive berthd); a cluster sets it false and runs an agent on each node.
[agents]
local = true
listen = ""                       # e.g. "0.0.0.0:8766"
node_timeout_s = 60
heartbeat_s = 5
launch_timeout_s = 30             # a rank not started by then: the job's launch fails (all or none)
tls = "berth-ca"

# The price list: per GPU-hour of each GPU model.
[[gpu_models]]
name = "H100"
price_per_gpu_hour = "30.0000"

# This machine, as one node of 8 logical GPUs.
[[nodes]]
name = "local"
gpu_model = "H100"
gpus = 8
cpus = 16
memory_mb = 65536
# domain = "nvl1"     # its rack or NVLink domain: multi-node jobs are kept within one where possible

[[partitions]]
name = "gpu"
max_time = "7-00:00:00"
default_time = "1:00:00"
default = true
# allowed_orgs = ["hku"]  # only these organisations may use it (default: all)
# What a job that asks for no CPUs or memory (--cpus-per-task, --cpus-per-gpu, --mem,
# --mem-per-cpu, --mem-per-gpu) gets on each node: its cgroup's limits, as Slurm's DefCpuPerGPU
# and DefMemPerGPU. Here a GPU's share of the node above, so that one job cannot take all of it.
# default_mem_per_cpu_mb gives memory per CPU instead (not both). 0: no limit.
default_cpus_per_gpu = 2
default_mem_per_gpu_mb = 8192

# Multifactor priority (Slurm's model) and EASY backfill.
[scheduler]
order = "priority"       # priority (multifactor) | fifo | shortest (smallest planned GPU-time first)
weight_age = 1000
weight_fairshare = 10000
weight_tier = 100000
weight_size = 0          # > 0 favours large jobs
max_age = "7-00:00:00"
usage_half_life = "7-00:00:00"
backfill = true
conservative = false     # true: every waiting job gets a reservation, not only the first
predict_runtimes = true  # jobs without a time limit are planned with their project's recent runtimes
backfill_depth = 10000
preemption = true       # normal and high jobs may preempt spot jobs (TERM, grace, requeue)
spot_price_bps = 5000   # spot jobs pay 50% of the list price
demote_after_gpu_hours = 0  # > 0: least attained service. A job that has had this many GPU-hours
                            # queues behind those that have not, and one of them may preempt it
                            # if it was submitted with --requeue (it should checkpoint). "auto":
                            # learned from the jobs that finish, as berth sim's default policy
                            # (docs/sim.md): off where jobs are alike or nearly all gangs
preempt_exempt_time = "0"   # no job is preempted before it has run this long since it started
starve_after = "0"          # with order = "shortest": a job waiting this long for its first
                            # start goes first ("auto" demotion: ten mean runs, once learned)

# Caps per organisation or project, e.g.
# [[limits]]
# project = "vision"
# max_gpus = 16        # GPUs in use at once (jobs beyond wait as QuotaLimit)
# max_pending = 1000   # jobs waiting at once (further submits are refused)

# Fair-share shares per organisation or project (1 when not listed), e.g.
# [[shares]]
# org = "hku"
# shares = 10
)";
}

namespace {

// Bounds that keep every product of the configuration's numbers far inside 64 bits (a job's
// maximum cost is price x GPUs x time): an hour's grace, a million currency units per
// GPU-hour, ten years per job.
constexpr int64_t kMaxGraceS = kSecondsPerHour;
constexpr Minor kMaxPricePerGpuHourMinor = 1'000'000 * kMinorPerUnit;
constexpr int64_t kMaxPartitionTimeS = 3650 * kSecondsPerDay;

// The array of tables under `key`, empty when absent, as a copy. toml::find_or returns a
// reference to its default when the key is absent: in a range-for over find_or(..., {}) that
// default is a temporary already destroyed when the loop runs (found by the config fuzzer).
std::vector<toml::value> tables(const toml::value& v, const char* key) {
  return toml::find_or<std::vector<toml::value>>(v, key, std::vector<toml::value>{});
}

Status bad(const std::string& origin, const std::string& what) {
  return Status::Invalid("configuration " + origin + ": " + what);
}

// A number of seconds (whole or fractional) in `table` (named `section` in errors), as
// milliseconds; `def_ms` when absent.
Result<int64_t> seconds_ms(const toml::value& table, const char* section, const char* key,
                           int64_t def_ms, const std::string& origin) {
  if (!table.contains(key)) return def_ms;
  const toml::value& v = toml::find(table, key);
  const double s = v.is_integer()    ? static_cast<double>(v.as_integer())
                   : v.is_floating() ? v.as_floating()
                                     : -1;
  if (!(s > 0 && s <= kSecondsPerDay))
    return bad(origin, std::string(section) + "." + key +
                           " must be a number of seconds above 0, at most 86400");
  return std::max<int64_t>(1, std::llround(s * 1000));
}

// A whole number in `table` from `min` to `max`; `def` when absent.
Result<int64_t> bounded(const toml::value& table, const char* key, int64_t def, int64_t min,
                        int64_t max, const std::string& origin) {
  if (!table.contains(key)) return def;
  const toml::value& v = toml::find(table, key);
  if (!v.is_integer() || v.as_integer() < min || v.as_integer() > max)
    return bad(origin, std::string("http.") + key + " must be a whole number from " +
                           std::to_string(min) + " to " + std::to_string(max));
  return v.as_integer();
}

// A partition's defaults for a job's CPUs and memory (0 when absent), whole numbers; their
// bounds and whether they fit the nodes are Cluster::Create's to check (core/job_box.h).
Status parse_box_defaults(const toml::value& p, const std::string& partition,
                          const std::string& origin, core::BoxDefaults* d) {
  const std::pair<const char*, int64_t*> keys[] = {{"default_cpus_per_gpu", &d->cpus_per_gpu},
                                                   {"default_mem_per_cpu_mb", &d->mem_per_cpu_mb},
                                                   {"default_mem_per_gpu_mb", &d->mem_per_gpu_mb}};
  for (const auto& [key, out] : keys) {
    if (!p.contains(key)) continue;
    const toml::value& v = toml::find(p, key);
    if (!v.is_integer())
      return bad(origin, "partition " + partition + ": " + key + " must be a whole number");
    *out = v.as_integer();
  }
  return Status::Ok();
}

Status parse_http(const toml::value& root, const std::string& origin, HttpLimits* h) {
  if (!root.contains("http")) return Status::Ok();
  const toml::value& t = toml::find(root, "http");
  auto ms = [&](const char* key, int64_t* out) -> Status {
    BERTH_ASSIGN_OR_RETURN(*out, seconds_ms(t, "http", key, *out, origin));
    return Status::Ok();
  };
  BERTH_RETURN_IF_ERROR(ms("header_timeout_s", &h->header_timeout_ms));
  BERTH_RETURN_IF_ERROR(ms("body_timeout_s", &h->body_timeout_ms));
  BERTH_RETURN_IF_ERROR(ms("idle_timeout_s", &h->idle_timeout_ms));
  BERTH_RETURN_IF_ERROR(ms("write_timeout_s", &h->write_timeout_ms));
  auto workers = bounded(t, "workers", h->workers, 1, 1024, origin);
  auto header = bounded(t, "max_header_bytes", static_cast<int64_t>(h->max_header_bytes), 1024,
                        1 << 20, origin);
  auto body = bounded(t, "max_body_bytes", static_cast<int64_t>(h->max_body_bytes), 1024,
                      int64_t{1} << 30, origin);
  auto requests = bounded(t, "max_requests_per_connection", h->max_requests_per_connection, 1,
                          1'000'000, origin);
  auto conns = bounded(t, "max_connections", h->max_connections, 1, 1'000'000, origin);
  auto per_client =
      bounded(t, "max_connections_per_client", h->max_connections_per_client, 1, 1'000'000, origin);
  for (const auto* r : {&workers, &header, &body, &requests, &conns, &per_client})
    if (!r->ok()) return r->status();
  h->workers = static_cast<int>(*workers);
  h->max_header_bytes = static_cast<size_t>(*header);
  h->max_body_bytes = static_cast<size_t>(*body);
  h->max_requests_per_connection = static_cast<int>(*requests);
  h->max_connections = static_cast<int>(*conns);
  h->max_connections_per_client = static_cast<int>(*per_client);
  return Status::Ok();
}

// [agents] tls and, with tls = "files", the three PEM files (all of them, or it is refused).
Status parse_agents_tls(const toml::value& t, const std::string& origin, AgentsConfig* a) {
  const std::string tls = toml::find_or<std::string>(t, "tls", "berth-ca");
  if (!kAgentsTlsNames.parse_into(tls, &a->tls))
    return bad(origin, "agents.tls must be " + kAgentsTlsNames.choices() + ", got '" + tls + "'");
  const std::pair<const char*, std::string*> files[] = {
      {"ca_file", &a->ca_file}, {"cert_file", &a->cert_file}, {"key_file", &a->key_file}};
  for (const auto& [key, out] : files) {
    *out = toml::find_or<std::string>(t, key, "");
    if (a->tls == AgentsTls::kFiles && out->empty())
      return bad(origin,
                 std::string("agents.") + key + " must name a PEM file with tls = \"files\"");
    if (a->tls != AgentsTls::kFiles && !out->empty())
      return bad(origin, std::string("agents.") + key + " is read only with tls = \"files\"");
  }
  return Status::Ok();
}

Status parse_agents(const toml::value& root, const std::string& origin, AgentsConfig* a) {
  if (!root.contains("agents")) return Status::Ok();
  const toml::value& t = toml::find(root, "agents");
  a->listen = toml::find_or<std::string>(t, "listen", a->listen);
  if (t.contains("local")) {
    if (!t.at("local").is_boolean()) return bad(origin, "agents.local must be true or false");
    a->local = t.at("local").as_boolean();
  }
  if (!a->listen.empty() && a->listen.rfind(':') == std::string::npos)
    return bad(origin, "agents.listen must be host:port, got '" + a->listen + "'");
  BERTH_ASSIGN_OR_RETURN(a->node_timeout_ms,
                         seconds_ms(t, "agents", "node_timeout_s", a->node_timeout_ms, origin));
  BERTH_ASSIGN_OR_RETURN(a->heartbeat_ms,
                         seconds_ms(t, "agents", "heartbeat_s", a->heartbeat_ms, origin));
  BERTH_ASSIGN_OR_RETURN(a->launch_timeout_ms,
                         seconds_ms(t, "agents", "launch_timeout_s", a->launch_timeout_ms, origin));
  // Three heartbeats may be lost before a node is taken for silent.
  if (a->heartbeat_ms * 3 > a->node_timeout_ms)
    return bad(origin, "agents.heartbeat_s must be at most a third of agents.node_timeout_s");
  return parse_agents_tls(t, origin, a);
}

// [store]. A shared store needs agents on their own listener: jobs must outlive the berthd that
// leads, and every berthd must be able to reach them.
Status parse_store(const toml::value& root, const std::string& origin, DaemonConfig* c) {
  if (!root.contains("store")) return Status::Ok();
  const toml::value& t = toml::find(root, "store");
  StoreConfig& s = c->store;
  s.url = toml::find_or<std::string>(t, "url", s.url);
  s.name = toml::find_or<std::string>(t, "name", s.name);
  s.advertise = toml::find_or<std::string>(t, "advertise", s.advertise);
  s.agents_advertise = toml::find_or<std::string>(t, "agents_advertise", s.agents_advertise);
  BERTH_ASSIGN_OR_RETURN(s.lease_ms, seconds_ms(t, "store", "lease_s", s.lease_ms, origin));
  if (s.url.empty()) return Status::Ok();
  if (s.url.rfind("postgresql://", 0) != 0 && s.url.rfind("postgres://", 0) != 0)
    return bad(origin, "store.url must be a PostgreSQL URL, postgresql://user@host:port/database");
  if (s.lease_ms < 1000) return bad(origin, "store.lease_s must be at least 1 second");
  if (c->agents.listen.empty() || c->agents.local)
    return bad(origin,
               "a PostgreSQL store needs node agents on a listener of their own (agents.listen, "
               "with agents.local = false): jobs must outlive the berthd that leads");
  if (listen_port(c->agents.listen) <= 0)
    return bad(origin, "agents.listen needs a fixed port with a PostgreSQL store, so that agents "
                       "find the berthd that takes over; got '" + c->agents.listen + "'");
  if (!s.advertise.empty() && s.advertise.rfind("http://", 0) != 0 &&
      s.advertise.rfind("https://", 0) != 0)
    return bad(origin, "store.advertise must be an http:// address, got '" + s.advertise + "'");
  return Status::Ok();
}

Status parse_centre(const toml::value& root, const std::string& origin, DaemonConfig* c) {
  if (root.contains("centre")) {
    const toml::value& t = toml::find(root, "centre");
    c->centre.name = toml::find_or<std::string>(t, "name", c->centre.name);
    c->centre.address = toml::find_or<std::string>(t, "address", c->centre.address);
    c->centre.currency_symbol =
        toml::find_or<std::string>(t, "currency_symbol", c->centre.currency_symbol);
    if (c->centre.name.empty()) return bad(origin, "centre.name must not be empty");
    if (c->centre.name.size() > 200)
      return bad(origin, "centre.name is longer than 200 characters");
    if (c->centre.address.size() > 1000)
      return bad(origin, "centre.address is longer than 1000 characters");
    if (c->centre.currency_symbol.size() > 8)
      return bad(origin, "centre.currency_symbol is longer than 8 characters");
  }
  if (c->currency.empty() || c->currency.size() > 8)
    return bad(origin, "currency must be a code of 1 to 8 characters");
  if (root.contains("log")) {
    const std::string format =
        toml::find_or<std::string>(toml::find(root, "log"), "format", "text");
    if (!parse_log_format(format, &c->log_format))
      return bad(origin,
                 "log.format must be " + kLogFormatNames.choices() + ", got '" + format + "'");
  }
  return Status::Ok();
}

Result<DaemonConfig> parse_value(const toml::value& root, const std::string& origin) {
  DaemonConfig c;
  const std::string listen = toml::find_or<std::string>(root, "listen", "127.0.0.1:8765");
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    return bad(origin, "listen must be host:port, got '" + listen + "'");
  c.listen_host = listen.substr(0, colon);
  try {
    c.listen_port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return bad(origin, "listen port is not a number in '" + listen + "'");
  }
  if (c.listen_port < 0 || c.listen_port > 65535) return bad(origin, "listen port out of range");
  c.state_dir = toml::find_or<std::string>(root, "state_dir", c.state_dir);
  c.currency = toml::find_or<std::string>(root, "currency", c.currency);
  BERTH_RETURN_IF_ERROR(parse_centre(root, origin, &c));
  if (root.contains("executor")) {
    const auto& ex = toml::find(root, "executor");
    const int64_t grace_s = toml::find_or<int64_t>(ex, "grace_s", 10);
    if (grace_s < 0 || grace_s > kMaxGraceS)
      return bad(origin, "executor.grace_s must be 0 to " + std::to_string(kMaxGraceS));
    c.grace_ms = grace_s * 1000;
  }
  if (root.contains("jobs")) {
    const auto& jobs = toml::find(root, "jobs");
    c.job_user = toml::find_or<std::string>(jobs, "user", c.job_user);
    c.allow_root_jobs = toml::find_or<bool>(jobs, "allow_root", false);
    c.min_job_uid = toml::find_or<int64_t>(jobs, "min_uid", c.min_job_uid);
    if (c.min_job_uid < 0) return bad(origin, "jobs.min_uid must be 0 or more");
    if (c.job_user.empty()) return bad(origin, "jobs.user must name a Unix user");
  }
  BERTH_RETURN_IF_ERROR(parse_http(root, origin, &c.http));
  BERTH_RETURN_IF_ERROR(parse_agents(root, origin, &c.agents));
  BERTH_RETURN_IF_ERROR(parse_store(root, origin, &c));
  for (const auto& m : tables(root, "gpu_models")) {
    core::GpuPrice p;
    p.gpu_model = toml::find<std::string>(m, "name");
    const std::string price = toml::find<std::string>(m, "price_per_gpu_hour");
    auto minor = parse_amount(price);
    if (!minor.ok())
      return bad(origin, "gpu model " + p.gpu_model + ": " + minor.status().message());
    if (*minor > kMaxPricePerGpuHourMinor)
      return bad(origin, "gpu model " + p.gpu_model + ": price_per_gpu_hour is above " +
                             format_amount(kMaxPricePerGpuHourMinor));
    p.per_gpu_hour_minor = *minor;
    c.cluster.prices.push_back(p);
  }
  for (const auto& n : tables(root, "nodes")) {
    core::Node node;
    node.name = toml::find<std::string>(n, "name");
    node.gpu_model = toml::find<std::string>(n, "gpu_model");
    node.gpus = toml::find<int>(n, "gpus");
    node.cpus = toml::find_or<int>(n, "cpus", 0);
    node.memory_mb = toml::find_or<int64_t>(n, "memory_mb", 0);
    node.domain = toml::find_or<std::string>(n, "domain", "");
    c.cluster.nodes.push_back(node);
  }
  for (const auto& p : tables(root, "partitions")) {
    core::Partition part;
    part.name = toml::find<std::string>(p, "name");
    auto max = parse_duration_s(toml::find_or<std::string>(p, "max_time", "7-00:00:00"));
    if (!max.ok())
      return bad(origin, "partition " + part.name + " max_time: " + max.status().message());
    if (*max > kMaxPartitionTimeS)
      return bad(origin, "partition " + part.name + " max_time is above 3650 days");
    auto def = parse_duration_s(toml::find_or<std::string>(p, "default_time", "1:00:00"));
    if (!def.ok())
      return bad(origin, "partition " + part.name + " default_time: " + def.status().message());
    part.max_time_s = *max;
    part.default_time_s = std::min(*def, *max);
    part.is_default = toml::find_or<bool>(p, "default", false);
    part.allowed_orgs = toml::find_or<std::vector<std::string>>(p, "allowed_orgs", {});
    BERTH_RETURN_IF_ERROR(parse_box_defaults(p, part.name, origin, &part.box_defaults));
    c.cluster.partitions.push_back(part);
  }
  if (root.contains("scheduler")) {
    const auto& sc = toml::find(root, "scheduler");
    core::SchedulerConfig& k = c.scheduling;
    k.weights.age = toml::find_or<int64_t>(sc, "weight_age", k.weights.age);
    k.weights.fairshare = toml::find_or<int64_t>(sc, "weight_fairshare", k.weights.fairshare);
    k.weights.tier = toml::find_or<int64_t>(sc, "weight_tier", k.weights.tier);
    k.weights.size = toml::find_or<int64_t>(sc, "weight_size", k.weights.size);
    for (int64_t w : {k.weights.age, k.weights.fairshare, k.weights.tier, k.weights.size})
      if (w < 0 || w > 1'000'000'000)
        return bad(origin, "scheduler weights must be 0 to 1000000000");
    auto max_age = parse_duration_s(toml::find_or<std::string>(sc, "max_age", "7-00:00:00"));
    if (!max_age.ok()) return bad(origin, "scheduler.max_age: " + max_age.status().message());
    k.weights.max_age_s = *max_age;
    auto half = parse_duration_s(toml::find_or<std::string>(sc, "usage_half_life", "7-00:00:00"));
    if (!half.ok()) return bad(origin, "scheduler.usage_half_life: " + half.status().message());
    k.usage_half_life_s = *half;
    k.backfill = toml::find_or<bool>(sc, "backfill", true);
    k.conservative = toml::find_or<bool>(sc, "conservative", false);
    k.predict_runtimes = toml::find_or<bool>(sc, "predict_runtimes", true);
    const std::string order = toml::find_or<std::string>(sc, "order", "priority");
    if (!core::parse_queue_order(order, &k.order))
      return bad(origin, "scheduler.order must be " + core::kQueueOrderNames.choices() + ", got '" +
                             order + "'");
    k.preemption = toml::find_or<bool>(sc, "preemption", true);
    if (sc.contains("demote_after_gpu_hours") &&
        toml::find(sc, "demote_after_gpu_hours").is_string() &&
        toml::find(sc, "demote_after_gpu_hours").as_string() == "auto") {
      k.adapt_demotion = true;
      k.demote_after_gpu_s = kSecondsPerHour;  // on; the Engine demotes nothing until it learns
    } else if (sc.contains("demote_after_gpu_hours")) {
      const toml::value& v = toml::find(sc, "demote_after_gpu_hours");
      const double hours = v.is_integer()    ? static_cast<double>(v.as_integer())
                           : v.is_floating() ? v.as_floating()
                                             : -1;
      if (!(hours >= 0 && hours <= 1e9))
        return bad(origin,
                   "scheduler.demote_after_gpu_hours must be \"auto\" or a number of GPU-hours "
                   "from 0 (off) to 1000000000");
      k.demote_after_gpu_s = std::llround(hours * kSecondsPerHour);
    }
    auto exempt = parse_duration_s(toml::find_or<std::string>(sc, "preempt_exempt_time", "0"));
    if (!exempt.ok())
      return bad(origin, "scheduler.preempt_exempt_time: " + exempt.status().message());
    k.preempt_exempt_s = *exempt;
    auto starve = parse_duration_s(toml::find_or<std::string>(sc, "starve_after", "0"));
    if (!starve.ok()) return bad(origin, "scheduler.starve_after: " + starve.status().message());
    k.starve_after_s = *starve;
    k.spot_price_bps = toml::find_or<int64_t>(sc, "spot_price_bps", k.spot_price_bps);
    if (k.spot_price_bps < 0 || k.spot_price_bps > 10'000)
      return bad(origin, "scheduler.spot_price_bps must be 0 to 10000");
    k.backfill_depth =
        static_cast<int>(toml::find_or<int64_t>(sc, "backfill_depth", int64_t{k.backfill_depth}));
    if (k.backfill_depth < 1) return bad(origin, "scheduler.backfill_depth must be at least 1");
  }
  for (const auto& l : tables(root, "limits")) {
    core::Limit limit;
    limit.max_gpus = toml::find_or<int64_t>(l, "max_gpus", -1);
    limit.max_pending = toml::find_or<int64_t>(l, "max_pending", -1);
    if (limit.max_gpus < -1 || limit.max_pending < -1)
      return bad(origin, "limits must not be negative");
    if (l.contains("org"))
      c.scheduling.org_limits[toml::find<std::string>(l, "org")] = limit;
    else if (l.contains("project"))
      c.scheduling.project_limits[toml::find<std::string>(l, "project")] = limit;
    else
      return bad(origin, "a [[limits]] entry needs org or project");
  }
  for (const auto& sh : tables(root, "shares")) {
    const int64_t n = toml::find<int64_t>(sh, "shares");
    if (n < 0) return bad(origin, "shares must not be negative");
    if (sh.contains("org"))
      c.scheduling.org_shares[toml::find<std::string>(sh, "org")] = n;
    else if (sh.contains("project"))
      c.scheduling.project_shares[toml::find<std::string>(sh, "project")] = n;
    else
      return bad(origin, "a [[shares]] entry needs org or project");
  }
  if (c.cluster.nodes.empty()) return bad(origin, "no [[nodes]]");
  if (c.cluster.partitions.empty()) return bad(origin, "no [[partitions]]");
  auto check = core::Cluster::Create(c.cluster);
  if (!check.ok()) return bad(origin, check.status().message());
  return c;
}

}  // namespace

std::string currency_shown(const DaemonConfig& config) {
  return config.centre.currency_symbol.empty() ? config.currency : config.centre.currency_symbol;
}

bool parse_log_format(const std::string& name, LogFormat* out) {
  return kLogFormatNames.parse_into(name, out);
}

Result<DaemonConfig> parse_config(const std::string& text, const std::string& origin) {
  try {
    std::istringstream in(text);
    const toml::value root = toml::parse(in, origin);
    return parse_value(root, origin);
  } catch (const std::exception& e) {
    return bad(origin, e.what());
  }
}

int listen_port(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) return -1;
  int port = 0;
  for (char ch : listen.substr(colon + 1)) {
    if (ch < '0' || ch > '9' || port > 65535) return -1;
    port = port * 10 + (ch - '0');
  }
  return port <= 65535 ? port : -1;
}

int64_t fence_ms(const DaemonConfig& c) {
  const AgentsConfig& a = c.agents;
  const int64_t fence = a.node_timeout_ms - c.grace_ms - 2 * a.heartbeat_ms;
  return fence >= a.heartbeat_ms ? fence : 0;
}

Result<DaemonConfig> load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read configuration file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace berth
