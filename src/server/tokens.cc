// API tokens on the core thread: issue, list, revoke, rotate the admin token, and the admin
// token berthd makes at start (docs/api.md, "Tokens"). Each change is written to the store's
// tokens table before the token table the HTTP threads read is changed, and audited through
// the Engine (Engine::record_access), so it is in the one audit record with the rest.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/civil.h"
#include "common/timefmt.h"
#include "server/daemon.h"
#include "server/log.h"
#include "server/lookups.h"
#include "server/request_fields.h"
#include "server/routes.h"
#include "server/views.h"

namespace berth::server {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxExpiryDays = 3650;
constexpr int kMaxIdDraws = 16;  // new tokens drawn until one's public id is not taken

store::TokenRow to_row(const TokenInfo& t) {
  return {t.hash,
          t.principal.user,
          role_name(t.principal.role),
          t.principal.org.value,
          t.created_ms,
          t.created_by,
          t.expires_ms,
          t.revoked_ms,
          t.principal.unix_user};
}

TokenInfo from_row(const store::TokenRow& r) {
  TokenInfo t;
  t.hash = r.token_hash;
  t.id = token_id_of_hash(r.token_hash);
  Role role =
      Role::kMember;  // a role this berth does not know reads as a member of no organisation
  if (!parse_role(r.role, &role)) role = Role::kMember;
  t.principal = Principal{r.user, role, OrgId(r.org_id), r.unix_user, t.id};
  t.created_ms = r.created_ms;
  t.created_by = r.created_by;
  t.expires_ms = r.expires_ms;
  t.revoked_ms = r.revoked_ms;
  return t;
}

// When a new token stops working: "30d", "12h", "90m", "45s" from now, or a date or time
// ("2027-01-01", "2027-01-01T12:00:00Z"). Later than now, and at most ten years ahead.
Result<int64_t> expiry_ms(const std::string& text, int64_t now_ms) {
  int64_t at_ms = 0;
  const size_t digits = text.find_first_not_of("0123456789");
  if (digits != std::string::npos && digits > 0 && digits <= 6 && digits + 1 == text.size()) {
    const int64_t n = std::stoll(text.substr(0, digits));
    int64_t unit_ms = 0;
    switch (text.back()) {
      case 's':
        unit_ms = kMsPerSecond;
        break;
      case 'm':
        unit_ms = kMsPerMinute;
        break;
      case 'h':
        unit_ms = kMsPerHour;
        break;
      case 'd':
        unit_ms = kMsPerDay;
        break;
      default:
        break;
    }
    if (unit_ms == 0 || n == 0)
      return Status::Invalid("field 'expires': '" + text +
                             "' is not a duration such as 30d, 12h, 90m or 45s");
    if (n > kMaxExpiryDays * kMsPerDay / unit_ms)
      return Status::Invalid("field 'expires' is more than ten years ahead");
    at_ms = now_ms + n * unit_ms;
  } else {
    auto t = parse_time_ms(text);
    if (!t.ok())
      return Status::Invalid(
          "field 'expires' must be a duration (30d, 12h, 90m, 45s) or a date (2027-01-01): " +
          t.status().message());
    at_ms = *t;
  }
  if (at_ms <= now_ms)
    return Status::Invalid("field 'expires': " + format_time_ms(at_ms) + " has already passed");
  if (at_ms > now_ms + kMaxExpiryDays * kMsPerDay)
    return Status::Invalid("field 'expires' is more than ten years ahead");
  return at_ms;
}

json token_view(const core::Engine& e, const TokenInfo& t, int64_t now_ms) {
  json out = {{"id", t.id},
              {"user", t.principal.user},
              {"role", role_name(t.principal.role)},
              {"org_id", t.principal.org.value},
              {"unix_user", t.principal.unix_user},
              {"created", time_json(t.created_ms)},
              {"created_by", t.created_by},
              {"expires", time_json(t.expires_ms)},
              {"revoked", time_json(t.revoked_ms)},
              {"last_used", time_json(t.last_used_ms)},
              {"state", t.revoked_ms        ? "revoked"
                        : t.expired(now_ms) ? "expired"
                                            : "active"}};
  if (const core::Org* o = e.funding().org(t.principal.org)) out["org"] = o->name;
  return out;
}

// Writes `token` to `path` (mode 0600) through a temporary file renamed over it, so that the
// file holds the old token or the new one, never part of one.
Status write_secret(const std::string& path, const std::string& token) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Status::Internal("cannot write " + tmp);
  fchmod(fd, 0600);
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write " + path);
  }
  return Status::Ok();
}

std::string read_secret(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  return token;
}

}  // namespace

Result<Daemon::NewToken> Daemon::mint_token(const Principal& principal,
                                            const std::string& created_by, int64_t expires_ms,
                                            int64_t now_ms) const {
  for (int draw = 0; draw < kMaxIdDraws; ++draw) {
    NewToken n;
    n.secret = new_token();
    n.info.hash = token_hash(n.secret);
    n.info.id = token_id_of_hash(n.info.hash);
    if (tokens_.by_id(n.info.id)) continue;  // 48 bits: a clash is rare, but ids must be unique
    n.info.principal = principal;
    n.info.principal.token_id = n.info.id;
    n.info.created_ms = now_ms;
    n.info.created_by = created_by;
    n.info.expires_ms = expires_ms;
    return n;
  }
  return Status::Internal("cannot draw a token with an unused id");
}

Status Daemon::save_tokens(const std::vector<TokenInfo>& changed) {
  std::vector<store::TokenRow> rows;
  for (const TokenInfo& t : changed) rows.push_back(to_row(t));
  BERTH_RETURN_IF_ERROR(core_->store().put_tokens(rows));
  for (const TokenInfo& t : changed) tokens_.put(t);
  return Status::Ok();
}

// Replaces the admin token of admin.token: a new one made by berthd, and every live one berthd
// made before revoked, in one store transaction; then the file. Returns the new token and the
// ids revoked.
Result<Daemon::NewToken> Daemon::replace_admin_token(int64_t now_ms,
                                                     std::vector<std::string>* revoked) {
  BERTH_ASSIGN_OR_RETURN(
      auto made, mint_token(Principal{"admin", Role::kAdmin, OrgId()}, kBerthdCreator, 0, now_ms));
  std::vector<TokenInfo> changed = {made.info};
  for (TokenInfo t : tokens_.list()) {
    if (t.created_by != kBerthdCreator || !t.principal.admin() || t.revoked_ms != 0) continue;
    t.revoked_ms = now_ms;
    revoked->push_back(t.id);
    changed.push_back(std::move(t));
  }
  // The file is written last: if the store refuses, nothing changed; if the file cannot be
  // written after the store took the new token, the old file is there and the next start,
  // finding it no longer valid, makes a fresh one.
  BERTH_RETURN_IF_ERROR(save_tokens(changed));
  BERTH_RETURN_IF_ERROR(write_secret(admin_token_path(), made.secret));
  return made;
}

// At start: the tokens from the store, and an admin token in admin.token that works. On the
// first start it is made; when the file is missing or holds a token that no longer works (lost,
// revoked, expired), the admin tokens berthd made before are revoked and a new one is written:
// the documented recovery for a lost admin token, which never leaves a second one working.
Status Daemon::ensure_admin_token() {
  BERTH_ASSIGN_OR_RETURN(auto rows, core_->store().tokens());
  for (const store::TokenRow& r : rows) tokens_.put(from_row(r));
  const int64_t now = now_ms();
  const std::string path = admin_token_path();
  const std::string current = fs::exists(path) ? read_secret(path) : "";
  if (!current.empty()) {
    auto who = tokens_.find_token(current, now);
    if (who.ok() && who->admin()) return Status::Ok();
  }
  bool berthd_made_one = false;
  for (const TokenInfo& t : tokens_.list()) berthd_made_one |= t.created_by == kBerthdCreator;
  // Berthds sharing a store share the admin token: one that takes over never revokes the token
  // its peers hold. Its operator copies admin.token from the berthd that made it.
  if (berthd_made_one && leadership_ != nullptr && leadership_->store_kind() != "sqlite") {
    log_warning(path + (current.empty() ? " is missing" : " holds a token that does not work") +
                ": copy admin.token from the berthd that first led (docs/high-availability.md)");
    return Status::Ok();
  }
  std::vector<std::string> revoked;
  BERTH_ASSIGN_OR_RETURN(auto made, replace_admin_token(now, &revoked));
  std::string ids;
  for (const std::string& id : revoked) ids += (ids.empty() ? "" : ", ") + id;
  core::Engine& engine = core_->engine();
  if (!berthd_made_one) {
    engine.record_access(core::Engine::AccessAction::kTokenCreate, "token " + made.info.id,
                         "the first admin token, written to " + path, now);
    log_info("admin token written to " + path);
  } else {
    const std::string why =
        current.empty() ? path + " was missing" : path + " held a token that no longer works";
    engine.record_access(core::Engine::AccessAction::kAdminTokenRecover, "token " + made.info.id,
                         why + "; revoked " + (ids.empty() ? "none" : ids), now);
    log_warning(why + ": revoked the old admin token(s) (" + (ids.empty() ? "none live" : ids) +
                ") and wrote a new one to " + path);
  }
  return core_->commit_changes();
}

Reply Daemon::create_token(Call& call) {
  const json& b = call.body;
  auto user = name_field(b, "user", true);
  if (!user.ok()) return error_reply(user.status());
  auto role_text = str_field(b, "role", false, "member");
  if (!role_text.ok()) return error_reply(role_text.status());
  Role role = Role::kMember;
  if (!parse_role(*role_text, &role))
    return error_reply(
        Status::Invalid("role must be member, reviewer or admin, got '" + *role_text + "'"));
  if (user->empty() || user->size() > 64)
    return error_reply(Status::Invalid("user must be 1 to 64 characters"));
  OrgId org;
  if (role == Role::kMember) {
    if (!b.contains("org"))
      return error_reply(Status::Invalid("field 'org' is required for a member"));
    auto o = find_org(call.engine, b["org"], call.who);
    if (!o.ok()) return error_reply(o.status());
    org = (*o)->id;
  }
  int64_t expires = 0;
  if (b.contains("expires") && !b["expires"].is_null()) {
    auto text = str_field(b, "expires", true);
    if (!text.ok()) return error_reply(text.status());
    auto at = expiry_ms(*text, call.now_ms);
    if (!at.ok()) return error_reply(at.status());
    expires = *at;
  }
  auto unix_user = str_field(b, "unix_user", false);
  if (!unix_user.ok()) return error_reply(unix_user.status());
  if (!unix_user->empty())
    if (auto st = check_job_user(*unix_user, config_.allow_root_jobs, config_.min_job_uid);
        !st.ok())
      return error_reply(st);
  auto made =
      mint_token(Principal{*user, role, org, *unix_user, ""}, call.who.user, expires, call.now_ms);
  if (!made.ok()) return error_reply(made.status());
  if (auto st = save_tokens({made->info}); !st.ok()) return error_reply(st);
  std::string note = "user " + *user + ", role " + *role_text;
  if (org.valid()) note += ", org " + std::to_string(org.value);
  if (expires) note += ", expires " + format_time_ms(expires);
  if (!unix_user->empty()) note += ", unix user " + *unix_user;
  call.engine.record_access(core::Engine::AccessAction::kTokenCreate, "token " + made->info.id,
                            note, call.now_ms);
  json out = token_view(call.engine, made->info, call.now_ms);
  out["token"] = made->secret;
  return {201, out};
}

Reply Daemon::list_tokens(Call& call) const {
  json list = json::array();
  for (const TokenInfo& t : tokens_.list())
    if (t.visible_to(call.who)) list.push_back(token_view(call.engine, t, call.now_ms));
  return {200, json{{"tokens", list}}};
}

Reply Daemon::revoke_token(Call& call) {
  const std::string id = call.param(1);
  std::optional<TokenInfo> t = tokens_.by_id(id);
  if (!t || !t->visible_to(call.who))
    return error_reply(Status::NotFound("token '" + id + "' not found"));
  json out;
  if (t->revoked_ms != 0) {
    // Already revoked (a retried request): nothing changes, and the first revocation stands.
    out = token_view(call.engine, *t, call.now_ms);
    out["replayed"] = true;
    return {200, out};
  }
  t->revoked_ms = call.now_ms;
  if (auto st = save_tokens({*t}); !st.ok()) return error_reply(st);
  call.engine.record_access(core::Engine::AccessAction::kTokenRevoke, "token " + t->id,
                            "user " + t->principal.user + ", role " + role_name(t->principal.role),
                            call.now_ms);
  out = token_view(call.engine, *t, call.now_ms);
  out["replayed"] = false;
  return {200, out};
}

Reply Daemon::rotate_admin_token(Call& call) {
  std::vector<std::string> revoked;
  auto made = replace_admin_token(call.now_ms, &revoked);
  if (!made.ok()) return error_reply(made.status());
  std::string ids;
  for (const std::string& id : revoked) ids += (ids.empty() ? "" : ", ") + id;
  call.engine.record_access(core::Engine::AccessAction::kAdminTokenRotate, "token " + made->info.id,
                            "revoked " + (ids.empty() ? "none" : ids), call.now_ms);
  log_info("admin token rotated by " + call.who.user + "; revoked " + (ids.empty() ? "none" : ids));
  json out = token_view(call.engine, made->info, call.now_ms);
  out["token"] = made->secret;
  out["path"] = admin_token_path();
  out["revoked_ids"] = revoked;
  return {201, out};
}

// The Unix user a token's jobs run as must exist now and not be a system user; root only where
// the centre allows root jobs ([jobs] allow_root).
Status check_job_user(const std::string& name, bool allow_root, int64_t min_uid) {
  if (name.size() > 64) return Status::Invalid("field 'unix_user' is longer than 64 characters");
  for (unsigned char ch : name)
    if (!std::isalnum(ch) && ch != '_' && ch != '-' && ch != '.' && ch != '$')
      return Status::Invalid("field 'unix_user': '" + name + "' is not a Unix user name");
  struct passwd pw;
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return Status::Invalid("field 'unix_user': no Unix user '" + name + "' on this machine");
  if (found->pw_uid == 0) {
    if (allow_root) return Status::Ok();
    return Status::Invalid("field 'unix_user': jobs may not run as root ('" + name +
                           "') unless [jobs] allow_root = true");
  }
  if (found->pw_uid < min_uid)
    return Status::Invalid("unix_user '" + name + "' is a system user (uid " +
                           std::to_string(found->pw_uid) + " < [jobs] min_uid " +
                           std::to_string(min_uid) + ")");
  return Status::Ok();
}

}  // namespace berth::server
