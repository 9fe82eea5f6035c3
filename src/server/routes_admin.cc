// The routes of the cluster and its operation: health, the backup, nodes, partitions and the
// reconciliation of the books.
#include <httplib.h>

#include "common/version.h"
#include "core/reconcile.h"
#include "server/agents/ca.h"
#include "server/request_fields.h"
#include "server/routes.h"
#include "server/views.h"

namespace berth::server {

namespace {

using json = nlohmann::json;

// Anyone may ask whether berthd is up, and what it calls its currency and centre.
void serve_health(Daemon& d, const httplib::Request&, httplib::Response& res) {
  const DaemonConfig& config = d.config();
  const json centre = {{"name", config.centre.name}, {"address", config.centre.address}};
  res.set_content(json{{"status", "ok"},
                       {"currency", config.currency},
                       {"currency_symbol", currency_shown(config)},
                       {"centre", centre},
                       {"version", kBerthVersion}}
                      .dump(),
                  "application/json");
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// For load balancers and probes: berthd's process answers (livez); it leads and serves the API
// (readyz: a standby answers 503 from its own listener, server/candidacy.cc).
void serve_livez(Daemon&, const httplib::Request&, httplib::Response& res) {
  send_json(res, 200, json{{"status", "ok"}});
}

void serve_readyz(Daemon& d, const httplib::Request&, httplib::Response& res) {
  const Leadership* l = d.leadership();
  send_json(res, 200, l != nullptr ? l->describe() : json{{"this", {{"role", "leader"}}}});
}

// Who leads the berthds sharing the store, since when, and the epoch (docs/high-availability.md).
void serve_leader(Daemon& d, const httplib::Request&, httplib::Response& res) {
  const Leadership* l = d.leadership();
  if (l == nullptr) return send_json(res, 503, error_reply(shutting_down()).body);
  send_json(res, 200, l->describe());
}

// A backup is copied on this HTTP thread from a connection of its own, never on the core
// thread, so berthd goes on committing while it is made (backup.cc).
void serve_backup(Daemon& d, const httplib::Request& req, httplib::Response& res) {
  d.serve_backup(req, res);
}

// Anyone sees the nodes; a member sees the ids of their own organisation's jobs on each and
// only a count of the others' (a reviewer sees counts only).
Reply list_nodes(Call& call) {
  json list = json::array();
  const size_t node_count = call.engine.cluster().nodes().size();
  std::vector<std::vector<JobId>> on_node(node_count);
  std::vector<int64_t> others_on_node(node_count, 0);
  for (JobId id : call.engine.running_jobs()) {
    const core::Job& j = *call.engine.job(id);
    const auto place = [&](NodeId node) {
      if (call.who.sees(j.org))
        on_node[node.value - 1].push_back(id);
      else
        ++others_on_node[node.value - 1];
    };
    place(j.node);
    for (const core::Placement& p : j.more_nodes) place(p.node);
  }
  for (const core::Node& n : call.engine.cluster().nodes()) {
    json node = node_json(call.engine, n, on_node[n.id.value - 1]);
    if (!call.who.admin()) node["other_jobs"] = others_on_node[n.id.value - 1];
    list.push_back(std::move(node));
  }
  return ok({{"nodes", list}});
}

Reply set_node_state(Call& call) {
  const std::string name = call.param(1);
  const core::Node* n = call.engine.cluster().node_by_name(name);
  if (!n) return fail(Status::NotFound("node '" + name + "' not found"));
  BERTH_ASSIGN_OR_REPLY(state_text, str_field(call.body, "state", true));
  core::NodeState state = core::NodeState::kUp;  // "resume", Slurm's word, is up too
  if (state_text != "resume" && !core::kNodeStateNames.parse_into(state_text, &state))
    return fail(Status::Invalid("state must be " + core::kNodeStateNames.choices() + ", got '" +
                                state_text + "'"));
  BERTH_ASSIGN_OR_REPLY(reason, str_field(call.body, "reason", false));
  BERTH_ASSIGN_OR_REPLY(ended, call.engine.change_node_state(n->id, state, call.now_ms, reason));
  for (JobId id : ended) call.terminate.push_back(id);  // their processes must go too
  std::vector<JobId> on_node;
  for (JobId id : call.engine.running_jobs())
    if (call.engine.job(id)->runs_on(n->id)) on_node.push_back(id);
  json out = node_json(call.engine, *call.engine.cluster().node(n->id), on_node);
  json ids = json::array();
  for (JobId id : ended) ids.push_back(id.value);
  out["jobs_ended"] = ids;
  return ok(out);
}

// Reconciles the rows as committed (read back from the store on the core thread, so they are
// exactly what the last commit left) and the live engine's snapshot, which may be ahead by
// this batch's changes. O(rows) on the core thread, which waits meanwhile: an operator's check.
Reply reconcile(Call& call) {
  int64_t last_alive_ms = 0;
  BERTH_ASSIGN_OR_REPLY(rows, call.daemon.store().load(&last_alive_ms));
  const core::ReconcileOptions options;
  return ok(reconcile_json(core::reconcile(rows, options),
                           core::reconcile(call.engine.snapshot(), options), options.max_listed));
}

// Signs a node agent's certificate request with berthd's CA ([agents] tls = "berth-ca"). The
// node must be configured and the request's common name must be it; the node's key never
// comes here, only its public half in the request.
Reply sign_node_cert(Call& call) {
  const NodeCa* ca = call.daemon.node_ca();
  if (ca == nullptr)
    return fail(Status::Conflict(
        "berthd signs node certificates only when agents listen with [agents] tls = "
        "\"berth-ca\"; with tls = \"files\", the centre's own CA signs them"));
  BERTH_ASSIGN_OR_REPLY(node, str_field(call.body, "node", true));
  BERTH_ASSIGN_OR_REPLY(csr, str_field(call.body, "csr", true));
  if (call.engine.cluster().node_by_name(node) == nullptr)
    return fail(Status::Invalid("node '" + node + "' is not in berthd's configuration"));
  BERTH_ASSIGN_OR_REPLY(certificate, ca->sign_node(node, csr, call.now_ms / 1000));
  // Recorded before it is handed out, so that it can be revoked.
  if (const Status st = call.daemon.cert_book()->issued(node, certificate_serial(certificate));
      !st.ok())
    return fail(st);
  call.engine.record_access(core::Engine::AccessAction::kNodeCert, "node " + node,
                            "certificate signed by berthd's CA", call.now_ms);
  return ok({{"certificate", certificate}, {"ca", ca->ca_pem()}}, 201);
}

// POST /v1/admin/node-certs/revoke {"node"}: every certificate berthd's CA signed for the node
// so far is refused from now on, and its agent's stream ends (cert_book.h).
Reply revoke_node_certs(Call& call) {
  if (call.daemon.cert_book() == nullptr)
    return fail(Status::Conflict(
        "berthd revokes only the certificates its own CA signs ([agents] tls = \"berth-ca\"); "
        "with tls = \"files\", the centre's CA revokes them"));
  BERTH_ASSIGN_OR_REPLY(node, str_field(call.body, "node", true));
  if (call.engine.cluster().node_by_name(node) == nullptr)
    return fail(Status::Invalid("node '" + node + "' is not in berthd's configuration"));
  BERTH_ASSIGN_OR_REPLY(revoked, call.daemon.cert_book()->revoke(node));
  call.daemon.shut_out_agent(node, "the certificate of " + node + " was revoked");
  call.engine.record_access(core::Engine::AccessAction::kNodeCert, "node " + node,
                            std::to_string(revoked) + " certificate(s) revoked", call.now_ms);
  return ok({{"node", node}, {"revoked", revoked}});
}

Reply list_partitions(Call& call) {
  json list = json::array();
  for (const core::Partition& p : call.engine.cluster().partitions())
    list.push_back({{"name", p.name},
                    {"max_time_s", p.max_time_s},
                    {"default_time_s", p.default_time_s},
                    {"default", p.is_default},
                    // What a job that asks for no CPUs or memory gets (core/job_box.h; 0: none).
                    {"default_cpus_per_gpu", p.box_defaults.cpus_per_gpu},
                    {"default_mem_per_cpu_mb", p.box_defaults.mem_per_cpu_mb},
                    {"default_mem_per_gpu_mb", p.box_defaults.mem_per_gpu_mb}});
  return ok({{"partitions", list}});
}

}  // namespace

std::vector<Route> admin_routes() {
  return {
      {.method = Method::kGet,
       .path = "/v1/health",
       .access = Access::kAnyone,
       .on_http = serve_health},
      {.method = Method::kGet, .path = "/livez", .access = Access::kAnyone, .on_http = serve_livez},
      {.method = Method::kGet,
       .path = "/readyz",
       .access = Access::kAnyone,
       .on_http = serve_readyz},
      {.method = Method::kGet,
       .path = "/v1/admin/leader",
       .access = Access::kAdmin,
       .on_http = serve_leader},
      {.method = Method::kGet,
       .path = "/v1/admin/backup",
       .access = Access::kAdmin,
       .on_http = serve_backup},
      {Method::kGet, "/v1/nodes", Access::kAuthenticated, list_nodes},
      {Method::kPost, "/v1/nodes/([^/]+)/state", Access::kAdmin, set_node_state},
      {Method::kPost, "/v1/admin/node-certs", Access::kAdmin, sign_node_cert},
      {Method::kPost, "/v1/admin/node-certs/revoke", Access::kAdmin, revoke_node_certs},
      {Method::kGet, "/v1/reconcile", Access::kAdmin, reconcile},
      {Method::kGet, "/v1/partitions", Access::kAuthenticated, list_partitions},
  };
}

}  // namespace berth::server
