// Bearer tokens. A token is 32 random bytes in hex; only its SHA-256 is stored.
// Roles: admin (everything), member (one organisation's projects, jobs and money) and reviewer
// (a scheme's officer: reads schemes, awards and applications of every organisation, sets
// criteria, scores, approves and rejects; submits no job and moves no wallet money).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/ids.h"

namespace berth::server {

enum class Role { kAdmin, kMember, kReviewer };
const char* role_name(Role r);                          // "admin", "member", "reviewer"
bool parse_role(const std::string& text, Role* out);

struct Principal {
  std::string user;
  Role role = Role::kMember;
  OrgId org;  // for members
  bool admin() const { return role == Role::kAdmin; }
  bool reviewer() const { return role == Role::kReviewer; }
  // Whether it reads every organisation's funding records (schemes, awards, applications).
  bool reads_funding() const { return role != Role::kMember; }
  bool sees(OrgId other) const { return admin() || org == other; }
};

std::string new_token();                        // 64 hex characters from the OS's random source
std::string token_hash(const std::string& token);  // SHA-256, hex

// Token hash -> principal; thread-safe (HTTP threads look up, the core thread adds).
class TokenTable {
 public:
  void add(const std::string& hash, const Principal& p);
  std::optional<Principal> find_token(const std::string& token) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, Principal> by_hash_;
};

}  // namespace berth::server
