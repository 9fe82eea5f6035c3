// org create|update|show|list, project create|list, token create|list|revoke, admin rotate-token,
// admin backup, admin leader, whoami, nodes.
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/node_cert.h"
#include "cli/request.h"
#include "cli/table.h"
#include "cli/views.h"
#include "core/model.h"

namespace berth::cli {
namespace {

using nlohmann::json;

// An organisation's registration record, as `org create` and `org update` take it: only the
// fields given are sent.
struct RegistrationFlags {
  std::optional<std::string> number, address, contact_name, contact_email, jurisdiction;
};

struct OrgFlags {
  std::string name, kind;
  RegistrationFlags registration;
};

struct OrgUpdateFlags {
  std::string org;
  RegistrationFlags registration;
  std::optional<std::string> note;
};

struct ProjectFlags {
  std::string name, org;
};

struct TokenFlags {
  std::string user, role = "member";
  std::optional<std::string> org, expires, unix_user;
};

void add_registration_options(CLI::App* sub, RegistrationFlags& f) {
  sub->add_option("--reg-number", f.number,
                  "registration number (e.g. business registration or company number)");
  sub->add_option("--address", f.address, "registered address");
  sub->add_option("--contact-name", f.contact_name, "contact person");
  sub->add_option("--contact-email", f.contact_email, "contact email address");
  sub->add_option("--jurisdiction", f.jurisdiction, "country or jurisdiction of registration");
}

void put_registration(const RegistrationFlags& f, json* body) {
  const std::pair<const char*, const std::optional<std::string>*> fields[] = {
      {"registration_number", &f.number},
      {"address", &f.address},
      {"contact_name", &f.contact_name},
      {"contact_email", &f.contact_email},
      {"jurisdiction", &f.jurisdiction}};
  for (auto [key, value] : fields)
    if (*value) (*body)[key] = **value;
}

Status run_org_create(Context& ctx, const OrgFlags& f) {
  json body = {{"name", f.name}, {"kind", f.kind}};
  put_registration(f.registration, &body);
  BERTH_ASSIGN_OR_RETURN(json org, ctx.post("/v1/orgs", body));
  ctx.print(org, "Created org " + cell(org, "id") + " (" + f.name + ", " + f.kind + ")\n");
  return Status::Ok();
}

Status run_org_update(Context& ctx, const OrgUpdateFlags& f) {
  json body = json::object();
  put_registration(f.registration, &body);
  if (body.empty())
    return Status::Invalid(
        "org update needs at least one of --reg-number, --address, --contact-name, "
        "--contact-email, --jurisdiction");
  if (f.note) body["note"] = *f.note;
  BERTH_ASSIGN_OR_RETURN(json org, ctx.post("/v1/orgs/" + path_segment(f.org) + "/update", body));
  ctx.print(org,
            "Updated org " + cell(org, "id") + " (" + cell(org, "name") + ")\n" + render_org(org));
  return Status::Ok();
}

Status run_org_show(Context& ctx, const std::string& ref) {
  BERTH_ASSIGN_OR_RETURN(json org, ctx.get("/v1/orgs/" + path_segment(ref)));
  ctx.print(org, render_org(org));
  return Status::Ok();
}

Status run_project_create(Context& ctx, const ProjectFlags& f) {
  BERTH_ASSIGN_OR_RETURN(
      json project, ctx.post("/v1/projects", json{{"name", f.name}, {"org", name_or_id(f.org)}}));
  ctx.print(project, "Created project " + cell(project, "id") + " (" + f.name + ", org " + f.org +
                         ", wallet account " + cell(project, "wallet_account") + ")\n");
  return Status::Ok();
}

// Prints the bare token so that `berth token create ... > alice.token` works.
Status run_token_create(Context& ctx, const TokenFlags& f) {
  json body = {{"user", f.user}, {"role", f.role}};
  if (f.org) body["org"] = name_or_id(*f.org);
  if (f.expires) body["expires"] = *f.expires;
  if (f.unix_user) body["unix_user"] = *f.unix_user;
  BERTH_ASSIGN_OR_RETURN(json reply, ctx.post("/v1/tokens", body));
  ctx.print(reply, cell(reply, "token") + "\n");
  return Status::Ok();
}

Status run_token_revoke(Context& ctx, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(json reply,
                         ctx.post("/v1/tokens/" + path_segment(id) + "/revoke", json::object()));
  const bool before = reply.value("replayed", false);
  ctx.print(reply, "Token " + id + (before ? " was already revoked (" : " revoked (") +
                       cell(reply, "user") + ", " + cell(reply, "role") + ")\n");
  return Status::Ok();
}

// The new token is not printed (it is in the file on berthd's machine; --json shows it), so
// that it does not end up in a terminal's scrollback.
Status run_rotate_admin_token(Context& ctx) {
  BERTH_ASSIGN_OR_RETURN(json reply, ctx.post("/v1/tokens/rotate-admin", json::object()));
  std::string revoked;
  for (const json& id : reply.value("revoked_ids", json::array()))
    revoked += (revoked.empty() ? "" : ", ") + cell(id);
  ctx.print(reply, "New admin token " + cell(reply, "id") + " written to " + cell(reply, "path") +
                       " on berthd's machine; revoked " + (revoked.empty() ? "none" : revoked) +
                       "\n");
  return Status::Ok();
}

Status run_whoami(Context& ctx) {
  BERTH_ASSIGN_OR_RETURN(json me, ctx.get("/v1/whoami"));
  ctx.print(me, render_whoami(me));
  return Status::Ok();
}

// The copy is checked to be an SQLite database before it is reported made.
Status run_backup(Context& ctx, const std::string& file) {
  BERTH_RETURN_IF_ERROR(ctx.download("/v1/admin/backup", file));
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  const auto bytes = static_cast<int64_t>(in.tellg());
  in.seekg(0);
  char header[16] = {};
  in.read(header, sizeof header);
  if (!in || std::string(header, sizeof header) != std::string("SQLite format 3\0", 16)) {
    std::remove(file.c_str());
    return Status::Internal(
        "the server sent something that is not an SQLite database; no backup was written");
  }
  ctx.print(json{{"file", file}, {"bytes", bytes}}, "Backup written to " + file + " (" +
                                                        std::to_string(bytes) +
                                                        " bytes); restore: docs/operations.md\n");
  return Status::Ok();
}

void add_org(CLI::App& app, Context& ctx) {
  CLI::App* org = app.add_subcommand("org", "organisations");
  org->require_subcommand(1);
  auto& f = ctx.make<OrgFlags>();
  CLI::App* create = org->add_subcommand("create", "register an organisation (admin)");
  create->add_option("name", f.name, "organisation name")->required();
  create->add_option("--kind", f.kind, core::kOrgKindNames.choices())
      ->required()
      ->check(CLI::IsMember(core::kOrgKindNames.names()));
  add_registration_options(create, f.registration);
  on_run(create, ctx, [&ctx, &f] { return run_org_create(ctx, f); });
  auto& u = ctx.make<OrgUpdateFlags>();
  CLI::App* update =
      org->add_subcommand("update", "amend an organisation's registration record (admin)");
  update->add_option("org", u.org, "organisation name or id")->required();
  add_registration_options(update, u.registration);
  update->add_option("--note", u.note, "why it changed (kept in the audit record)");
  on_run(update, ctx, [&ctx, &u] { return run_org_update(ctx, u); });
  auto& shown = ctx.make<std::string>();
  CLI::App* show = org->add_subcommand("show", "an organisation with its registration record");
  show->add_option("org", shown, "organisation name or id")->required();
  on_run(show, ctx, [&ctx, &shown] { return run_org_show(ctx, shown); });
  CLI::App* list = org->add_subcommand("list", "list organisations");
  on_run(list, ctx, [&ctx] { return run_listing(ctx, "/v1/orgs", "orgs", render_orgs); });
}

void add_project(CLI::App& app, Context& ctx) {
  CLI::App* project = app.add_subcommand("project", "projects");
  project->require_subcommand(1);
  auto& f = ctx.make<ProjectFlags>();
  CLI::App* create = project->add_subcommand("create", "create a project with its wallet (admin)");
  create->add_option("name", f.name, "project name")->required();
  create->add_option("--org", f.org, "organisation name or id")->required();
  on_run(create, ctx, [&ctx, &f] { return run_project_create(ctx, f); });
  CLI::App* list = project->add_subcommand("list", "list projects");
  on_run(list, ctx,
         [&ctx] { return run_listing(ctx, "/v1/projects", "projects", render_projects); });
}

void add_token(CLI::App& app, Context& ctx) {
  CLI::App* token = app.add_subcommand("token", "API tokens");
  token->require_subcommand(1);
  auto& f = ctx.make<TokenFlags>();
  CLI::App* create =
      token->add_subcommand("create", "issue a token for a user (admin); prints the token");
  create->add_option("--user", f.user, "user name")->required();
  create->add_option("--org", f.org, "the user's organisation (name or id)");
  create->add_option("--role", f.role, "member (default), reviewer or admin")
      ->check(CLI::IsMember({"member", "reviewer", "admin"}));
  create->add_option("--expires", f.expires,
                     "when it stops working: 30d, 12h, 90m, 45s from now, or a date (2027-01-01)");
  create->add_option("--unix-user", f.unix_user,
                     "the Unix user its jobs run as (must exist on berthd's machine; not root)");
  on_run(create, ctx, [&ctx, &f] { return run_token_create(ctx, f); });
  CLI::App* list = token->add_subcommand(
      "list", "tokens (an admin's: all; anyone else's: their own); never the secrets");
  on_run(list, ctx, [&ctx] { return run_listing(ctx, "/v1/tokens", "tokens", render_tokens); });
  auto& revoked = ctx.make<std::string>();
  CLI::App* revoke = token->add_subcommand(
      "revoke", "revoke a token by its id (an admin any, anyone else their own)");
  revoke->add_option("id", revoked, "the token's id (tok_..., from token list)")->required();
  on_run(revoke, ctx, [&ctx, &revoked] { return run_token_revoke(ctx, revoked); });
}

void add_admin(CLI::App& app, Context& ctx) {
  CLI::App* admin = app.add_subcommand("admin", "centre administration");
  admin->require_subcommand(1);
  CLI::App* rotate = admin->add_subcommand(
      "rotate-token",
      "make a new admin token in berthd's state/admin.token and revoke the old one (admin)");
  on_run(rotate, ctx, [&ctx] { return run_rotate_admin_token(ctx); });
  auto& backup_file = ctx.make<std::string>();
  CLI::App* backup = admin->add_subcommand("backup",
                                           "copy berthd's database, as it is now, into FILE on "
                                           "this machine (admin); berthd keeps running");
  backup->add_option("file", backup_file, "the file to write (must not exist)")->required();
  on_run(backup, ctx, [&ctx, &backup_file] { return run_backup(ctx, backup_file); });
  add_node_cert_command(*admin, ctx);
  CLI::App* leader = admin->add_subcommand(
      "leader", "which berthd leads, since when, and the lease's epoch (admin)");
  on_run(leader, ctx, [&ctx] {
    BERTH_ASSIGN_OR_RETURN(json reply, ctx.get("/v1/admin/leader"));
    ctx.print(reply, render_leader(reply));
    return Status::Ok();
  });
}

}  // namespace

void add_admin_commands(CLI::App& app, Context& ctx) {
  add_org(app, ctx);
  add_project(app, ctx);
  add_token(app, ctx);
  add_admin(app, ctx);
  CLI::App* whoami = app.add_subcommand("whoami", "the user and role of the current token");
  on_run(whoami, ctx, [&ctx] { return run_whoami(ctx); });
  CLI::App* nodes = app.add_subcommand("nodes", "list nodes and their free GPUs");
  on_run(nodes, ctx, [&ctx] {
    return run_listing(ctx, "/v1/nodes", "nodes", [&ctx](const nlohmann::json& list) {
      return render_nodes(list, ctx.io().now_ms());
    });
  });

  struct NodeStateFlags {
    std::string state;
    std::string name;
    std::string reason;
  };
  auto& nf = ctx.make<NodeStateFlags>();
  CLI::App* node =
      app.add_subcommand("node", "change a node's state (admin): drain, down or resume");
  node->add_option("state", nf.state,
                   "drain (finish running jobs, take no new ones), down (end its jobs), resume")
      ->required()
      ->check(CLI::IsMember({"drain", "down", "resume", "up"}));
  node->add_option("name", nf.name, "node name")->required();
  node->add_option("--reason", nf.reason,
                   "why (kept with a drain or down, shown by `berth nodes`, audited)");
  on_run(node, ctx, [&ctx, &nf] {
    nlohmann::json body{{"state", nf.state}};
    if (!nf.reason.empty()) body["reason"] = nf.reason;
    BERTH_ASSIGN_OR_RETURN(auto reply, ctx.post("/v1/nodes/" + nf.name + "/state", body));
    const std::string state = reply.value("state", "?");
    std::string text = "Node " + nf.name + " is " + (state == "drain" ? "drained" : state);
    if (!reply.value("jobs_ended", nlohmann::json::array()).empty())
      text += "; jobs ended: " + reply["jobs_ended"].dump();
    ctx.print(reply, text + "\n");
    return Status::Ok();
  });
}

}  // namespace berth::cli
