// Bearer tokens. A token is 32 random bytes in hex; only its SHA-256 is stored. Each token has a
// public id ("tok_" and the first 12 hex digits of its hash) that names it in listings, the
// audit record and `berth token revoke`; it may expire and be revoked, and it may name the Unix
// user its jobs run as.
// Roles: admin (everything), member (one organisation's projects, jobs and money) and reviewer
// (a scheme's officer: reads schemes, awards and applications of every organisation, sets
// criteria, scores, approves and rejects; submits no job and moves no wallet money).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/enum_names.h"
#include "common/ids.h"
#include "common/status.h"

namespace berth::server {

enum class Role { kAdmin, kMember, kReviewer };
inline constexpr auto kRoleNames = enum_names<Role>(
    "role", {{Role::kAdmin, "admin"}, {Role::kMember, "member"}, {Role::kReviewer, "reviewer"}});
const char* role_name(Role r);  // "admin", "member", "reviewer"
bool parse_role(const std::string& text, Role* out);

struct Principal {
  std::string user;
  Role role = Role::kMember;
  OrgId org;              // for members
  std::string unix_user;  // the Unix user its jobs run as; "" for the configured default job user
  std::string token_id;   // the public id of the token it came from
  bool admin() const { return role == Role::kAdmin; }
  bool reviewer() const { return role == Role::kReviewer; }
  // Whether it reads every organisation's funding records (schemes, awards, applications).
  bool reads_funding() const { return role != Role::kMember; }
  bool sees(OrgId other) const { return admin() || org == other; }
};

std::string new_token();                           // 64 hex characters from the OS's random source
std::string token_hash(const std::string& token);  // SHA-256, hex

// The public id of the token with this hash.
std::string token_id_of_hash(const std::string& hash);

// One token as berthd keeps it: never the token itself.
struct TokenInfo {
  std::string id;  // token_id_of_hash(hash)
  std::string hash;
  Principal principal;
  int64_t created_ms = 0;
  std::string created_by;    // who made it; kBerthdCreator for the admin token in admin.token
  int64_t expires_ms = 0;    // 0: never
  int64_t revoked_ms = 0;    // 0: not revoked
  int64_t last_used_ms = 0;  // since berthd started (kept in memory only)
  bool expired(int64_t now_ms) const { return expires_ms != 0 && now_ms >= expires_ms; }
  bool live(int64_t now_ms) const { return revoked_ms == 0 && !expired(now_ms); }
  // Whether `who` may see and revoke it: an admin any token, anyone else their own (the same
  // user, role and organisation).
  bool visible_to(const Principal& who) const;
};
inline constexpr const char* kBerthdCreator = "berthd";

// Token hash -> its record; thread-safe (HTTP threads look up, the core thread changes).
class TokenTable {
 public:
  // Adds a token, or replaces the record with the same hash (keeping its last use).
  void put(const TokenInfo& info);
  // The principal of a live token, noting its use at now_ms. Unauthenticated otherwise, saying
  // why: "unknown token", "token revoked", "token expired at 2027-01-01T00:00:00Z".
  Result<Principal> find_token(const std::string& token, int64_t now_ms);
  // Every token, in the order first added.
  std::vector<TokenInfo> list() const;
  std::optional<TokenInfo> by_id(const std::string& id) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<TokenInfo> tokens_;
  std::unordered_map<std::string, size_t> by_hash_;
};

// A Unix user jobs may run as (a token's unix_user): it exists on this machine now, its uid is
// at least min_uid ([jobs] min_uid: not a system user), and it is not root unless allow_root.
// Errors are 400s that name the user. Looks the user up (NSS): never on the core thread.
Status check_job_user(const std::string& name, bool allow_root, int64_t min_uid);

}  // namespace berth::server
